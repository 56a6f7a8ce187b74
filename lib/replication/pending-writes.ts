/**
 * Partition mode's hand-off list: this node's own writes of keys it does not
 * own, from the write until every owner acknowledged it in a segment round
 * (partition-repair.ts). Kept apart from the store so that they never take
 * an owned key's place in the LRU, and bounded: past {@link MAX_PENDING}
 * the oldest is dropped (counted `handoff-overflow`), and its eager push is
 * then its only delivery.
 */
import type { DropCounts } from '../drop-counts.js'
import type { Entry } from '../store/entry.js'
import { NOT_DECODED } from '../store/entry.js'
import { decodeValue } from '../store/value-codec.js'
import { compareVersions, type Version } from '../store/version.js'

/** Most writes waiting for the hand-off. */
export const MAX_PENDING = 100_000

export class PendingWrites {
  /** Insertion order: the oldest first. */
  private readonly byKey = new Map<string, Entry>()

  constructor(private readonly drops: DropCounts) {}

  get size(): number {
    return this.byKey.size
  }

  /** Holds `e` (a write of this node) until {@link delivered}; replaces an older one of its key. */
  add(e: Entry): void {
    this.byKey.delete(e.key) // re-inserted at the back
    this.byKey.set(e.key, e)
    if (this.byKey.size > MAX_PENDING) {
      const [oldest] = this.byKey.keys()
      this.byKey.delete(oldest!)
      this.drops.count('handoff-overflow')
    }
  }

  /** The writes waiting, oldest first. */
  values(): IterableIterator<Entry> {
    return this.byKey.values()
  }

  /** Every owner acknowledged `entries`; returns how many left the list (a newer write of a key stays). */
  delivered(entries: readonly Entry[]): number {
    let n = 0
    for (const e of entries) {
      if (this.byKey.get(e.key) !== e) continue
      this.byKey.delete(e.key)
      n++
    }
    return n
  }

  /** Forgets the write waiting for `key` (a newer local write replaces it). */
  drop(key: string): void {
    if (this.byKey.size !== 0) this.byKey.delete(key)
  }

  /** A newer write of `key` than ours passed: ours is superseded. */
  superseded(key: string, by: Version): void {
    const own = this.byKey.size === 0 ? undefined : this.byKey.get(key)
    if (own !== undefined && compareVersions(own.version, by) < 0) this.byKey.delete(key)
  }

  /** A clear of `prefix` at `version` (any version when undefined: a local clear, newer than every write here) supersedes the writes of its keys. */
  clearPrefix(prefix: string, version?: Version): void {
    for (const [key, e] of this.byKey) {
      if (key.startsWith(prefix) && (version === undefined || compareVersions(e.version, version) < 0)) this.byKey.delete(key)
    }
  }

  /** The value of the write waiting for `key`, unless a delete or expired at `nowMs`. */
  value(key: string, nowMs: number): unknown {
    const e = this.byKey.size === 0 ? undefined : this.byKey.get(key)
    if (e === undefined || e.tombstone || (e.expiresAt !== 0 && nowMs >= e.expiresAt)) return undefined
    return e.value === NOT_DECODED ? decodeValue(e.bytes) : e.value
  }

  /** The write waiting for `key`, if any. */
  entryOf(key: string): Entry | undefined {
    return this.byKey.size === 0 ? undefined : this.byKey.get(key)
  }

  /** The version of the write waiting for `key`, if any. */
  versionOf(key: string): Version | undefined {
    return this.byKey.size === 0 ? undefined : this.byKey.get(key)?.version
  }
}
