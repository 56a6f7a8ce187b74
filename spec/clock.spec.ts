import { expect } from 'chai'
import { ManualClock, systemClock } from '../lib/clock.js'
import { randomInt, seededRandom, shuffle } from '../lib/random.js'

describe('ManualClock', () => {
  it('runs due timers in time order, ties in creation order, and skips cleared ones', () => {
    const clock = new ManualClock(0)
    const log: string[] = []
    clock.setTimeout(() => log.push('b@20'), 20)
    clock.setTimeout(() => log.push('a@10'), 10)
    clock.setTimeout(() => log.push('c@10'), 10)
    const t = clock.setTimeout(() => log.push('never'), 15)
    clock.clearTimeout(t)
    expect(clock.pending()).to.equal(3)
    clock.advance(15)
    expect(log).to.deep.equal(['a@10', 'c@10'])
    expect(clock.now()).to.equal(15)
    clock.advance(100)
    expect(log).to.deep.equal(['a@10', 'c@10', 'b@20'])
  })

  it('runs timers scheduled by timers within the same advance', () => {
    const clock = new ManualClock(0)
    const log: number[] = []
    clock.setTimeout(() => {
      log.push(clock.now())
      clock.setTimeout(() => log.push(clock.now()), 5)
    }, 5)
    clock.advance(10)
    expect(log).to.deep.equal([5, 10])
  })

})

describe('systemClock', () => {
  it('fires and clears real timers', async () => {
    let fired = 0
    const t = systemClock.setTimeout(() => { fired++ }, 1)
    systemClock.clearTimeout(t)
    await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 5))
    expect(fired).to.equal(0)
    expect(systemClock.now()).to.be.closeTo(Date.now(), 50)
  })
})

describe('random', () => {
  it('is deterministic per seed and shuffles as a permutation', () => {
    const a = seededRandom(42)
    const b = seededRandom(42)
    for (let i = 0; i < 10; i++) expect(a()).to.equal(b())
    const items = Array.from({ length: 50 }, (_, i) => i)
    const shuffled = shuffle([...items], seededRandom(1))
    expect(shuffled).to.not.deep.equal(items)
    expect([...shuffled].sort((x, y) => x - y)).to.deep.equal(items)
    const r = seededRandom(3)
    for (let i = 0; i < 100; i++) expect(randomInt(7, r)).to.be.within(0, 6)
  })
})
