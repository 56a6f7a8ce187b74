/**
 * Serf's epidemic model, as the simulator report prints it beside the
 * measured spread: pinned to the figures Serf's convergence simulator
 * shows at its defaults (200 ms, fan-out 3).
 */
import { expect } from 'chai'
import { epidemicFraction, epidemicRounds } from '../../tools/epidemic-model.js'

describe('epidemic model (Serf convergence simulator)', () => {
  it('reaches 99.99 % at round 11 (2.2 s) for N = 1,000 and 13 (2.6 s) for N = 10,000', () => {
    expect(epidemicRounds(0.9999, 3, 1000, 0) * 200).to.equal(2200)
    expect(epidemicRounds(0.9999, 3, 10_000, 0) * 200).to.equal(2600)
  })

  it('is slower with loss, starts near 1/N and rises monotonically to 1', () => {
    expect(epidemicRounds(0.9999, 3, 1000, 0.1)).to.be.above(epidemicRounds(0.9999, 3, 1000, 0))
    expect(epidemicFraction(3, 1000, 0, 0)).to.be.closeTo(1 / 1002, 1e-9)
    let last = 0
    for (let r = 0; r < 25; r++) {
      const f = epidemicFraction(3, 1000, 0.1, r)
      expect(f).to.be.above(last)
      last = f
    }
    expect(last).to.be.closeTo(1, 1e-6)
  })
})
