/**
 * The one model of datagram faults used by both fault injectors: the
 * in-memory network (`memory-network.ts`, per network and per directed link)
 * and the wrapper around real transports (`fault-transport.ts`). A datagram
 * is lost with `lossRate`; a survivor waits a delay uniform in
 * `[minDelayMs, maxDelayMs]` (a spread reorders datagrams) and, with
 * `duplicateRate`, is sent a second time with its own delay. All chance
 * comes from an injected `Random`, so a seeded run repeats exactly.
 */
import type { Random } from '../random.js'

/** How datagrams on a link (or through a fault stage) are treated. */
export interface FaultModel {
  /** Probability in [0, 1] that a datagram is lost. Streams are never lossy. @default 0 */
  lossRate: number
  /** Smallest one-way delay in ms. @default 0 */
  minDelayMs: number
  /** Largest one-way delay in ms; delays are uniform in [min, max], so a spread reorders datagrams. @default 0 */
  maxDelayMs: number
  /** Probability in [0, 1] that a datagram is delivered twice. @default 0 */
  duplicateRate: number
}

/** No loss, no delay, no duplicates. */
export const NO_FAULTS: Readonly<FaultModel> = Object.freeze({ lossRate: 0, minDelayMs: 0, maxDelayMs: 0, duplicateRate: 0 })

/** Whether an event of probability `rate` happens; draws from `random` only when `rate > 0`. */
export function chance(rate: number, random: Random): boolean {
  return rate > 0 && random() < rate
}

/** A delay uniform in `[minMs, maxMs]`; draws from `random` only when the range is not empty. */
export function drawDelay(minMs: number, maxMs: number, random: Random): number {
  return maxMs > minMs ? minMs + random() * (maxMs - minMs) : minMs
}

/**
 * Returns `m` if every field is valid.
 * @throws RangeError naming `what.field`: a rate outside [0, 1], a negative or
 *   infinite delay, `maxDelayMs` below `minDelayMs`.
 */
export function checkFaultModel<M extends FaultModel>(m: M, what: string): M {
  for (const name of ['lossRate', 'duplicateRate'] as const) {
    const v = m[name]
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new RangeError(`${what}.${name} must be in [0, 1], got ${String(v)}`)
  }
  if (typeof m.minDelayMs !== 'number' || !(m.minDelayMs >= 0 && Number.isFinite(m.minDelayMs))) {
    throw new RangeError(`${what}.minDelayMs must be a finite number >= 0, got ${String(m.minDelayMs)}`)
  }
  if (typeof m.maxDelayMs !== 'number' || !(m.maxDelayMs >= m.minDelayMs && Number.isFinite(m.maxDelayMs))) {
    throw new RangeError(`${what}.maxDelayMs must be finite and >= minDelayMs (${m.minDelayMs}), got ${String(m.maxDelayMs)}`)
  }
  return m
}
