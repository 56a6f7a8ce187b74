import { expect } from 'chai'
import type { Bcache } from '../lib/bcache.js'
import type { NodeParts } from '../lib/node-parts.js'
import { encodeEntry } from '../lib/replication/delta.js'
import { CacheCluster } from './support/cache-cluster.js'

/** The node's internals (the store, and the replicator's datagram entry point). */
const parts = (n: Bcache<unknown>): NodeParts<unknown> => (n as unknown as { p: NodeParts<unknown> }).p

describe('Bcache.clear (in-memory network, manual clock)', function () {
  this.timeout(60_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  it('clears every key on every node, at once on the caller', async () => {
    cluster = new CacheCluster(3)
    const [a, b, c] = await cluster.start(3)
    for (const k of ['x', 'y', 'ns:z']) b!.set(k, k)
    expect(await cluster.until(() => a!.has('x') && c!.has('ns:z'), 1000, 1)).to.be.at.least(0)
    a!.clear()
    expect(a!.size).to.equal(0)
    expect(await cluster.until(() => b!.size === 0 && c!.size === 0, 1000, 1)).to.be.within(0, 50)
  })

  it('drops a write from before the clear that arrives after it', async () => {
    cluster = new CacheCluster(5)
    const [a, b, c] = await cluster.start(3)
    cluster.net.block(a!.address, b!.address)
    a!.set('k', 'old') // reaches c, not b
    expect(await cluster.until(() => c!.get('k') === 'old', 1000, 1)).to.be.at.least(0)
    const late = encodeEntry(parts(a!).store.peek('k')!)
    c!.clear()
    expect(await cluster.until(() => a!.size === 0 && !b!.has('k'), 1000, 1)).to.be.at.least(0)
    expect(parts(b!).store.clearOf('')).to.not.equal(undefined)
    parts(b!).replicator.notifyMsg(late) // the old datagram, late
    expect(b!.get('k')).to.equal(undefined)
    cluster.net.heal()
    await cluster.run(20_000)
    for (const n of [a!, b!, c!]) expect(n.get('k')).to.equal(undefined)
  })

  it('keeps writes made after the clear, also in the same turn and on another node', async () => {
    cluster = new CacheCluster(7)
    const [a, b, c] = await cluster.start(3)
    b!.set('k', 'before')
    expect(await cluster.until(() => a!.has('k') && c!.has('k'), 1000, 1)).to.be.at.least(0)
    a!.clear()
    a!.set('same-turn', 1)
    expect(a!.get('same-turn')).to.equal(1)
    expect(await cluster.until(() => !b!.has('k') && !c!.has('k'), 1000, 1)).to.be.at.least(0)
    c!.set('k', 'after')
    await cluster.run(5000)
    for (const n of [a!, b!, c!]) {
      expect(n.get('k')).to.equal('after')
      expect(n.get('same-turn')).to.equal(1)
    }
  })

  it('reaches a node partitioned during the clear through anti-entropy after the heal', async () => {
    cluster = new CacheCluster(11)
    const [a, b, c] = await cluster.start(3)
    for (const k of ['ns:1', 'ns:2', 'keep']) c!.set(k, k)
    expect(await cluster.until(() => a!.has('ns:2') && b!.has('keep'), 1000, 1)).to.be.at.least(0)
    cluster.net.partition([a!.address, b!.address], [c!.address])
    a!.clear({ prefix: 'ns:' })
    await cluster.run(2000)
    expect(c!.get('ns:1')).to.equal('ns:1') // the partition held the clear back
    cluster.net.heal()
    expect(await cluster.until(() => !c!.has('ns:1') && !c!.has('ns:2'), 60_000)).to.be.at.least(0)
    for (const n of [a!, b!, c!]) {
      expect(n.get('ns:1')).to.equal(undefined)
      expect(n.get('keep')).to.equal('keep')
    }
  })

  it('with a prefix, clears only the keys starting with it', async () => {
    cluster = new CacheCluster(13)
    const [a, b, c] = await cluster.start(3)
    for (const k of ['ns:a', 'ns:b', 'ns', 'other', 'xns:a']) a!.set(k, k)
    expect(await cluster.until(() => c!.has('xns:a') && b!.has('ns:a'), 1000, 1)).to.be.at.least(0)
    b!.clear({ prefix: 'ns:' })
    await cluster.run(1000)
    for (const n of [a!, b!, c!]) {
      expect(n.has('ns:a') || n.has('ns:b')).to.equal(false)
      expect([n.get('ns'), n.get('other'), n.get('xns:a')]).to.deep.equal(['ns', 'other', 'xns:a'])
    }
    b!.set('ns:a', 'again')
    await cluster.run(1000)
    for (const n of [a!, b!, c!]) expect(n.get('ns:a')).to.equal('again')
  })

  it('refuses bad options, naming them', async () => {
    cluster = new CacheCluster(17)
    const [a] = await cluster.start(1)
    expect(() => a!.clear(null as never)).to.throw(TypeError, /clear options/)
    expect(() => a!.clear({ prefix: 5 as never })).to.throw(TypeError, /prefix/)
    expect(() => a!.clear({ prefix: '\uD800' })).to.throw(TypeError, /prefix/)
    expect(() => a!.clear({ prefix: 'x'.repeat(5000) })).to.throw(RangeError, /prefix/)
  })
})
