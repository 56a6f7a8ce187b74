import { expect } from 'chai'
import { Bcache } from '../lib/bcache.js'
import { seededRandom } from '../lib/random.js'
import { CacheCluster } from './support/cache-cluster.js'

describe('A node id already in the cluster (cluster)', function () {
  this.timeout(60_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  // Defect: the second node joined, and both numbered writes as the same node.
  it('Bcache.create rejects with DuplicateNodeIdError and leaves nothing open', async () => {
    cluster = new CacheCluster(31)
    const a = await cluster.add({ nodeId: 'same' })
    a.set('k', 1)
    const transport = cluster.net.bind()
    const p = Bcache.create<unknown>(
      { maxKeys: 1000, profile: 'lan', nodeId: 'same', peers: [a.address], listenAddr: undefined as unknown as string },
      { transport, clock: cluster.clock, random: seededRandom(5), defer: (fn) => cluster.clock.setTimeout(fn, 0) }
    )
    let err: unknown
    await cluster.settle(p.then(() => undefined, (e: unknown) => { err = e }), 30_000)
    expect(err, 'create rejected').to.be.instanceOf(Error)
    expect((err as Error).name).to.equal('DuplicateNodeIdError')
    expect((err as { code?: string }).code).to.equal('BCACHE_ERR_DUPLICATE_NODE_ID')
    expect(transport.closed, 'its transport is closed').to.equal(true)
    await cluster.run(10_000)
    expect(a.members().filter((m) => m.state === 'alive').map((m) => m.address)).to.deep.equal([a.address])
    expect(a.get('k')).to.equal(1)
  })
})
