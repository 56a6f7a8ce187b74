/**
 * When keys with a TTL expire: a binary min-heap of `(expiresAt, slot)`, so
 * purging costs O(due · log n) however many TTL keys there are — an expired
 * entry is reclaimed at any rate a node can write (DESIGN.md invariant 10).
 *
 * Deletion is lazy: an overwrite or a delete leaves the old item in the heap,
 * and {@link ExpiryQueue.popDue} skips items the caller reports as no longer
 * current. So that lazily dead items (a key overwritten many times with a far
 * expiry) cannot pile up, the heap is rebuilt from the current items when it
 * holds more than twice `live()` plus a slack.
 *
 * Items are numbers (the store's slot numbers, slots.ts) kept in two typed
 * arrays, 12 bytes an item instead of an object each. A slot freed and
 * reused by another key is not a problem: an item is current only when the
 * slot's entry expires at exactly the item's time, and then expiring it is
 * right whichever key holds the slot.
 */

export class ExpiryQueue {
  private at = new Float64Array(1024)
  private item = new Uint32Array(1024)
  private n = 0

  /**
   * @param isCurrent - whether `item` still expires at `at` (its live entry's
   *   expiry); items that are not are dropped.
   * @param live - how many items with a TTL are live (the bound for compaction).
   */
  constructor(
    private readonly isCurrent: (item: number, at: number) => boolean,
    private readonly live: () => number
  ) {}

  get size(): number {
    return this.n
  }

  push(item: number, at: number): void {
    if (this.n === this.at.length) this.resize(this.n * 2)
    this.up(this.n++, at, item)
    if (this.n > 2 * this.live() + 1024) this.compact()
  }

  /** Calls `expire(item)` for up to `budget` current items due at `nowMs`, earliest first; returns how many. */
  popDue(nowMs: number, budget: number, expire: (item: number) => void): number {
    let done = 0
    while (done < budget && this.n > 0 && this.at[0]! <= nowMs) {
      const at = this.at[0]!, item = this.item[0]!
      this.popTop()
      if (!this.isCurrent(item, at)) continue
      expire(item)
      done++
    }
    return done
  }

  clear(): void {
    this.n = 0
    if (this.at.length > 1024) this.resize(1024)
  }

  private compact(): void {
    const seen = new Set<number>()
    const keptAt: number[] = [], keptItem: number[] = []
    for (let i = 0; i < this.n; i++) {
      const item = this.item[i]!, at = this.at[i]!
      if (seen.has(item) || !this.isCurrent(item, at)) continue
      seen.add(item)
      keptAt.push(at)
      keptItem.push(item)
    }
    this.n = 0
    this.resize(Math.max(1024, 2 * keptAt.length))
    for (let i = 0; i < keptAt.length; i++) this.up(this.n++, keptAt[i]!, keptItem[i]!)
  }

  private resize(len: number): void {
    const at = new Float64Array(len), item = new Uint32Array(len)
    at.set(this.at.subarray(0, this.n))
    item.set(this.item.subarray(0, this.n))
    this.at = at
    this.item = item
  }

  private popTop(): void {
    const last = --this.n
    if (last > 0) this.down(0, this.at[last]!, this.item[last]!)
  }

  /** Places `(at, item)` at hole `i` or above it. */
  private up(i: number, at: number, item: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1
      if (this.at[p]! <= at) break
      this.at[i] = this.at[p]!
      this.item[i] = this.item[p]!
      i = p
    }
    this.at[i] = at
    this.item[i] = item
  }

  /** Places `(at, item)` at hole `i` or below it. */
  private down(i: number, at: number, item: number): void {
    const n = this.n
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && this.at[r]! < this.at[l]! ? r : l
      if (this.at[c]! >= at) break
      this.at[i] = this.at[c]!
      this.item[i] = this.item[c]!
      i = c
    }
    this.at[i] = at
    this.item[i] = item
  }
}
