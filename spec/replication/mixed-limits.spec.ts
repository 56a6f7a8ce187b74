/**
 * Nodes configured with different value and frame limits: one node's large
 * (but accepted) value must not stop state transfer toward a node that
 * accepts less (DESIGN.md invariant 8).
 */
import { expect } from 'chai'
import { CacheCluster } from '../support/cache-cluster.js'
import { addClusterNode } from '../support/cluster-node.js'

describe('Replication between nodes with different limits', () => {
  let cluster: CacheCluster | undefined

  afterEach(async () => {
    await cluster?.closeAll()
    cluster = undefined
  })

  it('a value over a joiner\'s maxValueBytes is not sent to it; every other key is, and later rounds do not offer it again', async () => {
    cluster = new CacheCluster(71)
    const big = await addClusterNode(cluster, { nodeId: 'big', maxValueBytes: 3 << 20, maxFrameBytes: 4 << 20, tuning: { antiEntropyIntervalMs: 500 } }, { maxFrameBytes: 4 << 20 })
    big.node.set('huge', Buffer.alloc(2 << 20, 7))
    for (let i = 0; i < 100; i++) big.node.set(`k${i}`, i)
    await cluster.run(100)
    // A joiner that accepts values up to 64 KiB and frames up to 128 KiB.
    const small = await addClusterNode(cluster, { nodeId: 'small', maxValueBytes: 64 << 10, maxFrameBytes: 128 << 10, tuning: { antiEntropyIntervalMs: 500 } }, { maxFrameBytes: 128 << 10, seed: 2 })
    for (let i = 0; i < 100; i++) expect(small.node.get(`k${i}`), `k${i}`).to.equal(i)
    expect(small.node.get('huge')).to.equal(undefined)
    const refused = big.node.stats().replication.antiEntropy.tooLargeForPeer
    expect(refused).to.be.at.least(1)
    // Later rounds between the two find nothing to send and nothing to refuse.
    await cluster.run(10_000)
    expect(big.node.stats().replication.antiEntropy.tooLargeForPeer).to.equal(refused)
    expect(small.node.stats().dropped['frame-too-large'] ?? 0).to.equal(0)
  })
})
