import { expect } from 'chai'
import { ManualClock } from '../../lib/clock.js'
import { Suspicion, remainingSuspicionMs, suspicionTimeoutBounds } from '../../lib/membership/suspicion.js'

describe('remainingSuspicionMs', () => {
  const table: Array<[c: number, k: number, elapsed: number, min: number, max: number, want: number]> = [
    // memberlist LAN defaults, 10 nodes: min 4 s, max 24 s, k = 2
    [0, 2, 0, 4000, 24000, 24000],
    [1, 2, 0, 4000, 24000, 11381], // 24000 - 20000 * ln 2 / ln 3 = 11381.4
    [2, 2, 0, 4000, 24000, 4000],
    [3, 2, 0, 4000, 24000, 4000], // more than k: clamped at min
    [0, 2, 5000, 4000, 24000, 19000],
    [2, 2, 10000, 4000, 24000, -6000], // deadline passed: negative
    // min 2 s, max 30 s, k = 3
    [0, 3, 0, 2000, 30000, 30000],
    [1, 3, 2000, 2000, 30000, 14000], // 30000 - 28000 / 2 = 16000
    [2, 3, 3000, 2000, 30000, 4810], // 30000 - 28000 * ln 3 / ln 4 = 7810.5
    [3, 3, 4000, 2000, 30000, -2000],
    [4, 3, 5000, 2000, 30000, -3000],
    [5, 3, 10000, 2000, 30000, -8000],
    // k < 1: always min
    [0, 0, 0, 4000, 24000, 4000],
    [3, 0, 1000, 4000, 24000, 3000],
    [0, -1, 0, 4000, 24000, 4000],
    // fractional bounds are floored
    [0, 0, 0, 5204.12, 31224.72, 5204],
    [0, 2, 0.5, 5204.12, 31224.72, 31224 - 0.5]
  ]
  for (const [c, k, elapsed, min, max, want] of table) {
    it(`c=${c} k=${k} elapsed=${elapsed} min=${min} max=${max} -> ${want}`, () => {
      expect(remainingSuspicionMs(c, k, elapsed, min, max)).to.equal(want)
    })
  }
})

describe('suspicionTimeoutBounds', () => {
  const table: Array<[mult: number, maxMult: number, n: number, interval: number, min: number, max: number]> = [
    [4, 6, 10, 1000, 4000, 24000], // memberlist LAN defaults
    [4, 6, 0, 1000, 4000, 24000], // n < 10: scale 1
    [4, 6, 1, 1000, 4000, 24000],
    [4, 6, 5, 1000, 4000, 24000],
    [4, 6, 100, 1000, 8000, 48000],
    [5, 6, 1000, 500, 7500, 45000],
    [4, 1, 10, 200, 800, 800]
  ]
  for (const [mult, maxMult, n, interval, min, max] of table) {
    it(`mult=${mult} maxMult=${maxMult} n=${n} interval=${interval} -> ${min}..${max}`, () => {
      const b = suspicionTimeoutBounds(mult, maxMult, n, interval)
      expect(b.minMs).to.be.closeTo(min, 1e-9)
      expect(b.maxMs).to.be.closeTo(max, 1e-9)
    })
  }

  it('grows with log10 of the cluster size between powers of ten', () => {
    const b = suspicionTimeoutBounds(4, 6, 20, 1000)
    expect(b.minMs).to.be.closeTo(4000 * Math.log10(20), 1e-9)
    expect(b.maxMs).to.be.closeTo(6 * 4000 * Math.log10(20), 1e-9)
  })
})

