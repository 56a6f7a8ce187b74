/**
 * Tombstones: the deletes a store remembers for a while.
 *
 * A delete is a versioned entry like any write. Its tombstone is kept for
 * `deletionDelayMs` after it is applied, long enough for every older write
 * still in flight (gossip retransmissions, anti-entropy rounds) to arrive
 * and lose against it; after that it is forgotten, and a write older than
 * the delete that turns up only then could bring the key back (the grace
 * period is the contract; DESIGN.md invariant 2).
 *
 * The set is a `Map` in insertion order. Replacing a key's tombstone moves
 * it to the back, so with a non-decreasing `nowMs` the order is the order of
 * purge deadlines and {@link Tombstones.purge} only ever looks at the front:
 * O(due) work, no scan. If `nowMs` went backward between inserts, a due
 * tombstone can wait behind one that is not due yet; that only delays
 * freeing its memory.
 *
 * The same set keeps **expiry markers**: an expired write (a tombstone entry
 * with `expiresAt !== 0`, never created by a delete) kept for the same
 * delay, so that an older write arriving late cannot come back after the
 * newer one expired. They are counted apart ({@link Tombstones.markers}).
 * Each entry held is counted against its write origin through `origins`.
 */
import type { Entry } from './entry.js'

/** A deleted key's tombstone and when it may go. */
interface Tomb {
  entry: Entry
  purgeAtMs: number
}

/** Who counts the entries held per write origin (the store's `OriginIndex`). */
export interface OriginHolds {
  hold(origin: string, nowMs: number): void
  release(origin: string): void
}

const NO_HOLDS: OriginHolds = { hold: () => {}, release: () => {} }

/** Tombstones by key, purged oldest first once their delay has passed. */
export class Tombstones {
  /** Insertion order = purge order (see the file comment). */
  private readonly byKey = new Map<string, Tomb>()
  /** Entries of `byKey` that are expiry markers. */
  private markerCount = 0

  /** @param deletionDelayMs - how long a tombstone is kept after it is applied. */
  constructor(private readonly deletionDelayMs: number, private readonly origins: OriginHolds = NO_HOLDS) {}

  /** Number of tombstones held, expiry markers included. */
  get size(): number {
    return this.byKey.size
  }

  /** Number of expiry markers held. */
  get markers(): number {
    return this.markerCount
  }

  /** The tombstone for `key`, if any. */
  get(key: string): Entry | undefined {
    return this.byKey.size === 0 ? undefined : this.byKey.get(key)?.entry
  }

  /**
   * Keeps `entry` (a tombstone) as its key's tombstone until `nowMs +
   * deletionDelayMs`; returns the tombstone it replaced, if any.
   */
  set(entry: Entry, nowMs: number): Entry | undefined {
    const old = this.delete(entry.key) // re-insert at the back: purge order
    this.byKey.set(entry.key, { entry, purgeAtMs: nowMs + this.deletionDelayMs })
    this.origins.hold(entry.version.origin, nowMs)
    if (entry.expiresAt !== 0) this.markerCount++
    return old
  }

  /** Forgets `key`'s tombstone (a newer write replaced it); returns the entry it held. */
  delete(key: string): Entry | undefined {
    const t = this.byKey.get(key)
    if (t === undefined) return undefined
    this.byKey.delete(key)
    this.gone(t.entry)
    return t.entry
  }

  /**
   * Drops tombstones whose delay has passed at `nowMs`, oldest first,
   * looking at no more than `budget` of them; `onPurge` sees each one.
   * Returns how many were dropped.
   */
  purge(nowMs: number, budget: number, onPurge?: (entry: Entry) => void): number {
    let dropped = 0
    for (const [key, t] of this.byKey) {
      if (dropped >= budget || t.purgeAtMs > nowMs) break
      this.byKey.delete(key)
      this.gone(t.entry)
      onPurge?.(t.entry)
      dropped++
    }
    return dropped
  }

  /** The tombstone entries, oldest first. */
  *entries(): IterableIterator<Entry> {
    for (const t of this.byKey.values()) yield t.entry
  }

  /** Forgets every tombstone. */
  clear(): void {
    this.byKey.clear()
    this.markerCount = 0
  }

  private gone(t: Entry): void {
    this.origins.release(t.version.origin)
    if (t.expiresAt !== 0) this.markerCount--
  }
}
