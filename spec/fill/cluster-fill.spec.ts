import { expect } from 'chai'
import { FillError } from '../../lib/errors.js'
import { FakeFillCluster, TestFiller, drive, keyOwnedBy, track, type Tracked } from './fake-fill-cluster.js'

const ABC = ['a', 'b', 'c']

function storm(c: FakeFillCluster, ids: readonly string[], key: string, f: TestFiller, perNode: number): Array<Tracked<string>> {
  const out: Array<Tracked<string>> = []
  for (const id of ids) {
    const filler = c.node(id).filler
    for (let i = 0; i < perNode; i++) out.push(track(filler.fill(key, f.fn, { ttl: 30 })))
  }
  return out
}

function expectAll(ts: Array<Tracked<string>>, value: string): void {
  const bad = ts.filter((t) => t.status !== 'fulfilled' || t.value !== value)
  expect(bad, `${bad.length} of ${ts.length} calls did not get ${value}`).to.have.length(0)
}

describe('Filler (cluster)', () => {
  for (const owner of ['a', 'b', 'c']) {
    it(`3 nodes × 1,000 calls run the filler once cluster-wide (owner ${owner})`, async () => {
      const c = new FakeFillCluster(ABC)
      const key = keyOwnedBy(owner, ABC)
      const f = new TestFiller(c.clock, 50)
      const calls = storm(c, ABC, key, f, 1000)
      await drive(c.clock, 80, 2)
      expect(f.calls).to.equal(1)
      expectAll(calls, `value:${key}`)
      expect(c.node(owner).filler.stats).to.include({ leasesGranted: 1, leasesRefused: 2 })
      for (const id of ABC) {
        expect(c.node(id).filler.stats, id).to.include({ fillsShared: 999, fallbacks: 0 })
        expect(c.node(id).map.get(key), id).to.equal(`value:${key}`)
      }
      // the holder released the lease
      await drive(c.clock, 5)
      expect(c.node(owner).filler.handleLeaseRequest('x', key, 10).granted).to.equal(true)
    })
  }

  it('asks a bystander owner over the network and still fills once', async () => {
    const ids = ['a', 'b', 'c', 'owner']
    const c = new FakeFillCluster(ids)
    const key = keyOwnedBy('owner', ids)
    const f = new TestFiller(c.clock, 50)
    const calls = storm(c, ABC, key, f, 1000)
    await drive(c.clock, 80, 2)
    expect(f.calls).to.equal(1)
    expectAll(calls, `value:${key}`)
    expect(c.node('owner').filler.stats).to.include({ leasesGranted: 1, leasesRefused: 2, fillsStarted: 0 })
    expect(c.requests).to.equal(3)
    await drive(c.clock, 5)
    expect(c.node('owner').filler.handleLeaseRequest('x', key, 10).granted).to.equal(true) // released
  })

  it('resolves waiters with a value that arrives by replication, without running the filler', async () => {
    const c = new FakeFillCluster(ABC)
    const key = keyOwnedBy('a', ABC)
    const hang = new TestFiller(c.clock, Infinity)
    const atA = track(c.node('a').filler.fill(key, hang.fn)) // a holds the lease, its filler is slow
    await drive(c.clock, 1)
    const atB = storm(c, ['b'], key, hang, 100)
    await drive(c.clock, 20, 2)
    expect(c.node('b').filler.stats.valuesArrived).to.equal(0)
    // c writes the key with a plain set; it replicates to a and b
    c.node('c').local.setValue(key, 'written', undefined)
    await drive(c.clock, 5)
    expectAll(atB, 'written')
    expect(hang.calls).to.equal(1) // only a's
    expect(c.node('b').filler.stats).to.include({ valuesArrived: 1, fillsStarted: 0 })
    expect(atA.status).to.equal('pending') // a's own filler is still running
    expect(c.node('b').pendingWaits()).to.equal(0)
    c.close()
  })

  for (const mode of ['refuse', 'hang'] as const) {
    it(`falls back to one local fill per node when the owner is down (${mode})`, async () => {
      const ids = ['a', 'b', 'c', 'owner']
      const c = new FakeFillCluster(ids, { leaseRequestTimeoutMs: 200 })
      c.downMode = mode
      c.node('owner').down = true // crashed, not yet declared dead
      const key = keyOwnedBy('owner', ids)
      const f = new TestFiller(c.clock, 10)
      const calls = storm(c, ABC, key, f, 300)
      if (mode === 'hang') {
        await drive(c.clock, 199, 1)
        expect(f.calls, 'no fallback before the request timeout').to.equal(0)
      }
      await drive(c.clock, 250, 5)
      expect(f.calls).to.equal(3) // once per node, not per call
      expectAll(calls, `value:${key}`)
      for (const id of ABC) expect(c.node(id).filler.stats, id).to.include({ fallbacks: 1, fillsStarted: 1 })
    })
  }

  it('falls back after maxWaitMs when the holder is alive but stuck', async () => {
    const c = new FakeFillCluster(ABC, { leaseMs: 10_000, maxWaitMs: 3_000 })
    const key = keyOwnedBy('a', ABC)
    const stuck = new TestFiller(c.clock, Infinity)
    track(c.node('a').filler.fill(key, stuck.fn))
    await drive(c.clock, 1)
    const f = new TestFiller(c.clock, 10)
    const atB = track(c.node('b').filler.fill(key, f.fn))
    await drive(c.clock, 2_990, 10)
    expect(f.calls).to.equal(0)
    await drive(c.clock, 30, 5)
    expect(f.calls).to.equal(1)
    expect(atB.value).to.equal(`value:${key}`)
    expect(c.node('b').filler.stats.fallbacks).to.equal(1)
    c.close()
  })

  it('gives the lease to another node after the holder dies mid-fill', async () => {
    const ids = ['a', 'b', 'c', 'owner']
    const c = new FakeFillCluster(ids, { leaseMs: 1_000, leaseGraceMs: 100, maxWaitMs: 5_000, defaultTimeoutMs: 10_000 })
    const key = keyOwnedBy('owner', ids)
    const dies = new TestFiller(c.clock, Infinity)
    track(c.node('a').filler.fill(key, dies.fn)) // a is granted first
    await drive(c.clock, 5)
    expect(c.node('owner').filler.stats.leasesGranted).to.equal(1)
    c.node('a').down = true // a crashes mid-fill: never sets, never releases
    const f = new TestFiller(c.clock, 20)
    const calls = storm(c, ['b', 'c'], key, f, 200)
    await drive(c.clock, 1_000, 20)
    expect(f.calls, 'still waiting for the lease to expire').to.equal(0)
    await drive(c.clock, 300, 5)
    expect(f.calls).to.equal(1)
    expectAll(calls, `value:${key}`)
    expect(c.node('owner').filler.stats.leasesGranted).to.equal(2)
    for (const id of ['b', 'c']) expect(c.node(id).filler.stats.fallbacks, id).to.equal(0)
    c.close()
  })

  it('agrees on a new owner once the old one is declared dead', async () => {
    const c = new FakeFillCluster(ABC, { leaseRequestTimeoutMs: 100 })
    const key = keyOwnedBy('c', ABC)
    c.node('c').down = true
    c.declaredDead.add('c')
    const f = new TestFiller(c.clock, 10)
    const calls = storm(c, ['a', 'b'], key, f, 500)
    await drive(c.clock, 40, 2)
    expect(f.calls).to.equal(1)
    expectAll(calls, `value:${key}`)
    expect(c.node('a').filler.stats.fallbacks + c.node('b').filler.stats.fallbacks).to.equal(0)
  })

  it('releases a lease granted after the request timed out', async () => {
    const ids = ['a', 'owner']
    const c = new FakeFillCluster(ids, { leaseRequestTimeoutMs: 100 })
    c.netDelayMs = 80 // the reply comes back at 160 ms, after the timeout
    const key = keyOwnedBy('owner', ids)
    const f = new TestFiller(c.clock, 10)
    const t = track(c.node('a').filler.fill(key, f.fn))
    await drive(c.clock, 100, 5)
    expect(c.node('a').filler.stats.fallbacks).to.equal(1)
    await drive(c.clock, 400, 10)
    expect(t.value).to.equal(`value:${key}`)
    // the late grant was handed back: another node is granted at once
    expect(c.node('owner').filler.handleLeaseRequest('z', key, 10).granted).to.equal(true)
  })

  // The filler throws after 50 ms. Owner a/b/c: the owner holds the lease and
  // tells the two it refused; 'owner': a bystander owner relays a's failure.
  for (const [owner, ids] of [['a', ABC], ['b', ABC], ['c', ABC], ['owner', [...ABC, 'owner']]] as const) {
    it(`sends the filler's error to every caller on every node within a few trips, and does not cache it (owner ${owner})`, async () => {
      const c = new FakeFillCluster(ids)
      const key = keyOwnedBy(owner, ids)
      const boom = new TestFiller(c.clock, 50, () => Promise.reject(new Error('backend down')))
      const byNode = new Map(ABC.map((id) => [id, storm(c, [id], key, boom, 100)]))
      await drive(c.clock, 55, 1) // fails at 50; the relay needs two trips at most (release, notice)
      expect(boom.calls, 'the filler ran once in the cluster').to.equal(1)
      const holder = ABC.find((id) => c.node(id).filler.stats.fillsStarted === 1)!
      for (const [id, calls] of byNode) {
        const pending = calls.filter((t) => t.status !== 'rejected')
        expect(pending, `${pending.length} calls on ${id} not rejected by t=55`).to.have.length(0)
        const err = calls[0]!.error as Error
        expect(new Set(calls.map((t) => t.error)).size, id).to.equal(1) // one error object per node
        if (id === holder) {
          expect(err.message).to.equal('backend down') // the filler's own error
        } else {
          expect(err, id).to.be.instanceOf(FillError)
          expect(err.message).to.contain('backend down').and.contain(holder)
          expect((err.cause as Error).message).to.equal('backend down')
          expect(c.node(id).filler.stats, id).to.include({ remoteFailures: 1, fallbacks: 0, fillsStarted: 0 })
        }
        expect(c.node(id).map.has(key), id).to.equal(false)
      }
      expect(c.node(owner).filler.stats.failuresRelayed).to.equal(2)
      await drive(c.clock, 5)
      expect(c.clock.pending(), 'no wait outlives its flight').to.equal(0)
      // not cached: the next storm runs the filler again, once, and succeeds
      const f = new TestFiller(c.clock, 20)
      const again = storm(c, ABC, key, f, 100)
      await drive(c.clock, 30, 2)
      expect(f.calls).to.equal(1)
      expectAll(again, `value:${key}`)
    })
  }

  it("tells the owner's own refused flight at once when another node held the lease", async () => {
    const c = new FakeFillCluster(ABC)
    const key = keyOwnedBy('b', ABC)
    const boom = new TestFiller(c.clock, 50, () => Promise.reject(new Error('backend down')))
    const atA = storm(c, ['a'], key, boom, 10) // a's request reaches b at t=1: a holds the lease
    await drive(c.clock, 2)
    const atB = storm(c, ['b'], key, boom, 10) // b, the owner, refuses itself
    expect(c.node('b').filler.stats.leasesRefused).to.equal(1)
    await drive(c.clock, 51, 1) // a fails at 52; its release reaches b at 53
    for (const t of [...atA, ...atB]) expect(t.status).to.equal('rejected')
    expect(atB[0]!.error).to.be.instanceOf(FillError).with.property('message').that.contains('failed at a')
    expect(boom.calls).to.equal(1)
    expect(c.node('b').filler.stats).to.include({ failuresRelayed: 1, remoteFailures: 1 })
  })

  it('without failure notices, refused nodes still learn by the lease running out', async () => {
    const c = new FakeFillCluster(ABC, { leaseMs: 1_000, leaseGraceMs: 100 })
    c.dropFailureNotices = true
    const key = keyOwnedBy('a', ABC)
    let n = 0
    const flaky = new TestFiller(c.clock, 50, (k) => (++n === 1 ? Promise.reject(new Error('first try fails')) : `value:${k}`))
    const atA = storm(c, ['a'], key, flaky, 10)
    const atBC = storm(c, ['b', 'c'], key, flaky, 10)
    await drive(c.clock, 60, 2)
    for (const t of atA) expect(t.status).to.equal('rejected')
    for (const t of atBC) expect(t.status).to.equal('pending')
    await drive(c.clock, 1_300, 10) // the refused wait ran out: asked again, one was granted
    expect(flaky.calls).to.equal(2)
    expectAll(atBC, `value:${key}`)
  })

  it('ignores a failure notice for a fill the node runs itself, or from an owner it did not ask', async () => {
    const c = new FakeFillCluster(ABC)
    const key = keyOwnedBy('b', ABC)
    const hang = new TestFiller(c.clock, Infinity)
    const atB = track(c.node('b').filler.fill(key, hang.fn)) // b owns the key and holds the lease
    const atA = track(c.node('a').filler.fill(key, hang.fn)) // a asks b and is refused
    await drive(c.clock, 3)
    expect(c.node('b').filler.handleLeaseFailure('b', key, 'c', 'forged')).to.equal(false) // b fills itself
    expect(c.node('a').filler.handleLeaseFailure('c', key, 'b', 'wrong owner')).to.equal(false)
    expect(c.node('a').filler.handleLeaseFailure('b', 'other-key', 'b', 'no flight')).to.equal(false)
    expect(c.node('a').filler.handleLeaseFailure('b', key, 1 as unknown as string, 'bad id')).to.equal(false)
    expect(atA.status).to.equal('pending')
    expect(c.node('a').filler.handleLeaseFailure('b', key, 'b', 'x'.repeat(5000))).to.equal(true)
    await drive(c.clock, 1)
    expect((atA.error as Error).message.length).to.be.below(1200) // cut to 1 KiB
    expect(atB.status).to.equal('pending')
    c.close()
  })

  it('5 nodes × 100 calls on each of 20 keys: each key filled once', async () => {
    const ids = ['n1', 'n2', 'n3', 'n4', 'n5']
    const c = new FakeFillCluster(ids)
    const f = new TestFiller(c.clock, 30)
    const byKey = new Map<string, Array<Tracked<string>>>()
    for (let k = 0; k < 20; k++) byKey.set(`hot-${k}`, storm(c, ids, `hot-${k}`, f, 100))
    await drive(c.clock, 60, 3)
    expect(f.calls).to.equal(20)
    expect(new Set(f.keys).size).to.equal(20)
    for (const [key, calls] of byKey) expectAll(calls, `value:${key}`)
    await drive(c.clock, 5)
    expect(c.clock.pending()).to.equal(0)
  })
})
