/**
 * The epidemic model Serf's convergence simulator draws (serf.io, "Serf
 * Convergence Simulator"; hashicorp/serf website/source/assets/javascripts/
 * _simulator.js), to print next to what the simulator measures. It is the
 * logistic solution of the SI epidemic: with fan-out f, N nodes and a
 * fraction `loss` of messages lost, after r rounds (one per gossip interval)
 *
 *     fraction(r) = 1 / (1 + (N + 1) · e^(−f · (1 − loss) · r / 2))
 *
 * Serf writes the contact rate as (f / N)·(1 − loss)·(1 − failed)·0.5 and
 * multiplies by N again; no node fails here. (An older copy of the page,
 * website/source/javascripts/simulator.js, had no factor 0.5, so twice as
 * fast.) At 200 ms and fan-out 3 it puts 99.99 % at round 11 (2.2 s) for
 * N = 1,000 and round 13 (2.6 s) for N = 10,000. It knows nothing of
 * retransmit limits, piggybacking on probes or latency: a yardstick, not a
 * prediction.
 */

/** Fraction of `nodes` infected after `round` rounds (Serf's formula). */
export function epidemicFraction(fanout: number, nodes: number, lossRate: number, round: number): number {
  const contact = (fanout / nodes) * (1 - lossRate) * 0.5
  return 1 / (1 + (nodes + 1) * Math.exp(-contact * nodes * round))
}

/** The first whole round at which the model reaches `fraction` (Serf plots whole rounds). */
export function epidemicRounds(fraction: number, fanout: number, nodes: number, lossRate: number): number {
  let r = 0
  while (epidemicFraction(fanout, nodes, lossRate, r) < fraction && r < 10_000) r++
  return r
}
