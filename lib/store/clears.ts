/**
 * Clears: the cluster-wide `clear()` writes a store remembers for a while.
 *
 * A clear is a versioned write like a delete, but of every key starting
 * with its prefix (`''`: every key). Applying it drops each live entry,
 * tombstone and stale value of the prefix whose version is below the
 * clear's; while the clear is held, a write of a matching key with a version
 * not above it is stale. So a late write from before the clear cannot
 * survive it, and writes made after it (in version order) do.
 *
 * Like a tombstone, a clear is kept for `deletionDelayMs` after it is
 * applied (the same grace contract, DESIGN.md invariant 2), in a `Map` in
 * purge order, and counted against its write origin so anti-entropy sends it
 * to a peer lacking it. Only the newest clear of each prefix is kept; an
 * older one of the same prefix is superseded (its seq stays covered).
 *
 * Cost: {@link Clears.covering} is one size check when no clear is held;
 * otherwise one map lookup per distinct prefix length held (clears are rare,
 * so that is a handful). Applying a clear is one pass over the store.
 */
import type { Entry } from './entry.js'
import type { OriginHolds } from './tombstones.js'
import { compareVersions } from './version.js'

interface Held {
  entry: Entry
  purgeAtMs: number
}

/** The newest clear per prefix, purged oldest first once their delay has passed. */
export class Clears {
  /** Insertion order = purge order (as in tombstones.ts). */
  private readonly byPrefix = new Map<string, Held>()
  /** Prefix length → how many held prefixes have it. */
  private readonly lengths = new Map<number, number>()

  /** @param deletionDelayMs - how long a clear is kept after it is applied. */
  constructor(private readonly deletionDelayMs: number, private readonly origins: OriginHolds) {}

  /** Clears held. */
  get size(): number {
    return this.byPrefix.size
  }

  /** The clear held for exactly `prefix`, if any. */
  get(prefix: string): Entry | undefined {
    return this.byPrefix.get(prefix)?.entry
  }

  /** The newest clear whose prefix `key` starts with (the key itself may be a prefix), if any. */
  covering(key: string): Entry | undefined {
    if (this.byPrefix.size === 0) return undefined
    let best: Entry | undefined
    for (const len of this.lengths.keys()) {
      if (len > key.length) continue
      const c = this.byPrefix.get(len === key.length ? key : key.slice(0, len))?.entry
      if (c !== undefined && (best === undefined || compareVersions(c.version, best.version) > 0)) best = c
    }
    return best
  }

  /** Keeps `entry` (a clear) as its prefix's clear until `nowMs + deletionDelayMs`. */
  set(entry: Entry, nowMs: number): void {
    this.delete(entry.key) // re-insert at the back: purge order
    this.byPrefix.set(entry.key, { entry, purgeAtMs: nowMs + this.deletionDelayMs })
    this.lengths.set(entry.key.length, (this.lengths.get(entry.key.length) ?? 0) + 1)
    this.origins.hold(entry.version.origin, nowMs)
  }

  /** Drops clears whose delay has passed at `nowMs`, oldest first, at most `budget`; returns how many. */
  purge(nowMs: number, budget: number): number {
    let dropped = 0
    for (const [prefix, h] of this.byPrefix) {
      if (dropped >= budget || h.purgeAtMs > nowMs) break
      this.delete(prefix)
      dropped++
    }
    return dropped
  }

  /** The clear entries, oldest first. */
  *entries(): IterableIterator<Entry> {
    for (const h of this.byPrefix.values()) yield h.entry
  }

  /** Forgets every clear. */
  clear(): void {
    this.byPrefix.clear()
    this.lengths.clear()
  }

  private delete(prefix: string): void {
    const h = this.byPrefix.get(prefix)
    if (h === undefined) return
    this.byPrefix.delete(prefix)
    const n = this.lengths.get(prefix.length)! - 1
    if (n === 0) this.lengths.delete(prefix.length)
    else this.lengths.set(prefix.length, n)
    this.origins.release(h.entry.version.origin)
  }
}
