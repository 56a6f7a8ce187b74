import { expect } from 'chai'
import { FakeFillCluster, TestFiller, drive, keyOwnedBy, track } from './fake-fill-cluster.js'

const AB = ['a', 'b']

describe('Filler (races)', () => {
  it('a value that arrives while the refusal is on its way settles the refused node at once', async () => {
    // b asks a at t=0; the request reaches a at t=5 while a fills (its
    // lease): refused. a's filler ends at t=6, the value reaches b at t=7,
    // the refusal only at t=10. b must not wait for a wake-up that already
    // happened (the lease would keep it waiting 10 s, the deadline 4 s).
    const c = new FakeFillCluster(AB)
    c.netDelayMs = 5
    c.replicationDelayMs = 1
    const key = keyOwnedBy('a', AB)
    const f = new TestFiller(c.clock, 6)
    const atA = track(c.node('a').filler.fill(key, f.fn, { timeoutMs: 4000 }))
    const atB = track(c.node('b').filler.fill(key, f.fn, { timeoutMs: 4000 }))
    await drive(c.clock, 9)
    expect(atA.status).to.equal('fulfilled')
    expect(c.node('b').map.get(key)).to.equal(`value:${key}`) // arrived
    expect(atB.status).to.equal('pending') // the refusal is still on its way
    await drive(c.clock, 2)
    expect(atB).to.include({ status: 'fulfilled', value: `value:${key}` })
    expect(f.calls).to.equal(1)
    expect(c.node('a').filler.stats.leasesRefused).to.equal(1)
    expect(c.node('b').filler.stats).to.include({ valuesArrived: 1, fillsStarted: 0 })
    expect(c.node('b').pendingWaits()).to.equal(0)
    c.close()
  })
})
