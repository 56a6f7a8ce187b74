import { expect } from 'chai'
import { CacheCluster } from '../support/cache-cluster.js'
import { seededRandom } from '../../lib/random.js'

/**
 * Property: whatever the interleaving of sets and deletes on random nodes and
 * whatever the delivery order (random delays, duplicates, loss), once the
 * network is quiet every node holds the same content. Seeded, so a failure
 * names its seed and replays exactly.
 */
describe('Convergence property', function () {
  this.timeout(120_000)

  for (const seed of [11, 12, 13, 14, 15, 16]) {
    it(`random set/delete interleavings converge to identical nodes (seed ${seed})`, async () => {
      const cluster = new CacheCluster(seed, { tuning: { antiEntropyIntervalMs: 1000 } })
      try {
        const nodes = await cluster.start(4)
        const r = seededRandom(seed * 101)
        cluster.net.setConditions({ lossRate: r() * 0.3, minDelayMs: 0, maxDelayMs: 1 + Math.floor(r() * 50), duplicateRate: r() * 0.2 })
        const keySpace = Array.from({ length: 30 }, (_, i) => `p${i}`)
        for (let op = 0; op < 400; op++) {
          const node = nodes[Math.floor(r() * nodes.length)]!
          const key = keySpace[Math.floor(r() * keySpace.length)]!
          if (r() < 0.25) node.delete(key)
          else node.set(key, { op, by: node.nodeId })
          if (r() < 0.3) await cluster.run(Math.floor(r() * 10))
        }
        cluster.net.setConditions({ lossRate: 0, duplicateRate: 0, minDelayMs: 0, maxDelayMs: 5 })
        const took = await cluster.until(() => cluster.agree(keySpace), 60_000, 20)
        expect(took, `seed ${seed} converged`).to.be.greaterThan(-1)
        await cluster.run(5_000)
        expect(cluster.agree(keySpace), `seed ${seed} stays converged`).to.equal(true)
        const sizes = new Set(nodes.map((n) => n.stats().keys))
        expect(sizes.size).to.equal(1)
      } finally {
        await cluster.closeAll()
      }
    })
  }
})
