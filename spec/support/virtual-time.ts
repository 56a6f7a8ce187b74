/**
 * Drives a ManualClock from async test code: advances virtual time in small
 * steps and lets promise callbacks run between steps (one macrotask turn per
 * step, no wall-clock sleep). The stepping itself is `tools/wait.ts`'s, shared
 * with the simulator.
 */
import { ManualClock } from '../../lib/clock.js'
import { runFor, runUntil, settle } from '../../tools/wait.js'

export { flush } from '../../tools/wait.js'

export class VirtualTime {
  readonly clock = new ManualClock()

  constructor(private readonly stepMs: number) {}

  /** Advances until `p` settles; throws when it has not after `maxMs` of virtual time. */
  settle<T>(p: Promise<T>, maxMs = 60_000, stepMs = this.stepMs): Promise<T> {
    return settle(this.clock, p, maxMs, stepMs)
  }

  /** Runs virtual time for `ms`. */
  run(ms: number, stepMs = this.stepMs): Promise<void> {
    return runFor(this.clock, ms, stepMs)
  }

  /** Runs until `predicate()` holds; returns the virtual ms it took, or -1 after `maxMs`. */
  until(predicate: () => boolean, maxMs: number, stepMs = this.stepMs): Promise<number> {
    return runUntil(this.clock, predicate, maxMs, stepMs)
  }
}
