/**
 * Seeded fuzzing of every decoder that reads peer input: datagrams, stream
 * frames, deltas, delta batches, seen vectors, lease messages and the
 * security envelope. A share of `benchmarks/fuzz.ts` (which runs 10^6+
 * cases): no exception other than the documented one escapes, decoded
 * results are well-formed, and no mutated envelope is ever accepted.
 */
import { expect } from 'chai'
import { seededRandom } from '../../lib/random.js'
import { fuzzTargets, generate } from './fuzz-targets.js'

const CASES_PER_TARGET = 2_000

describe('hardening: decoder fuzz (seeded share of benchmarks/fuzz.ts)', function () {
  this.timeout(20_000)

  for (const target of fuzzTargets()) {
    it(`${target.name}: ${CASES_PER_TARGET} random and mutated inputs are dropped with a reason or decode well-formed`, () => {
      const random = seededRandom(target.name.length * 7919 + 17)
      const seen = new Map<string, number>()
      for (let n = 0; n < CASES_PER_TARGET; n++) {
        const outcome = target.run(generate(random, target))
        seen.set(outcome, (seen.get(outcome) ?? 0) + 1)
      }
      // the generator reaches past the first checks: several distinct outcomes
      expect(seen.size, JSON.stringify([...seen])).to.be.greaterThan(1)
      for (const input of target.corpus) expect(target.run(input), 'corpus entry is valid').to.equal('ok')
    })
  }
})
