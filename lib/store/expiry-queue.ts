/**
 * When keys with a TTL expire: a binary min-heap of `(expiresAt, key)`, so
 * purging costs O(due · log n) however many TTL keys there are — an expired
 * entry is reclaimed at any rate a node can write (DESIGN.md invariant 10).
 *
 * Deletion is lazy: an overwrite or a delete leaves the old item in the heap,
 * and {@link ExpiryQueue.popDue} skips items the caller reports as no longer
 * current. So that lazily dead items (a key overwritten many times with a far
 * expiry) cannot pile up, the heap is rebuilt from the current items when it
 * holds more than twice `live()` plus a slack.
 */

interface Item {
  at: number
  key: string
}

export class ExpiryQueue {
  private heap: Item[] = []

  /**
   * @param isCurrent - whether `key` still expires at `at` (its live entry's
   *   expiry); items that are not are dropped.
   * @param live - how many keys with a TTL are live (the bound for compaction).
   */
  constructor(
    private readonly isCurrent: (key: string, at: number) => boolean,
    private readonly live: () => number
  ) {}

  get size(): number {
    return this.heap.length
  }

  push(key: string, at: number): void {
    this.heap.push({ at, key })
    this.up(this.heap.length - 1)
    if (this.heap.length > 2 * this.live() + 1024) this.compact()
  }

  /** Calls `expire(key)` for up to `budget` current items due at `nowMs`, earliest first; returns how many. */
  popDue(nowMs: number, budget: number, expire: (key: string) => void): number {
    let n = 0
    const h = this.heap
    while (n < budget && h.length > 0 && h[0]!.at <= nowMs) {
      const top = this.pop()
      if (!this.isCurrent(top.key, top.at)) continue
      expire(top.key)
      n++
    }
    return n
  }

  clear(): void {
    this.heap = []
  }

  private compact(): void {
    const seen = new Set<string>()
    const kept = this.heap.filter((it) => {
      if (seen.has(it.key) || !this.isCurrent(it.key, it.at)) return false
      seen.add(it.key)
      return true
    })
    this.heap = []
    for (const it of kept) {
      this.heap.push(it)
      this.up(this.heap.length - 1)
    }
  }

  private pop(): Item {
    const h = this.heap
    const top = h[0]!
    const last = h.pop()!
    if (h.length > 0) {
      h[0] = last
      this.down(0)
    }
    return top
  }

  private up(i: number): void {
    const h = this.heap
    const it = h[i]!
    while (i > 0) {
      const p = (i - 1) >> 1
      if (h[p]!.at <= it.at) break
      h[i] = h[p]!
      i = p
    }
    h[i] = it
  }

  private down(i: number): void {
    const h = this.heap
    const n = h.length
    const it = h[i]!
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const c = r < n && h[r]!.at < h[l]!.at ? r : l
      if (h[c]!.at >= it.at) break
      h[i] = h[c]!
      i = c
    }
    h[i] = it
  }
}
