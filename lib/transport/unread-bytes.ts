/**
 * Backpressure of one in-memory stream end: the bytes it sent that the
 * peer's frame handler has not taken yet (in flight plus unread, the socket
 * buffers of both sides together), against the owner's high-water mark.
 *
 * `add` counts a frame sent, `consumed` a frame read; below the mark the
 * callers of `wait()` (the end's `drain()`) are released. `reset` forgets
 * everything (the peer finished: nobody reads those bytes any more) and
 * releases them too. `peak` keeps the largest count ever reached, so tests
 * can tell a writer that ignored `send()`'s false from one that waited.
 */

/** Unread bytes of one stream end, and the writers waiting for them to drain. */
export class UnreadBytes {
  private bytes = 0
  private peakBytes = 0
  private waiters: (() => void)[] = []

  /** `highWaterBytes()` is read at every check (the owner's `streamHighWaterBytes`). */
  constructor(private readonly highWaterBytes: () => number) {}

  /** Bytes sent and not read yet. */
  get count(): number {
    return this.bytes
  }

  /** The largest {@link count} ever reached. */
  get peak(): number {
    return this.peakBytes
  }

  /** True while the count is below the high-water mark. */
  belowMark(): boolean {
    return this.bytes < this.highWaterBytes()
  }

  /** Counts `n` bytes sent. */
  add(n: number): void {
    this.bytes += n
    if (this.bytes > this.peakBytes) this.peakBytes = this.bytes
  }

  /** The reader took `n` bytes; releases the waiters once below the mark. */
  consumed(n: number): void {
    this.bytes -= n
    if (this.belowMark()) this.release()
  }

  /** Resolves at the next release (below the mark, or reset). */
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  /** Forgets every unread byte and releases the waiters. */
  reset(): void {
    this.bytes = 0
    this.release()
  }

  /** Releases every waiter. */
  release(): void {
    if (this.waiters.length === 0) return
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }
}
