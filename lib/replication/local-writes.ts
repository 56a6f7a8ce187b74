/**
 * The local write path: stamp a version, number the write, encode the
 * delta once, apply it to the store and hand it to the eager push.
 *
 * - The version is above whatever this node holds for the key (HLC
 *   `tickAbove`): a write `set` accepted is visible locally, always, even
 *   when a peer's far-ahead clock wrote the key last (invariant 11).
 * - The stored value is not the caller's object but its encoded bytes,
 *   decoded on first read: the writer reads exactly what its peers read, and
 *   mutating the object after `set` changes nothing (invariant 12). A
 *   primitive (string, number, boolean, null) cannot be mutated and
 *   round-trips exactly (the codec refuses what would not), so it is kept as
 *   given (`primitive`): no decode, and the writer's reads share it.
 * - The store is handed the caller's encoded bytes as they are (often a
 *   view into the encoder's scratch space, valid until the next encode):
 *   it keeps a scalar decoded and an object's bytes as a copy, never the
 *   view (versioned-store.ts), so no second buffer is made per write.
 * - A clear (store/clears.ts) is numbered and pushed like any write; its
 *   version is above every version held for a key of its prefix, so every
 *   such key vanishes here at once. Its gossip subject is the prefix behind
 *   a lone surrogate, which no user key holds (api-checks.ts), so a write of
 *   a key never displaces a clear in the gossip queue.
 */
import type { Clock } from '../clock.js'
import { compareVersions, type HybridClock, type Version } from '../store/version.js'
import { NOT_DECODED, type Entry, type VersionedStore } from '../store/versioned-store.js'
import { KIND_CLEAR, encodeDelta } from './delta.js'
import type { EagerPush } from './eager-push.js'
import type { ReplicationCounters } from './replication-stats.js'
import type { ValueWaiters } from './waiters.js'

export interface LocalWriterComponents {
  store: VersionedStore
  clock: Clock
  hlc: HybridClock
  push: EagerPush
  waiters: ValueWaiters
  stats: ReplicationCounters
  /** This process's write origin (write-origin.ts). */
  origin: string
  /** Invalidation mode: the delta carries no value (invalidation.ts). */
  invalidate?: boolean
  /** Partition mode: the version of a key known here but not stored (partition.ts); a write stamps above it too. */
  floor?: ((key: string) => Version | undefined) | undefined
}

export class LocalWriter {
  constructor(private readonly c: LocalWriterComponents) {}

  /**
   * A local write of `bytes` (encoded value), or a delete when `bytes` is
   * undefined. Visible locally at once; pushed at the end of this turn.
   * `bytes` is copied before this returns, or not kept (it may be a transient encoder buffer).
   * `nowMs`: the clock reading the caller already made for this write.
   * Returns the write's encoded delta (the bytes the eager push sends; do not change them).
   */
  write(key: string, bytes: Buffer | undefined, expiresAt: number, primitive: unknown = NOT_DECODED, nowMs?: number): Buffer {
    const { store, origin } = this.c
    const now = nowMs ?? this.c.clock.now() // the caller's reading saves a clock call on the hot path
    const { wall, counter } = this.c.hlc.tickAbove(now, this.c.floor === undefined ? store.versionFloor(key) : newest(store.versionFloor(key), this.c.floor(key)))
    const version = { wall, counter, origin }
    const seq = store.nextSeq(origin)
    const delta = encodeDelta(key, this.c.invalidate === true ? undefined : bytes, version, seq, this.c.invalidate === true ? 0 : expiresAt)
    const tombstone = bytes === undefined
    const entry: Entry = { key, bytes: tombstone ? EMPTY : bytes, value: tombstone ? undefined : primitive, version, seq, expiresAt, tombstone }
    store.apply(entry, now)
    if (!tombstone && this.c.waiters.has(key)) this.c.waiters.wake(key, store.get(key, () => this.c.clock.now()))
    this.c.stats.deltasOut++
    this.c.push.add(delta, key)
    return delta
  }

  /** A local clear of every key starting with `prefix` (`''`: every key); see the file comment. */
  clear(prefix: string): void {
    const { store, origin } = this.c
    const now = this.c.clock.now()
    const { wall, counter } = this.c.hlc.tickAbove(now, store.newestWithPrefix(prefix))
    const version = { wall, counter, origin }
    const seq = store.nextSeq(origin)
    const delta = encodeDelta(prefix, undefined, version, seq, 0, KIND_CLEAR)
    store.apply({ key: prefix, bytes: EMPTY, value: undefined, version, seq, expiresAt: 0, tombstone: true, clear: true }, now)
    this.c.stats.deltasOut++
    this.c.push.add(delta, CLEAR_SUBJECT + prefix)
  }
}

/** Gossip subject prefix of clears: a lone surrogate, which no user key contains. */
const CLEAR_SUBJECT = '\uD800clear:'

const EMPTY = Buffer.alloc(0)

function newest(a: Version | undefined, b: Version | undefined): Version | undefined {
  if (a === undefined || b === undefined) return a ?? b
  return compareVersions(a, b) >= 0 ? a : b
}
