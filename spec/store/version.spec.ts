import { expect } from 'chai'
import { compareVersions, HybridClock, MAX_COUNTER, type Version } from '../../lib/store/version.js'

const v = (wall: number, counter: number, origin: string): Version => ({ wall, counter, origin })

describe('compareVersions', () => {
  const table: Array<[a: Version, b: Version, want: number, why: string]> = [
    [v(1, 0, 'a'), v(1, 0, 'a'), 0, 'equal'],
    [v(1, 0, 'a'), v(2, 0, 'a'), -1, 'wall decides'],
    [v(2, 0, 'a'), v(1, 9, 'z'), 1, 'wall beats counter and origin'],
    [v(5, 1, 'z'), v(5, 2, 'a'), -1, 'counter decides at equal wall'],
    [v(5, 3, 'a'), v(5, 2, 'z'), 1, 'counter beats origin'],
    [v(5, 2, 'a'), v(5, 2, 'b'), -1, 'origin breaks ties'],
    [v(5, 2, 'node-10'), v(5, 2, 'node-9'), -1, 'origin is a string compare, not numeric'],
    [v(5, 2, 'B'), v(5, 2, 'a'), -1, 'code-unit order: upper case first'],
    [v(5, 2, 'ab'), v(5, 2, 'a'), 1, 'longer with equal prefix is greater'],
    [v(5, 2, ''), v(5, 2, 'a'), -1, 'empty origin is least']
  ]
  for (const [a, b, want, why] of table) {
    it(`${why}: (${a.wall},${a.counter},${a.origin}) vs (${b.wall},${b.counter},${b.origin})`, () => {
      expect(Math.sign(compareVersions(a, b))).to.equal(want)
      expect(Math.sign(compareVersions(b, a))).to.equal(-want || 0)
    })
  }
})

/** A HybridClock over a settable time. */
function clockAt(start: number, maxDriftMs?: number) {
  const t = { now: start }
  const hlc = new HybridClock(() => t.now, maxDriftMs)
  return { t, hlc }
}

describe('HybridClock', () => {
  it('tick follows the wall clock and counts within a millisecond', () => {
    const { t, hlc } = clockAt(1000)
    const steps: Array<[now: number, want: [number, number]]> = [
      [1000, [1000, 0]],
      [1000, [1000, 1]],
      [1000.7, [1000, 2]], // fractions are dropped
      [1001, [1001, 0]],
      [1005, [1005, 0]]
    ]
    for (const [now, [wall, counter]] of steps) {
      t.now = now
      expect(hlc.tick()).to.deep.equal({ wall, counter })
    }
  })

  it('stays monotonic when now() jumps backward', () => {
    const { t, hlc } = clockAt(10_000)
    const nows = [10_000, 9_000, 9_500, 5, 10_000, 10_001, 10_001, 3]
    let prev = { wall: -1, counter: 0 }
    for (const now of nows) {
      t.now = now
      const next = hlc.tick()
      expect(compareVersions({ ...next, origin: 'a' }, { ...prev, origin: 'a' })).to.equal(1, `at now=${now}`)
      prev = next
    }
    expect(prev).to.deep.equal({ wall: 10_001, counter: 2 })
  })

  it('moves the wall one ms ahead when the counter overflows', () => {
    const { hlc } = clockAt(2000)
    for (let i = 0; i <= MAX_COUNTER; i++) expect(hlc.tick()).to.deep.equal({ wall: 2000, counter: i })
    expect(hlc.tick()).to.deep.equal({ wall: 2001, counter: 0 })
    expect(hlc.tick()).to.deep.equal({ wall: 2001, counter: 1 })
  })

  const observeTable: Array<[why: string, remote: [number, number], want: [number, number]]> = [
    ['remote ahead in wall: next tick after it', [1500, 7], [1500, 8]],
    ['remote same wall, higher counter', [1000, 40], [1000, 41]],
    ['remote same wall, lower counter: own counter continues', [1000, 0], [1000, 4]],
    ['remote behind: no effect', [900, 60_000], [1000, 4]],
    ['remote at max counter: tick moves the wall', [1200, MAX_COUNTER], [1201, 0]]
  ]
  for (const [why, [wall, counter], [wantWall, wantCounter]] of observeTable) {
    it(`observe: ${why}`, () => {
      const { hlc } = clockAt(1000)
      for (let i = 0; i < 4; i++) hlc.tick() // (1000, 0..3)
      expect(hlc.observe(wall, counter)).to.equal(true)
      expect(hlc.tick()).to.deep.equal({ wall: wantWall, counter: wantCounter })
    })
  }

  it('after observe, the next tick is greater than the observed version', () => {
    const { t, hlc } = clockAt(1000)
    const remotes: Array<[number, number]> = [[1000, 5], [1003, 0], [1003, 0xfffe], [999, 1], [1010, 3]]
    for (const [wall, counter] of remotes) {
      hlc.observe(wall, counter)
      t.now -= 1 // a wall clock going the wrong way
      const mine = hlc.tick()
      expect(compareVersions({ ...mine, origin: '' }, { wall, counter, origin: '~' })).to.equal(1)
    }
  })

  it('ignores a remote wall more than maxDriftMs ahead of now', () => {
    const { t, hlc } = clockAt(1000, 100)
    expect(hlc.observe(1100, 5)).to.equal(true) // exactly at the limit: accepted
    expect(hlc.tick()).to.deep.equal({ wall: 1100, counter: 6 })
    expect(hlc.observe(1101 + 50, 0)).to.equal(false)
    expect(hlc.tick()).to.deep.equal({ wall: 1100, counter: 7 })
    t.now = 1060 // now within drift of the same wall
    expect(hlc.observe(1151, 0)).to.equal(true)
    expect(hlc.tick()).to.deep.equal({ wall: 1151, counter: 1 })
  })

  it('ignores malformed versions', () => {
    const { hlc } = clockAt(1000)
    for (const [w, c] of [[NaN, 0], [1000, -1], [1000, MAX_COUNTER + 1], [1000.5, 0], [1000, 0.5]] as const) {
      expect(hlc.observe(w, c)).to.equal(false)
    }
    expect(hlc.tick()).to.deep.equal({ wall: 1000, counter: 0 })
  })

  it('rejects a negative maxDriftMs', () => {
    expect(() => new HybridClock(() => 0, -1)).to.throw(RangeError, /maxDriftMs/)
  })
})
