import { expect } from 'chai'
import { CacheCluster } from '../support/cache-cluster.js'
import { addClusterNode } from '../support/cluster-node.js'

describe('What a node keeps grows with its data, not with time (cluster)', function () {
  this.timeout(120_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  // Defect: purging reclaimed a fixed batch per tick, slower than the writes.
  it('2,000 deletes/s and 2,000 1 s-TTL sets/s for 20 s: tombstones and expired entries are reclaimed', async () => {
    cluster = new CacheCluster(51, { deletionDelay: 3_000 })
    const [a, b] = await cluster.start(2)
    let peakTombs = 0
    let peakKeys = 0
    for (let step = 0; step < 2_000; step++) {
      for (let i = 0; i < 20; i++) {
        a!.delete(`d${step}-${i}`)
        a!.set(`t${step}-${i}`, i, { ttl: 1_000 })
      }
      await cluster.run(10)
      for (const n of [a!, b!]) {
        peakTombs = Math.max(peakTombs, n.stats().tombstones)
        peakKeys = Math.max(peakKeys, n.stats().keys)
      }
    }
    expect(peakTombs, 'peak tombstones').to.be.at.most(2_000 * 3 * 1.5)
    // live for 1 s, reclaimed by a purge that runs every second: about 2 s of writes
    expect(peakKeys, 'peak live TTL entries').to.be.at.most(2_000 * 2 * 1.5)
    expect(a!.stats().expirations + b!.stats().expirations).to.be.greaterThan(0)
    await cluster.run(5_000, 50)
    for (const n of [a!, b!]) {
      expect(n.stats().tombstones, n.nodeId).to.equal(0)
      expect(n.stats().keys, n.nodeId).to.equal(0)
    }
  })

  // Defect: the origin was a draw of the injected random alone.
  it('two nodes given the same seeded random write under different origins, and both writes replicate', async () => {
    cluster = new CacheCluster(52)
    const { node: a } = await addClusterNode(cluster, { nodeId: 'a' }, { seed: 7 })
    const { node: b } = await addClusterNode(cluster, { nodeId: 'b' }, { seed: 7 })
    await cluster.until(() => a.members().filter((m) => m.state === 'alive').length === 2, 10_000)
    for (let i = 0; i < 5; i++) {
      a.set(`a${i}`, i)
      b.set(`b${i}`, i)
    }
    const took = await cluster.until(() => a.stats().keys === 10 && b.stats().keys === 10, 20_000)
    expect(took, `a ${a.stats().keys}, b ${b.stats().keys}`).to.be.greaterThan(-1)
  })

  // Defect: every restart left an origin in every digest, for ever.
  it('after many restarts of one node, the origins the others keep stay bounded', async () => {
    const deletionDelay = 2_000
    cluster = new CacheCluster(53, { deletionDelay })
    const [a, b] = await cluster.start(2)
    for (let life = 0; life < 12; life++) {
      const { node: r } = await addClusterNode(cluster, { nodeId: 'r', deletionDelay }, { seed: 100 + life })
      r.set(`life${life}`, life, { ttl: 500 })
      r.delete(`gone${life}`)
      await cluster.run(200)
      await cluster.settle(r.close())
      cluster.nodes.splice(cluster.nodes.indexOf(r), 1)
      await cluster.run(300)
    }
    const peak = Math.max(a!.stats().replication.origins, b!.stats().replication.origins)
    expect(peak, 'origins before retirement').to.be.greaterThan(3)
    await cluster.run(2 * deletionDelay + 60_000 + 5_000, 50)
    for (const n of [a!, b!]) expect(n.stats().replication.origins, n.nodeId).to.be.at.most(2)
  })
})
