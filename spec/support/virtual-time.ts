/**
 * Drives a ManualClock from async test code: advances virtual time in small
 * steps and lets promise callbacks run between steps (one macrotask turn per
 * step, no wall-clock sleep).
 */
import { ManualClock } from '../../lib/clock.js'

export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

export class VirtualTime {
  readonly clock = new ManualClock()

  constructor(private readonly stepMs: number) {}

  /** Advances until `p` settles; throws when it has not after `maxMs` of virtual time. */
  async settle<T>(p: Promise<T>, maxMs = 60_000, stepMs = this.stepMs): Promise<T> {
    let done = false
    const watched = p.finally(() => { done = true })
    watched.catch(() => {})
    const start = this.clock.now()
    while (!done && this.clock.now() - start < maxMs) {
      this.clock.advance(stepMs)
      await flush()
    }
    if (!done) throw new Error(`promise did not settle within ${maxMs} ms of virtual time`)
    return watched
  }

  /** Runs virtual time for `ms`. */
  async run(ms: number, stepMs = this.stepMs): Promise<void> {
    const end = this.clock.now() + ms
    while (this.clock.now() < end) {
      this.clock.advance(Math.min(stepMs, end - this.clock.now()))
      await flush()
    }
  }

  /** Runs until `predicate()` holds; returns the virtual ms it took, or -1 after `maxMs`. */
  async until(predicate: () => boolean, maxMs: number, stepMs = this.stepMs): Promise<number> {
    const start = this.clock.now()
    while (!predicate()) {
      if (this.clock.now() - start >= maxMs) return -1
      this.clock.advance(stepMs)
      await flush()
    }
    return this.clock.now() - start
  }
}
