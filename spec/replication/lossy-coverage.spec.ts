import { expect } from 'chai'
import { CacheCluster } from '../support/cache-cluster.js'

describe('Coverage across different maxKeys (cluster)', function () {
  this.timeout(120_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  // Defect: A (maxKeys 100) evicted most of B's writes but still covered
  // them in its digest; a joiner seeding through A adopted that coverage and
  // never asked B for the rest.
  it('a joiner seeding through a small node still ends with every key of a large one', async () => {
    cluster = new CacheCluster(11)
    const a = await cluster.add({ maxKeys: 100 })
    const b = await cluster.add({ maxKeys: 100_000 })
    await cluster.until(() => a.members().length === 2 && b.members().length === 2, 10_000)
    const n = 5_000
    for (let i = 0; i < n; i++) b.set(`k${i}`, i)
    await cluster.run(3_000)
    expect(a.stats().keys).to.be.at.most(100)

    const c = await cluster.add({ maxKeys: 100_000, peers: [a.address] })
    const took = await cluster.until(() => c.stats().keys === n, 60_000, 20)
    expect(took, `joiner holds ${c.stats().keys} of ${n}`).to.be.greaterThan(-1)
    for (let i = 0; i < n; i += 499) expect(c.get(`k${i}`)).to.equal(i)
  })
})
