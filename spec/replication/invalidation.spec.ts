import { expect } from 'chai'
import { Bcache } from '../../lib/bcache.js'
import { CacheCluster } from '../support/cache-cluster.js'

/** Every byte node `n`'s transport has sent. */
const sent = (n: Bcache<unknown>): number => n.stats().transport.packetBytesOut + n.stats().transport.streamBytesOut

describe("Invalidation mode (mode: 'invalidate', cluster)", function () {
  this.timeout(60_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  it('a write evicts the older copy on every other node, and only the writer holds the value', async () => {
    cluster = new CacheCluster(71, { mode: 'invalidate' })
    const [a, b, c] = await cluster.start(3)
    b!.set('k', 'old on b')
    await cluster.run(100)
    expect(a!.get('k')).to.equal(undefined) // values never travel
    expect(b!.get('k')).to.equal('old on b')
    a!.set('k', 'new on a')
    await cluster.run(100)
    expect(a!.get('k')).to.equal('new on a')
    expect(b!.get('k'), 'b dropped its older copy').to.equal(undefined)
    expect(c!.get('k')).to.equal(undefined)
  })

  it('bytes on the wire per write are about the key, whatever the value size', async () => {
    cluster = new CacheCluster(72, { mode: 'invalidate', maxValueBytes: 200_000 })
    const [a] = await cluster.start(3)
    await cluster.run(1000)
    const cost = async (key: string, value: string): Promise<number> => {
      const before = sent(a!)
      a!.set(key, value)
      await cluster.run(20, 1) // the eager push only, before any gossip tick
      return sent(a!) - before
    }
    const small = await cost('small-value', 'x'.repeat(100))
    const large = await cost('large-value', 'x'.repeat(100_000))
    expect(large, `100 KB value: ${large} B vs 100 B value: ${small} B`).to.be.below(small + 64)
    expect(large).to.be.below(1000)
  })

  it('each node fills for itself, keeps the filled value, and a write elsewhere invalidates it', async () => {
    cluster = new CacheCluster(73, { mode: 'invalidate' })
    const [a, b] = await cluster.start(2)
    let calls = 0
    const filler = (): string => { calls++; return `db-${calls}` }
    expect(await cluster.settle(b!.getWithFiller('row', filler))).to.equal('db-1')
    expect(await cluster.settle(a!.getWithFiller('row', filler))).to.equal('db-2') // no cluster-wide lease: values would not reach a
    expect(b!.get('row')).to.equal('db-1')
    await cluster.run(100)
    expect(b!.get('row'), 'a fill is not a write: it invalidates nobody').to.equal('db-1')
    a!.set('row', 'written')
    await cluster.run(100)
    expect(b!.get('row')).to.equal(undefined)
    expect(await cluster.settle(b!.getWithFiller('row', () => 'db-after'))).to.equal('db-after')
    expect(b!.get('row')).to.equal('db-after')
  })

  // The fill race: a load that began before an invalidation arrived may hold
  // the older value; keeping it would let b read a value older than a write it heard of.
  it('a fill during which an invalidation arrives is returned to its callers but not kept', async () => {
    cluster = new CacheCluster(74, { mode: 'invalidate' })
    const [a, b] = await cluster.start(2)
    let release: (v: string) => void = () => {}
    const slow = new Promise<string>((r) => { release = r })
    const fill = b!.getWithFiller('row', () => slow)
    await cluster.run(10)
    a!.set('row', 'newer')
    await cluster.run(100)
    release('loaded before the write')
    expect(await cluster.settle(fill)).to.equal('loaded before the write')
    expect(b!.get('row'), 'not kept: an invalidation came during the load').to.equal(undefined)
  })

  it('a lost invalidation is repaired by anti-entropy', async () => {
    cluster = new CacheCluster(75, { mode: 'invalidate' })
    const [a, b] = await cluster.start(2)
    await cluster.settle(b!.getWithFiller('row', () => 'filled on b'))
    cluster.net.block(a!.address, b!.address)
    a!.set('row', 'written on a')
    await cluster.run(300)
    cluster.net.unblock(a!.address, b!.address)
    expect(b!.get('row')).to.equal('filled on b')
    expect(await cluster.until(() => b!.get('row') === undefined, 30_000), 'invalidated by an anti-entropy round').to.be.at.least(0)
    expect(a!.get('row')).to.equal('written on a')
  })

  it('a node in invalidation mode keeps no value from a replicating peer, only the invalidation', async () => {
    cluster = new CacheCluster(76)
    const a = await cluster.add({ nodeId: 'r' })
    const b = await cluster.add({ nodeId: 'i', mode: 'invalidate' })
    await cluster.until(() => b.members().length === 2 && a.members().length === 2, 10_000)
    b.set('k', 'b-own')
    await cluster.run(100)
    a.set('k', 'from the replicating node')
    await cluster.run(100)
    expect(b.get('k')).to.equal(undefined)
  })

  it('refuses an unknown mode', async () => {
    cluster = new CacheCluster(77)
    let err: unknown
    try {
      await cluster.add({ mode: 'bogus' as 'invalidate' })
    } catch (e) {
      err = e
    }
    expect(err).to.be.instanceOf(RangeError)
    expect((err as Error).message).to.match(/^option mode: /)
  })
})
