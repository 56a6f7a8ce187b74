import { expect } from 'chai'
import { CacheCluster } from '../support/cache-cluster.js'

describe('Digest-first push-pull (cluster)', function () {
  this.timeout(60_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  // Defect (scale): every periodic push-pull carried both whole tables, so a
  // node's idle TCP traffic grew with the cluster (26 B/s at N=5, 107 B/s at
  // N=50 in benchmarks/scale-processes.ts). In-sync tables now exchange digests.
  it('a stable 20-node cluster repairs with digests: far fewer stream bytes per push-pull than two tables', async () => {
    cluster = new CacheCluster(81, { tuning: { antiEntropyIntervalMs: 0, pushPullIntervalMs: 1000 } })
    const nodes = await cluster.start(20)
    await cluster.run(5000)
    const snap = () => nodes.map((n) => ({ bytes: n.stats().transport.streamBytesOut, pulls: n.stats().membership.pushPulls }))
    const before = snap()
    await cluster.run(20_000)
    const after = snap()
    const bytes = after.reduce((s, a, i) => s + a.bytes - before[i]!.bytes, 0)
    const pulls = after.reduce((s, a, i) => s + a.pulls - before[i]!.pulls, 0) / 2 // counted on both sides
    expect(pulls, 'push-pull exchanges in 20 s').to.be.greaterThan(100)
    // two whole tables of 20 members are about 1.5 KB; two digests and frame headers under 100 B
    expect(bytes / pulls, 'stream bytes per exchange').to.be.below(150)
  })

  it('a table that differs is still exchanged in full: a member only one node knew of reaches every node', async () => {
    cluster = new CacheCluster(82, { tuning: { pushPullIntervalMs: 1000 } })
    const nodes = await cluster.start(4)
    // learned by push-pull only: its alive broadcasts are lost (it joins through node 3, whose datagrams are dropped)
    for (const n of nodes) cluster.net.block(nodes[3]!.address, n.address)
    const late = await cluster.add({ peers: [nodes[3]!.address] })
    for (const n of nodes) cluster.net.unblock(nodes[3]!.address, n.address)
    expect(await cluster.until(() => nodes.every((n) => n.members().some((m) => m.nodeId === late.nodeId && m.state === 'alive')), 30_000)).to.be.at.least(0)
  })
})
