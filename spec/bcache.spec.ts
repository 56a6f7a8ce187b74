import { expect } from 'chai'
import { CacheCluster } from './support/cache-cluster.js'

describe('Bcache (in-memory network, manual clock)', function () {
  this.timeout(60_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  it('replicates a set to every node within milliseconds (eager push)', async () => {
    cluster = new CacheCluster(1)
    const [a, b, c] = await cluster.start(3)
    a!.set('k', { hello: 'world' })
    expect(a!.get('k')).to.deep.equal({ hello: 'world' })
    const took = await cluster.until(() => b!.get('k') !== undefined && c!.get('k') !== undefined, 1000, 1)
    expect(took).to.be.within(0, 5)
    expect(c!.get('k')).to.deep.equal({ hello: 'world' })
  })
})
