import { expect } from 'chai'
import { compareVersions, HybridClock, MAX_COUNTER } from '../../lib/store/version.js'

describe('HybridClock.tickAbove', () => {
  const rows: Array<{ name: string; now: number; floor: { wall: number; counter: number } | undefined; min: { wall: number; counter: number } }> = [
    { name: 'no floor: a plain tick', now: 1000, floor: undefined, min: { wall: 1000, counter: 0 } },
    { name: 'floor behind the clock: a plain tick', now: 1000, floor: { wall: 500, counter: 9 }, min: { wall: 1000, counter: 0 } },
    { name: 'floor 10 minutes ahead (past the drift guard): just above it', now: 1000, floor: { wall: 601_000, counter: 3 }, min: { wall: 601_000, counter: 4 } },
    { name: 'floor at the counter limit: the next wall', now: 1000, floor: { wall: 601_000, counter: MAX_COUNTER }, min: { wall: 601_001, counter: 0 } }
  ]
  for (const row of rows) {
    it(row.name, () => {
      const hlc = new HybridClock(() => row.now)
      const floor = row.floor === undefined ? undefined : { ...row.floor, origin: 'peer' }
      const t = hlc.tickAbove(row.now, floor)
      expect(t).to.deep.equal(row.min)
      if (floor !== undefined) expect(compareVersions({ ...t, origin: 'me' }, floor)).to.equal(1)
    })
  }

  it('lifts only the one stamp: the next plain tick follows the local clock again', () => {
    const hlc = new HybridClock(() => 1000)
    hlc.tickAbove(1000, { wall: 601_000, counter: 0, origin: 'peer' })
    expect(hlc.tick().wall).to.be.below(601_000)
  })

  it('observe within the drift guard lifts later ticks above the observed version', () => {
    const hlc = new HybridClock(() => 1000, 60_000)
    expect(hlc.observe(6_000, 5)).to.equal(true)
    expect(hlc.tick()).to.deep.equal({ wall: 6_000, counter: 6 })
    expect(hlc.observe(1000 + 60_001, 0), 'past the guard').to.equal(false)
  })
})
