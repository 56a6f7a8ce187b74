/**
 * A per-node {@link Clock} over one shared `ManualClock`: each simulated node
 * reads its own wall clock (`offsetMs` ahead or behind, running `drift`
 * times as fast), while every timer of every node still runs on the one
 * shared, deterministic timeline.
 *
 * `now() = start + offsetMs + drift × (base.now() − start)`, where `start`
 * is the base time at construction. A timer of `ms` on this clock is a
 * base timer of `ms / drift` (a fast clock's 1000 ms pass sooner in shared
 * time), so `now()` has advanced by at least `ms` when it fires (rounding
 * up by a microsecond keeps that true in floating point).
 */
import type { Clock, ManualClock, Timer } from '../../lib/clock.js'

export class SkewedClock implements Clock {
  private readonly startMs: number

  /**
   * @param base the shared timeline
   * @param offsetMs how far this clock is ahead (negative: behind) of the base
   * @param drift rate relative to the base, > 0 (1.001 = 1 ms fast per second)
   */
  constructor(
    readonly base: ManualClock,
    readonly offsetMs: number,
    readonly drift = 1
  ) {
    if (!(drift > 0) || !Number.isFinite(drift)) throw new RangeError(`drift must be a finite number > 0, got ${drift}`)
    if (!Number.isFinite(offsetMs)) throw new RangeError(`offsetMs must be finite, got ${offsetMs}`)
    this.startMs = base.now()
  }

  now(): number {
    return this.startMs + this.offsetMs + this.drift * (this.base.now() - this.startMs)
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const baseMs = this.drift === 1 ? ms : Math.max(0, ms) / this.drift + 0.001
    return this.base.setTimeout(fn, baseMs)
  }

  clearTimeout(timer: Timer): void {
    this.base.clearTimeout(timer)
  }
}
