import { expect } from 'chai'
import { CacheCluster } from './support/cache-cluster.js'

/** Virtual ms `p` takes to settle on the cluster's manual clock (5 ms steps). */
async function virtualMs<T>(cluster: CacheCluster, p: () => Promise<T>): Promise<number> {
  const start = cluster.clock.now()
  await cluster.settle(p())
  return cluster.clock.now() - start
}

describe('Bcache lifecycle (in-memory network, manual clock)', function () {
  this.timeout(30_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  it('the first node (no seed but itself) starts without waiting for a state transfer', async () => {
    cluster = new CacheCluster(3)
    const took = await virtualMs(cluster, () => cluster.add())
    expect(took).to.be.below(50) // it slept 100 + 200 + 300 ms for seeds it did not have
  })

  it('a lone node closes without waiting for its leave to be transmitted', async () => {
    cluster = new CacheCluster(4)
    const [a] = await cluster.start(1)
    const took = await virtualMs(cluster, () => a!.close())
    expect(took).to.be.below(50) // it waited probeIntervalMs (1 s on lan) for a broadcast nobody could receive
  })

  it('a node with a peer still leaves gracefully on close: the peer sees it left, not failed', async () => {
    cluster = new CacheCluster(5)
    const [a, b] = await cluster.start(2)
    const events: string[] = []
    a!.on('leave', (m) => events.push(`leave:${m.nodeId}`))
    a!.on('fail', (m) => events.push(`fail:${m.nodeId}`))
    const took = await virtualMs(cluster, () => b!.close())
    expect(took).to.be.above(0) // it waited for the broadcast (bounded by probeIntervalMs)
    const stateOfB = (): string | undefined => a!.members().find((m) => m.nodeId === b!.nodeId)?.state
    expect(stateOfB()).to.equal('left')
    await cluster.run(30_000)
    expect(events).to.deep.equal([`leave:${b!.nodeId}`])
  })
})
