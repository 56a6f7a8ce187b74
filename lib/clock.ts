/**
 * Time source. Every timer and timestamp in bcache goes through a `Clock` so
 * tests can drive many nodes deterministically with {@link ManualClock}.
 */

/** Opaque handle returned by {@link Clock.setTimeout}. */
export type Timer = object

export interface Clock {
  /** Milliseconds since the epoch (wall clock); may have sub-ms fraction. */
  now(): number
  /**
   * A cheaper {@link now} for the TTL check of reads, where a clock read
   * would cost as much as the read itself: it may lag `now()` a little
   * (never run ahead of it). Absent: reads use `now()`.
   */
  coarseNow?(): number
  /** Runs `fn` once after at least `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): Timer
  /** Cancels a timer; a no-op for a timer that already ran or was cleared. */
  clearTimeout(timer: Timer): void
}

/** Reads per clock read of {@link cachedNow}. */
const READS_PER_CLOCK_READ = 256

/**
 * `Date.now()`, read again after {@link READS_PER_CLOCK_READ} calls or once
 * the event loop has turned (a `setImmediate` after the first call of a
 * turn). Why: `Date.now()` costs about 35 ns here, as much as a cache hit; a
 * raw lru-cache with `ttl` caches its clock the same way (`ttlResolution`).
 * So a TTL read may see the time of up to 255 reads ago within one turn, or
 * of the start of a long synchronous turn with few reads: a key can be read
 * that long after its expiry, never before it.
 */
export function cachedNow(): () => number {
  let cached = 0
  let left = 0
  let armed = false
  const expire = (): void => {
    armed = false
    left = 0
  }
  return () => {
    if (left > 0) {
      left--
      return cached
    }
    cached = Date.now()
    left = READS_PER_CLOCK_READ - 1
    if (!armed) {
      armed = true
      setImmediate(expire).unref() // the next turn reads the clock again
    }
    return cached
  }
}

/**
 * The real clock. Timers are unref'd: an open node is kept alive by its
 * sockets, not by its timers.
 *
 * Each timer callback runs via `setImmediate`, i.e. after the poll phase of the
 * event-loop turn in which the timer expired. Why: when the loop was blocked
 * (GC pause, a busy handler), a probe timeout and the ack that answers it
 * become ready together; Node runs timers before I/O, so without this hop the
 * timeout would fire first and a healthy peer would be suspected. With it, the
 * ack already waiting in the socket buffer is processed first.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  coarseNow: cachedNow(),
  setTimeout(fn, ms) {
    const t = setTimeout(() => setImmediate(fn), Math.max(0, ms))
    t.unref()
    return t
  },
  clearTimeout(timer) {
    clearTimeout(timer as NodeJS.Timeout)
  }
}

/**
 * A periodic task on a {@link Clock}: runs `tick` after `delayMs()` ms, then
 * again after whatever `tick` returns (or `delayMs()` when it returns
 * nothing), until {@link Ticker.stop}. A tick that throws is reported to
 * `onError` and the ticker goes on. The one periodic loop of the code base:
 * probes, gossip, push-pull, anti-entropy, purge and stats all use it.
 */
export class Ticker {
  private timer: Timer | undefined
  private running = false

  constructor(
    private readonly clock: Clock,
    private readonly delayMs: () => number,
    private readonly tick: () => number | void,
    private readonly onError: (err: unknown) => void = () => {}
  ) {}

  /** Starts ticking; the first run comes after `firstMs` (default `delayMs()`). Idempotent. */
  start(firstMs?: number): this {
    if (this.running) return this
    this.running = true
    this.schedule(firstMs ?? this.delayMs())
    return this
  }

  /** Stops ticking; a tick in progress finishes, none follows. Idempotent. */
  stop(): void {
    this.running = false
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
  }

  private schedule(ms: number): void {
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined
      if (!this.running) return
      let next: number | void = undefined
      try {
        next = this.tick()
      } catch (err) {
        this.onError(err)
      }
      if (this.running) this.schedule(typeof next === 'number' ? next : this.delayMs())
    }, ms)
  }
}

interface ManualTimer {
  at: number
  seq: number
  fn: () => void
  cancelled: boolean
}

/**
 * A clock for tests: time moves only when {@link ManualClock.advance} or
 * {@link ManualClock.runUntil} is called, and due timers run in order of their
 * due time (ties in order of creation). Deterministic across runs.
 */
export class ManualClock implements Clock {
  private time: number
  private seq = 0
  // min-heap on (at, seq)
  private readonly heap: ManualTimer[] = []

  constructor(startMs = 1_700_000_000_000) {
    this.time = startMs
  }

  now(): number {
    return this.time
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const t: ManualTimer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn, cancelled: false }
    this.push(t)
    return t
  }

  clearTimeout(timer: Timer): void {
    ;(timer as ManualTimer).cancelled = true
  }

  /** Number of timers still pending (cancelled ones excluded). */
  pending(): number {
    return this.heap.filter((t) => !t.cancelled).length
  }

  /** Moves time forward by `ms`, running every timer that falls due. */
  advance(ms: number): void {
    this.runUntil(this.time + ms)
  }

  /** Moves time to `targetMs`, running due timers in order. */
  runUntil(targetMs: number): void {
    for (;;) {
      const next = this.heap[0]
      if (next === undefined || next.at > targetMs) break
      this.pop()
      if (next.cancelled) continue
      this.time = Math.max(this.time, next.at)
      next.fn()
    }
    this.time = Math.max(this.time, targetMs)
  }

  private push(t: ManualTimer): void {
    const h = this.heap
    h.push(t)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!less(h[i]!, h[p]!)) break
      ;[h[i], h[p]] = [h[p]!, h[i]!]
      i = p
    }
  }

  private pop(): void {
    const h = this.heap
    const last = h.pop()!
    if (h.length === 0) return
    h[0] = last
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < h.length && less(h[l]!, h[m]!)) m = l
      if (r < h.length && less(h[r]!, h[m]!)) m = r
      if (m === i) break
      ;[h[i], h[m]] = [h[m]!, h[i]!]
      i = m
    }
  }
}

function less(a: ManualTimer, b: ManualTimer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}
