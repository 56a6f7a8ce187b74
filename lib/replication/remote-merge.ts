/**
 * Where writes from peers come in: datagram payloads, push-stream batches
 * and anti-entropy batches all end in {@link RemoteMerge.accept}, which
 * applies them last-writer-wins, lifts the hybrid clock, and wakes whoever
 * waits for the key.
 *
 * A delta that breaks a rule (undecodable, or a value over this node's
 * `maxValueBytes`) is skipped and counted; the rest of its datagram or batch
 * still applies (DESIGN.md invariant 8). A value refused for its size is
 * still recorded as seen — and its origin marked lossy — so that peers do
 * not send it again every round, and nobody adopts our coverage of it.
 */
import type { Clock } from '../clock.js'
import type { DropCounts } from '../drop-counts.js'
import type { HybridClock } from '../store/version.js'
import { NOT_DECODED, type Entry, type VersionedStore } from '../store/versioned-store.js'
import { DecodeError } from '../wire/decode-error.js'
import { decodeBatch, decodeDelta, type Delta } from './delta.js'
import type { ReplicationCounters } from './replication-stats.js'
import type { ValueWaiters } from './waiters.js'

export interface RemoteMergeComponents {
  store: VersionedStore
  clock: Clock
  hlc: HybridClock
  waiters: ValueWaiters
  stats: ReplicationCounters
  drops: DropCounts
  /** Called after a peer's write changed the store (`tombstone`: a delete); for the facade's events. */
  onApplied?: ((key: string, tombstone: boolean) => void) | undefined
  /** Invalidation mode: every delta is applied as its invalidation, values never kept (invalidation.ts). */
  invalidate?: boolean
  /** Partition mode: takes a delta of a key this node does not own (true: handled, not stored; partition.ts). */
  passing?: ((d: Delta, stored: boolean) => boolean) | undefined
}

export class RemoteMerge {
  constructor(
    private readonly c: RemoteMergeComponents,
    /** Largest value accepted from a peer, in bytes (undefined: no bound beyond the frame's). */
    private readonly maxValueBytes: number | undefined
  ) {}

  /** A delta piggybacked on, or pushed in, a datagram; returns its key if it decoded (applied or not). */
  acceptPayload(payload: Buffer): string | undefined {
    let d: Delta
    try {
      d = decodeDelta(payload)
    } catch (err) {
      this.c.drops.count(err instanceof DecodeError ? `delta-${err.reason}` : 'delta')
      return undefined
    }
    this.accept(d)
    return d.key
  }

  /** A batch of deltas (a push-stream frame, or an anti-entropy frame from `start`); returns how many it held. */
  acceptBatch(data: Buffer, start = 0, prefix = 'push', stored = false, seen?: (key: string, version: Delta['version']) => void): number {
    let deltas: Delta[]
    try {
      deltas = decodeBatch(data, start, (reason) => this.c.drops.count(`${prefix}-delta-${reason}`))
    } catch (err) {
      this.c.drops.count(err instanceof DecodeError ? `${prefix}-${err.reason}` : prefix)
      return 0
    }
    for (const d of deltas) {
      this.accept(d, stored)
      seen?.(d.key, d.version)
    }
    return deltas.length
  }

  /**
   * Applies one delta from a peer unless it breaks a local limit. `stored`:
   * keep it whoever owns its key (partition mode's segment rounds and reads,
   * which send a node what it owns by the sender's view).
   */
  accept(d: Delta, stored = false): void {
    if (this.c.invalidate === true && d.bytes !== undefined) d = { ...d, bytes: undefined, expiresAt: 0 }
    const now = this.c.clock.now()
    if (this.maxValueBytes !== undefined && d.bytes !== undefined && d.bytes.length > this.maxValueBytes) {
      this.c.drops.count('value-too-large')
      this.c.store.refuse(d.version.origin, d.seq, now)
      return
    }
    this.c.stats.deltasIn++
    this.c.hlc.observe(d.version.wall, d.version.counter)
    if (this.c.passing?.(d, stored) === true) return
    const tombstone = d.bytes === undefined
    const entry: Entry = {
      key: d.key,
      // A view into the whole datagram or frame: the store copies what it
      // keeps (a scalar decoded, an object's bytes as a string), never the view.
      bytes: tombstone ? EMPTY : d.bytes!,
      value: tombstone ? undefined : NOT_DECODED,
      version: d.version,
      seq: d.seq,
      expiresAt: d.expiresAt,
      tombstone
    }
    if (d.clear === true) entry.clear = true
    const result = this.c.store.apply(entry, now)
    if (result === 'applied') {
      this.c.stats.applied++
      this.c.stats.lagMs.observe(now - d.version.wall) // replication lag (negatives count as 0)
      if (!tombstone && this.c.waiters.has(d.key)) this.c.waiters.wake(d.key, this.c.store.get(d.key, () => this.c.clock.now()))
      if (d.clear !== true) this.c.onApplied?.(d.key, tombstone)
    } else if (result === 'stale') {
      this.c.stats.stale++
    } else if (result === 'duplicate') {
      this.c.stats.duplicates++
    }
  }
}

const EMPTY = Buffer.alloc(0)
