import { expect } from 'chai'
import { CacheCluster } from './support/cache-cluster.js'

describe('What set() accepts is what every peer carries (cluster)', function () {
  this.timeout(60_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  // Defect: the TTL landed past what a delta can carry; the writer kept it,
  // and the delta broke the anti-entropy batch that carried it to a joiner.
  it('a ttl past the largest expiry throws RangeError, changes nothing, and a joiner still gets every other key', async () => {
    cluster = new CacheCluster(21)
    const a = await cluster.add()
    for (let i = 0; i < 20; i++) a.set(`k${i}`, i)
    const sets = a.stats().sets
    expect(() => a.set('bad', 'x', { ttl: Number.MAX_SAFE_INTEGER })).to.throw(RangeError, /ttl/)
    expect(a.get('bad')).to.equal(undefined)
    expect(a.stats().sets).to.equal(sets)
    for (let i = 20; i < 40; i++) a.set(`k${i}`, i)
    const b = await cluster.add()
    const took = await cluster.until(() => b.stats().keys === 40, 10_000)
    expect(took, `joiner holds ${b.stats().keys} of 40`).to.be.greaterThan(-1)
    expect(b.get('bad')).to.equal(undefined)
  })

  // Defect: the writer stored the caller's object; peers stored its bytes.
  it('mutating an object after set changes nothing, on the writer or its peers', async () => {
    cluster = new CacheCluster(22)
    const [a, b] = await cluster.start(2)
    const obj = { n: 1 }
    a!.set('o', obj)
    obj.n = 2
    expect(a!.get('o')).to.deep.equal({ n: 1 })
    await cluster.until(() => b!.get('o') !== undefined, 5_000)
    expect(b!.get('o')).to.deep.equal({ n: 1 })
    expect(a!.get('o')).to.deep.equal(b!.get('o'))
  })

  it('-0 round-trips on the writer and its peers', async () => {
    cluster = new CacheCluster(23)
    const [a, b] = await cluster.start(2)
    a!.set('z', -0)
    expect(Object.is(a!.get('z'), -0), 'writer').to.equal(true)
    await cluster.until(() => b!.get('z') !== undefined, 5_000)
    expect(Object.is(b!.get('z'), -0), 'peer').to.equal(true)
  })

  // UTF-8 turns a lone surrogate into U+FFFD: peers would hold another key.
  it('a key with a lone surrogate is refused with TypeError', async () => {
    cluster = new CacheCluster(24)
    const a = await cluster.add()
    for (const key of ['\uD800', 'a\uDC00b', 'x\uD83D']) {
      expect(() => a.set(key, 1), JSON.stringify(key)).to.throw(TypeError)
      expect(a.stats().keys).to.equal(0)
    }
    a.set('\uD83D\uDE00', 1) // a whole pair is fine
    expect(a.get('\uD83D\uDE00')).to.equal(1)
  })
})