describe('Suspicion', () => {
  function make(k: number, minMs = 4000, maxMs = 24000) {
    const clock = new ManualClock()
    const fired: number[] = []
    const s = new Suspicion({ clock }, { fromId: 'a', k, minMs, maxMs, onTimeout: (c) => fired.push(c) })
    return { clock, fired, s }
  }

  it('fires at maxMs with no confirmations', () => {
    const { clock, fired, s } = make(2)
    clock.advance(23999)
    expect(fired).to.deep.equal([])
    clock.advance(1)
    expect(fired).to.deep.equal([0])
    expect(s.confirmations()).to.equal(0)
    clock.advance(100000)
    expect(fired).to.have.length(1)
  })

  it('fires at minMs when k < 1', () => {
    const { clock, fired, s } = make(0)
    expect(s.confirm('b')).to.equal(false)
    clock.advance(3999)
    expect(fired).to.deep.equal([])
    clock.advance(1)
    expect(fired).to.deep.equal([0])
  })

  it('shrinks the timeout with each independent confirmation', () => {
    const { clock, fired, s } = make(2)
    clock.advance(1000)
    expect(s.confirm('b')).to.equal(true)
    expect(s.confirmations()).to.equal(1)
    clock.advance(11381 - 1000 - 1)
    expect(fired).to.deep.equal([])
    clock.advance(1)
    expect(fired).to.deep.equal([1])
  })

  it('shrinks to minMs after k confirmations, and then ignores more', () => {
    const { clock, fired, s } = make(2)
    expect(s.confirm('b')).to.equal(true)
    expect(s.confirm('c')).to.equal(true)
    expect(s.confirm('d')).to.equal(false)
    expect(s.confirmations()).to.equal(2)
    clock.advance(3999)
    expect(fired).to.deep.equal([])
    clock.advance(1)
    expect(fired).to.deep.equal([2])
  })

  it('does not count the first accuser or a repeated one', () => {
    const { clock, fired, s } = make(2)
    expect(s.confirm('a')).to.equal(false)
    expect(s.confirm('b')).to.equal(true)
    expect(s.confirm('b')).to.equal(false)
    expect(s.confirmations()).to.equal(1)
    clock.advance(11380)
    expect(fired).to.deep.equal([])
    clock.advance(1)
    expect(fired).to.deep.equal([1])
  })

  it('cancel prevents firing and makes confirm a no-op', () => {
    const { clock, fired, s } = make(2)
    s.confirm('b')
    s.cancel()
    expect(clock.pending()).to.equal(0)
    expect(s.confirm('c')).to.equal(false)
    clock.advance(100000)
    expect(fired).to.deep.equal([])
    s.cancel() // idempotent
  })

  it('fires on the next timer turn, not inside confirm, when the new deadline has passed', () => {
    const { clock, fired, s } = make(2)
    clock.advance(5000) // past the 4000 ms that 2 confirmations allow
    expect(s.confirm('b')).to.equal(true) // new timeout 11381: still 6381 to go
    expect(fired).to.deep.equal([])
    expect(s.confirm('c')).to.equal(true) // new timeout 4000: passed
    expect(fired).to.deep.equal([])
    clock.advance(0)
    expect(fired).to.deep.equal([2])
    expect(clock.pending()).to.equal(0)
  })

  it('confirm after firing returns false', () => {
    const { clock, fired, s } = make(2)
    clock.advance(24000)
    expect(fired).to.deep.equal([0])
    expect(s.confirm('b')).to.equal(false)
    clock.advance(100000)
    expect(fired).to.deep.equal([0])
  })

  it('counts time from construction', () => {
    const clock = new ManualClock()
    clock.advance(7777)
    const fired: number[] = []
    new Suspicion({ clock }, { fromId: 'a', k: 1, minMs: 100, maxMs: 500, onTimeout: (c) => fired.push(c) })
    clock.advance(499)
    expect(fired).to.deep.equal([])
    clock.advance(1)
    expect(fired).to.deep.equal([0])
  })

  it('rejects bounds out of order', () => {
    const clock = new ManualClock()
    const init = { fromId: 'a', k: 1, minMs: 500, maxMs: 100, onTimeout: () => {} }
    expect(() => new Suspicion({ clock }, init)).to.throw(RangeError)
    expect(() => new Suspicion({ clock }, { ...init, minMs: -1 })).to.throw(RangeError)
  })
})
