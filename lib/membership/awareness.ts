/**
 * Lifeguard local health awareness (LHA): a node's estimate of its own health.
 *
 * SWIM assumes the prober is healthy, so when a probe goes unanswered it
 * blames the target. But a node whose event loop is stalled (GC pause, a busy
 * handler, CPU starvation) misses acks from perfectly healthy peers, and then
 * spreads false suspicions. Lifeguard makes the prober doubt itself: it keeps
 * a score in `[0, maxMultiplier - 1]`, 0 meaning healthy, and stretches its own
 * probe interval and probe timeout by `score + 1`. A struggling node thus
 * probes less often and waits longer, which both gives it time to recover and
 * keeps its failed probes from accusing anyone.
 *
 * The membership engine moves the score on these events (memberlist's
 * choices, from the Lifeguard paper; the prober applies the probe rules, the
 * member table the refute rule):
 *
 * - **-1** a probe got its ack in time (direct, through a ping-req relay, or
 *   over the TCP fallback): evidence that we are working. (memberlist takes
 *   the -1 for a direct ack only.)
 * - **+1** a probe failed (no ack, direct or indirect) and no ping-req helper
 *   was asked (`indirectChecks` 0, or no other alive member), so nobody could
 *   have sent a nack: with nothing to compare against, assume the fault may
 *   be ours.
 * - **+(expected - received)** a probe failed and some ping-req helpers did
 *   not even nack. Helpers answer a ping-req with a nack when their own probe
 *   of the target times out, so each missing nack means we failed to hear a
 *   node that was very likely up: the loss is probably at our end.
 * - **+1** a peer says we are suspect or dead and we refute it: others could
 *   not hear from us in time, a sign that we are slow.
 *
 * The score is only local: it is never gossiped. Callers scale with
 * {@link Awareness.scaleTimeout}.
 */

/** Called when the score changes, with the new and the previous score. */
export type AwarenessChangeHandler = (score: number, previous: number) => void

/** Lifeguard's local health score. See the top of `awareness.ts`. */
export class Awareness {
  private readonly maxMultiplier: number
  private readonly onChange: AwarenessChangeHandler | undefined
  // always an integer in [0, maxMultiplier - 1]
  private current = 0

  /**
   * @param maxMultiplier Upper bound on the timeout multiplier: the score
   *   stays below it, so timeouts stretch at most `maxMultiplier` times.
   *   Higher tolerates longer stalls before a slow node accuses peers, at the
   *   cost of slower failure detection by that node. memberlist's default: 8.
   * @param onChange Optional hook (metrics, logs) run after each change.
   */
  constructor(maxMultiplier: number, onChange?: AwarenessChangeHandler) {
    if (!Number.isInteger(maxMultiplier) || maxMultiplier < 1) {
      throw new RangeError(`awarenessMaxMultiplier must be an integer >= 1, got ${maxMultiplier}`)
    }
    this.maxMultiplier = maxMultiplier
    this.onChange = onChange
  }

  /** Adds `delta` to the score, clamped to `[0, maxMultiplier - 1]`. */
  applyDelta(delta: number): void {
    if (!Number.isFinite(delta)) return
    const previous = this.current
    const next = Math.min(this.maxMultiplier - 1, Math.max(0, Math.trunc(previous + delta)))
    if (next === previous) return
    this.current = next
    this.onChange?.(next, previous)
  }

  /** The current score: 0 is healthy, `maxMultiplier - 1` the worst. */
  score(): number {
    return this.current
  }

  /** `timeoutMs * (score + 1)`: the timeout stretched by our own ill health. */
  scaleTimeout(timeoutMs: number): number {
    return timeoutMs * (this.current + 1)
  }
}
