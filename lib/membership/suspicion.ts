/**
 * Lifeguard dynamic suspicion: how long a suspected node has to refute before
 * it is declared dead.
 *
 * When a probe fails, SWIM marks the target suspect and starts a timer; if the
 * target does not refute (gossip a higher incarnation) before it fires, the
 * target is declared dead. A fixed timeout forces a bad trade: short and a
 * briefly slow node is killed, long and a crashed node lingers. Lifeguard
 * starts the timer long (`maxMs`) and shortens it as independent accusers
 * confirm the suspicion: a crash is seen by many nodes, so it is confirmed
 * quickly and detected fast; a lone (possibly unhealthy) accuser alone waits
 * the full `maxMs`, which leaves the suspect plenty of time to refute.
 *
 * With `c` confirmations out of an expected `k`, the timeout is
 *
 *     timeout = max(minMs, maxMs - (maxMs - minMs) * log(c + 1) / log(k + 1))
 *
 * so it falls from `maxMs` at `c = 0` to `minMs` at `c = k`, steeply at first
 * (the log): the first confirmations carry the most information. Elapsed time
 * counts from when the suspicion started, so a confirmation that arrives late
 * may put the deadline in the past; the timer then fires at once (on the next
 * timer turn, never inside `confirm`).
 *
 * The first accuser is not a confirmation (its report started the suspicion),
 * and each accuser counts once. `k` is usually `suspicionMult - 2` capped by
 * the number of nodes that could confirm; with `k < 1` there is nobody to wait
 * for and the timeout is simply `minMs`.
 *
 * The bounds scale with the cluster (gossip needs more rounds to reach more
 * nodes): `minMs = suspicionMult * max(1, log10(n)) * probeInterval`, and
 * `maxMs = maxTimeoutMult * minMs`.
 */
import type { Clock, Timer } from '../clock.js'

/**
 * Milliseconds left before a suspicion with `confirmations` (out of `k`)
 * expires, given `elapsedMs` since it started. The timeout is
 * `floor(max(minMs, maxMs - (maxMs - minMs) * log(c + 1) / log(k + 1)))`, or
 * `floor(minMs)` when `k < 1`. The result is negative when the deadline has
 * passed: the caller should fire at once.
 *
 * | c | k | elapsed | min  | max   | result |
 * |---|---|---------|------|-------|--------|
 * | 0 | 2 | 0       | 4000 | 24000 | 24000  |
 * | 1 | 2 | 0       | 4000 | 24000 | 11381  |
 * | 2 | 2 | 0       | 4000 | 24000 | 4000   |
 */
export function remainingSuspicionMs(
  confirmations: number,
  k: number,
  elapsedMs: number,
  minMs: number,
  maxMs: number
): number {
  let timeout = minMs
  if (k >= 1) {
    const frac = Math.log(Math.max(0, confirmations) + 1) / Math.log(k + 1)
    timeout = Math.max(minMs, maxMs - frac * (maxMs - minMs))
  }
  return Math.floor(timeout) - elapsedMs
}

/**
 * The suspicion timeout bounds for a cluster of `numNodes`:
 * `minMs = suspicionMult * max(1, log10(max(1, numNodes))) * probeIntervalMs`
 * and `maxMs = maxTimeoutMult * minMs`. With memberlist's LAN defaults
 * (mult 4, max mult 6, interval 1000 ms) and 10 nodes: 4000 and 24000.
 */
export function suspicionTimeoutBounds(
  suspicionMult: number,
  maxTimeoutMult: number,
  numNodes: number,
  probeIntervalMs: number
): { minMs: number; maxMs: number } {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, numNodes)))
  const minMs = suspicionMult * nodeScale * probeIntervalMs
  return { minMs, maxMs: maxTimeoutMult * minMs }
}

/** Collaborators of a {@link Suspicion}. */
export interface SuspicionComponents {
  clock: Clock
}

/** Settings of a {@link Suspicion}. */
export interface SuspicionInit {
  /** The first accuser: its report started the suspicion; not a confirmation. */
  fromId: string
  /** Confirmations that shrink the timeout to `minMs`; `< 1` means always `minMs`. */
  k: number
  /** Shortest timeout, reached with `k` confirmations. */
  minMs: number
  /** Timeout with no confirmations. */
  maxMs: number
  /** Runs once when the timer expires, with the confirmations held then. */
  onTimeout: (confirmations: number) => void
}

/**
 * One suspicion timer about one node: starts at construction, shrinks as
 * independent accusers confirm, fires `onTimeout` once unless cancelled. See
 * the top of `suspicion.ts`.
 */
export class Suspicion {
  private readonly clock: Clock
  private readonly k: number
  private readonly minMs: number
  private readonly maxMs: number
  private readonly onTimeout: (confirmations: number) => void
  private readonly startMs: number
  // every accuser seen, the first one included
  private readonly accusers = new Set<string>()
  // accusers.size - 1, capped at k
  private held = 0
  // undefined once fired or cancelled
  private timer: Timer | undefined

  constructor(components: SuspicionComponents, init: SuspicionInit) {
    if (!(init.minMs >= 0) || !(init.maxMs >= init.minMs)) {
      throw new RangeError(`suspicion timeouts need 0 <= minMs <= maxMs, got ${init.minMs}, ${init.maxMs}`)
    }
    this.clock = components.clock
    this.k = init.k
    this.minMs = init.minMs
    this.maxMs = init.maxMs
    this.onTimeout = init.onTimeout
    this.startMs = this.clock.now()
    this.accusers.add(init.fromId)
    const timeoutMs = remainingSuspicionMs(0, this.k, 0, this.minMs, this.maxMs)
    this.timer = this.clock.setTimeout(() => this.fire(), timeoutMs)
  }

  /**
   * Records an accusation from `fromId`. Returns true when it is a new,
   * independent confirmation: not the first accuser, not seen before, fewer
   * than `k` confirmations held so far, and the timer still pending. Only then
   * is the timer moved to the new, earlier deadline (at once if it has passed).
   * The engine re-gossips the suspicion only on true, so gossip about a
   * suspicion dies down once it is confirmed enough.
   */
  confirm(fromId: string): boolean {
    if (this.timer === undefined || this.held >= this.k) return false
    if (this.accusers.has(fromId)) return false
    this.accusers.add(fromId)
    this.held++
    const elapsedMs = this.clock.now() - this.startMs
    const remaining = remainingSuspicionMs(this.held, this.k, elapsedMs, this.minMs, this.maxMs)
    this.clock.clearTimeout(this.timer)
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, remaining))
    return true
  }

  /** Confirmations held: distinct accusers besides the first, at most `k`. */
  confirmations(): number {
    return this.held
  }

  /** Stops the timer (the node refuted, or left); `onTimeout` will not run. */
  cancel(): void {
    if (this.timer === undefined) return
    this.clock.clearTimeout(this.timer)
    this.timer = undefined
  }

  private fire(): void {
    if (this.timer === undefined) return
    this.timer = undefined
    this.onTimeout(this.held)
  }
}
