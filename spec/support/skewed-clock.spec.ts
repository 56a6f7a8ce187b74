import { expect } from 'chai'
import { ManualClock } from '../../lib/clock.js'
import { SkewedClock } from './skewed-clock.js'

describe('SkewedClock', () => {
  it('reads the base time plus an offset, drifting at its rate', () => {
    const base = new ManualClock(1_000_000)
    const ahead = new SkewedClock(base, 90_000, 1.001)
    const behind = new SkewedClock(base, -5000)
    expect(ahead.now()).to.equal(1_090_000)
    expect(behind.now()).to.equal(995_000)
    base.advance(10_000)
    expect(ahead.now()).to.be.closeTo(1_100_010, 1e-6)
    expect(behind.now()).to.equal(1_005_000)
  })

  it('runs timers on the shared timeline, scaled so at least `ms` pass on its own clock', () => {
    const base = new ManualClock(0)
    const fast = new SkewedClock(base, 0, 2)
    const slow = new SkewedClock(base, 0, 0.5)
    const fired: string[] = []
    fast.setTimeout(() => fired.push(`fast@${base.now()}:${fast.now()}`), 1000)
    slow.setTimeout(() => fired.push('slow'), 1000)
    const cancelled = slow.setTimeout(() => fired.push('cancelled'), 10)
    slow.clearTimeout(cancelled)
    base.advance(600)
    expect(fired).to.have.length(1)
    expect(fired[0]).to.match(/^fast@500\.\d+:1000\.\d+$/)
    base.advance(1500)
    expect(fired).to.deep.equal([fired[0], 'slow'])
    expect(base.pending()).to.equal(0)
  })

  it('rejects a drift that is not a positive finite number', () => {
    expect(() => new SkewedClock(new ManualClock(), 0, 0)).to.throw(RangeError, /drift/)
    expect(() => new SkewedClock(new ManualClock(), Infinity)).to.throw(RangeError, /offsetMs/)
  })
})
