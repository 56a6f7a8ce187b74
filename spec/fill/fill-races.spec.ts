import { expect } from 'chai'
import { FillError } from '../../lib/errors.js'
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

  it("the holder's timeout reaches the nodes it kept waiting at once, not at their own deadlines", async () => {
    const c = new FakeFillCluster(AB)
    const key = keyOwnedBy('a', AB)
    const hang = new TestFiller(c.clock, Infinity)
    const atA = track(c.node('a').filler.fill(key, hang.fn, { timeoutMs: 100 }))
    await drive(c.clock, 50)
    const atB = track(c.node('b').filler.fill(key, hang.fn, { timeoutMs: 2000 })) // refused: a holds the lease
    await drive(c.clock, 55)
    expect(atA.status).to.equal('rejected')
    expect((atA.error as Error).name).to.equal('FillTimeoutError')
    expect(atB.status).to.equal('rejected') // one release and one notice later, 1.9 s before its own deadline
    expect(atB.error).to.be.instanceOf(FillError)
    expect((atB.error as Error).message).to.match(/failed at a: .*timed out after 100 ms/)
    expect(hang.calls).to.equal(1)
    expect(c.node('b').pendingWaits()).to.equal(0)
    c.close()
  })

  // Found by the simulator (seed 4115): a holder whose fill failed starts a
  // new fill of the key before its failed release reached the owner; the
  // owner renewed its lease, refused another node meanwhile, and then took
  // the late release for the new lease: that node's callers got the old
  // error although the new fill succeeded. Releases now name their lease.
  it("a late release of the holder's earlier failed lease fails nobody refused during its next lease", async () => {
    const c = new FakeFillCluster(AB)
    c.netDelayMs = 5
    c.releaseDelayMs = 40 // the first release is overtaken by the next request
    const key = keyOwnedBy('b', AB)
    const first = track(c.node('a').filler.fill(key, () => { throw new Error('boom') }, { timeoutMs: 1000 }))
    await drive(c.clock, 12)
    expect(first.status).to.equal('rejected')
    c.releaseDelayMs = undefined
    const ok = new TestFiller(c.clock, 30)
    const second = track(c.node('a').filler.fill(key, ok.fn, { timeoutMs: 2000 }))
    await drive(c.clock, 12) // a holds the renewed lease and fills
    const atB = track(c.node('b').filler.fill(key, ok.fn, { timeoutMs: 2000 })) // refused: a holds it
    await drive(c.clock, 200)
    expect(second).to.include({ status: 'fulfilled', value: `value:${key}` })
    expect(atB, 'b waited for a\'s value, not the old failure').to.include({ status: 'fulfilled', value: `value:${key}` })
    expect(ok.calls).to.equal(1)
    c.close()
  })
})
