import { expect } from 'chai'
import { chance, checkFaultModel, drawDelay, NO_FAULTS } from '../../lib/transport/fault-model.js'

describe('fault model', () => {
  const fixed = (x: number) => () => x

  it('draws a delay uniform in [min, max], and no random number for an empty range', () => {
    expect(drawDelay(10, 20, fixed(0))).to.equal(10)
    expect(drawDelay(10, 20, fixed(0.5))).to.equal(15)
    expect(drawDelay(5, 5, () => expect.fail('no draw for an empty range'))).to.equal(5)
  })

  it('draws chance only for a positive rate', () => {
    expect(chance(0, () => expect.fail('no draw for rate 0'))).to.equal(false)
    expect(chance(0.5, fixed(0.49))).to.equal(true)
    expect(chance(0.5, fixed(0.5))).to.equal(false)
    expect(chance(1, fixed(0.999))).to.equal(true)
  })

  const bad: Array<[why: string, patch: Record<string, unknown>, message: RegExp]> = [
    ['loss above 1', { lossRate: 1.5 }, /^x\.lossRate must be in \[0, 1\]/],
    ['negative duplicates', { duplicateRate: -0.1 }, /^x\.duplicateRate/],
    ['NaN loss', { lossRate: NaN }, /lossRate/],
    ['negative min delay', { minDelayMs: -1 }, /^x\.minDelayMs/],
    ['infinite max delay', { maxDelayMs: Infinity }, /^x\.maxDelayMs/],
    ['max below min', { minDelayMs: 5, maxDelayMs: 4 }, /maxDelayMs must be finite and >= minDelayMs \(5\)/]
  ]
  for (const [why, patch, message] of bad) {
    it(`refuses ${why} with a RangeError naming the field`, () => {
      expect(() => checkFaultModel({ ...NO_FAULTS, ...patch }, 'x')).to.throw(RangeError, message)
    })
  }

  it('accepts and returns a valid model', () => {
    const m = { lossRate: 0.1, minDelayMs: 1, maxDelayMs: 2, duplicateRate: 1 }
    expect(checkFaultModel(m, 'x')).to.equal(m)
  })
})
