import { expect } from 'chai'
import { CacheCluster } from '../support/cache-cluster.js'

describe('stats() histograms: replication lag and fill duration', function () {
  this.timeout(30_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  it('measures replication lag at apply on the receiving node (now − version wall)', async () => {
    cluster = new CacheCluster(71)
    const [a, b] = await cluster.start(2)
    const before = b!.stats().replication.lagMs
    expect(before.buckets).to.have.length(13)
    cluster.net.setConditions({ minDelayMs: 30, maxDelayMs: 30 })
    a!.set('k', 'v')
    expect(await cluster.until(() => b!.get('k') === 'v', 5_000)).to.be.at.least(0)
    const after = b!.stats().replication.lagMs
    expect(after.count - before.count).to.equal(1)
    expect(after.sum - before.sum).to.equal(30)
    expect(after.counts[5]! - before.counts[5]!).to.equal(1) // (20, 50] ms
    // a's own write is not a lag it observed
    expect(a!.stats().replication.lagMs.count).to.equal(0)
  })

  it('returns copies: a snapshot does not move with later applies', async () => {
    cluster = new CacheCluster(72)
    const [a, b] = await cluster.start(2)
    const snap = b!.stats().replication.lagMs
    const count = snap.count
    a!.set('x', 1)
    await cluster.until(() => b!.get('x') === 1, 5_000)
    expect(snap.count).to.equal(count)
    expect(b!.stats().replication.lagMs.count).to.equal(count + 1)
  })

  it('measures each local filler run, failed ones included', async () => {
    cluster = new CacheCluster(73)
    const [a] = await cluster.start(1)
    const slow = (ms: number, fail = false) => async (): Promise<string> => {
      await new Promise<void>((r) => cluster.clock.setTimeout(r, ms))
      if (fail) throw new Error('down')
      return 'v'
    }
    expect(await cluster.settle(a!.getWithFiller('f1', slow(30)))).to.equal('v')
    await cluster.settle(a!.getWithFiller('f2', slow(700, true)).catch(() => 'failed'))
    const d = a!.stats().fills.durationMs
    expect(d.count).to.equal(2)
    expect(d.sum).to.equal(730)
    expect(d.counts[5]).to.equal(1) // (20, 50]
    expect(d.counts[9]).to.equal(1) // (500, 1000]
    // a hit runs no filler and measures nothing
    await cluster.settle(a!.getWithFiller('f1', slow(30)))
    expect(a!.stats().fills.durationMs.count).to.equal(2)
  })
})
