/**
 * The in-flight queue of one in-memory stream end: items that keep their
 * order whatever delays the network draws.
 *
 * `push(item, delayMs)` appends the item and schedules one clock timer, due
 * at `max(previous due time, now + delay)`, so an item never becomes due
 * before the one sent ahead of it. Every timer runs the same callback, which
 * takes the queue's *head* (`shift()`), not "its" item: even a clock that
 * runs equal-time timers out of order cannot reorder items, and there is no
 * closure per item. `clear()` discards what is in flight; the timers still
 * fire and find nothing (`pending` is false).
 */
import type { Clock } from '../clock.js'

/** Items in flight to one stream end, in order (see the file comment). */
export class OrderedArrivals<T> {
  // items in flight, in order, from items[head]
  private items: (T | undefined)[] = []
  private head = 0
  // due time of the last item scheduled (keeps order)
  private lastDueMs = -Infinity

  /** `onArrive` runs once per pushed item, when one is due; it should `shift()` the head. */
  constructor(
    private readonly clock: Clock,
    private readonly onArrive: () => void
  ) {}

  /** True while an item waits at the head. */
  get pending(): boolean {
    return this.head < this.items.length
  }

  /** Schedules `item` to arrive after `delayMs`, never before the items ahead of it. */
  push(item: T, delayMs: number): void {
    const now = this.clock.now()
    const due = Math.max(this.lastDueMs, now + delayMs)
    this.lastDueMs = due
    this.items.push(item)
    this.clock.setTimeout(this.onArrive, due - now)
  }

  /** Removes and returns the head; only when {@link pending}. */
  shift(): T {
    const item = this.items[this.head] as T
    this.items[this.head++] = undefined
    if (this.head === this.items.length) {
      this.items.length = 0
      this.head = 0
    }
    return item
  }

  /** Discards every item in flight (their timers find nothing). */
  clear(): void {
    this.items = []
    this.head = 0
  }
}
