/**
 * The epidemic model Serf's convergence simulator draws
 * (hashicorp/serf, website/source/javascripts/simulator.js), to print next
 * to what the simulator measures. It is the logistic solution of the SI
 * epidemic: with fan-out f, N nodes and a fraction `loss` of messages lost,
 * each round an infected node reaches f·(1 − loss) others, so after r rounds
 *
 *     fraction(r) = 1 / (1 + (N + 1) · e^(−f · (1 − loss) · r))
 *
 * (Serf writes the contact rate as (f / N)·(1 − loss)·(1 − failed) and
 * multiplies by N again; no node fails here). It knows nothing of
 * retransmit limits, piggybacking on probes or latency: a yardstick, not a
 * prediction.
 */

/** Fraction of `nodes` infected after `round` rounds (Serf's formula). */
export function epidemicFraction(fanout: number, nodes: number, lossRate: number, round: number): number {
  return 1 / (1 + (nodes + 1) * Math.exp(-fanout * (1 - lossRate) * round))
}

/** The first whole round at which the model reaches `fraction` (Serf plots whole rounds). */
export function epidemicRounds(fraction: number, fanout: number, nodes: number, lossRate: number): number {
  let r = 0
  while (epidemicFraction(fanout, nodes, lossRate, r) < fraction && r < 10_000) r++
  return r
}
