/**
 * Decoder fuzz, benchmark-sized: at least 10^6 random and mutated inputs
 * (seeded, repeatable) across every decoder that reads peer input
 * (datagram, stream frame, delta, batch, seen vector, lease message,
 * security envelope). Fails (exit 1) on the first input that breaks a
 * property: an exception other than the documented one, a malformed decode,
 * a forged envelope accepted. Prints the outcome counts per target and the
 * peak heap, sampled every 10,000 cases, to show memory stays bounded.
 *
 * Usage: node dist/benchmarks/fuzz.js [--cases 1000000] [--seed 1]
 *
 * (It imports the targets from spec/hardening/fuzz-targets.ts, which reach
 * internal decoders: fuzzing is about internals, unlike the other benchmarks.)
 */
import { parseArgs } from 'node:util'
import { seededRandom } from '../lib/testing.js'
import { fuzzTargets, generate } from '../spec/hardening/fuzz-targets.js'

const { values } = parseArgs({ options: { cases: { type: 'string', default: '1000000' }, seed: { type: 'string', default: '1' } } })
const cases = Number(values.cases)
const seed = Number(values.seed)
const random = seededRandom(seed)
const targets = fuzzTargets()
const counts = targets.map(() => new Map<string, number>())
const heapStart = process.memoryUsage().heapUsed
let peakHeap = heapStart
const started = process.hrtime.bigint()
for (let n = 0; n < cases; n++) {
  const i = n % targets.length
  const t = targets[i]!
  const input = generate(random, t)
  let outcome: string
  try {
    outcome = t.run(input)
  } catch (err) {
    console.error(`case ${n} (seed ${seed}), target ${t.name}, input ${input.toString('hex')}:`)
    console.error(err)
    process.exit(1)
  }
  counts[i]!.set(outcome, (counts[i]!.get(outcome) ?? 0) + 1)
  if (n % 10_000 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9
console.log(`fuzz: ${cases} cases, seed ${seed}, ${seconds.toFixed(1)} s (${Math.round(cases / seconds)} cases/s); no property broken`)
targets.forEach((t, i) => {
  const total = [...counts[i]!.values()].reduce((a, b) => a + b, 0)
  const parts = [...counts[i]!].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`)
  console.log(`  ${t.name.padEnd(12)} ${String(total).padStart(8)}  ${parts.join(', ')}`)
})
const mb = (b: number): string => (b / 1048576).toFixed(1)
console.log(`heap: ${mb(heapStart)} MB at start, peak ${mb(peakHeap)} MB (sampled every 10,000 cases)`)
