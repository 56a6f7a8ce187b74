import { expect } from 'chai'
import { cachedNow } from '../lib/clock.js'

describe('cachedNow (the TTL check clock of reads)', () => {
  const realNow = Date.now
  let t = 1_700_000_000_000
  beforeEach(() => { Date.now = () => t })
  afterEach(() => { Date.now = realNow })

  it('reads the clock again after 256 calls, and never runs ahead of it', () => {
    const now = cachedNow()
    expect(now()).to.equal(t)
    const first = t
    t += 50
    for (let i = 0; i < 255; i++) expect(now()).to.equal(first) // lags, never leads
    expect(now()).to.equal(t)
  })

  it('reads the clock again once the event loop turned', async () => {
    const now = cachedNow()
    expect(now()).to.equal(t)
    t += 1000
    expect(now()).to.equal(t - 1000)
    await new Promise((r) => setImmediate(r))
    expect(now()).to.equal(t)
  })
})
