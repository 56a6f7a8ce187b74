/**
 * cache-manager 7 over Keyv 5 over `KeyvBcache` on a 3-node bcache cluster
 * (in-memory network, manual clock): what one node's cache-manager writes,
 * the others read; cache-manager's own `wrap()` fills once per process, and
 * `bcacheWrap` once per cluster through `getWithFiller`.
 */
import { readFile } from 'node:fs/promises'
import { expect } from 'chai'
import { createCache, type Cache } from 'cache-manager'
import Keyv from 'keyv'
import type { Bcache } from '../../lib/bcache.js'
import { bcacheWrap, KeyvBcache } from '../../lib/keyv.js'
import { CacheCluster } from '../support/cache-cluster.js'

describe('bcache/keyv: cache-manager 7 on a 3-node cluster', function () {
  this.timeout(60_000)
  let cluster: CacheCluster
  let nodes: Array<Bcache<unknown>>
  let caches: Cache[]

  beforeEach(async () => {
    cluster = new CacheCluster(71)
    nodes = await cluster.start(3)
    caches = nodes.map((n) => createCache({ stores: [new Keyv({ store: new KeyvBcache(n) })] }))
  })

  afterEach(async () => {
    await cluster.closeAll()
  })

  /** A loader that counts its runs and answers after 30 virtual ms. */
  function slowLoader<T>(value: T): { load: () => Promise<T>; runs: () => number } {
    let n = 0
    return {
      load: async () => {
        n++
        await new Promise<void>((r) => cluster.clock.setTimeout(r, 30))
        return value
      },
      runs: () => n
    }
  }

  it('a value set through one node\'s cache-manager is read through every other node\'s', async () => {
    await caches[0]!.set('user:1', { name: 'ada', tags: ['x'] })
    const all = await cluster.until(() => nodes.every((n) => n.has('keyv:user:1')), 5_000)
    expect(all).to.be.at.least(0)
    for (const c of caches) expect(await c.get('user:1')).to.deep.equal({ name: 'ada', tags: ['x'] })
    await caches[2]!.del('user:1')
    expect(await cluster.until(() => nodes.every((n) => !n.has('keyv:user:1')), 5_000)).to.be.at.least(0)
    for (const c of caches) expect(await c.get('user:1')).to.equal(undefined)
  })

  it('a TTL given to cache-manager expires the key on every node (bcache\'s TTL, in ms)', async () => {
    await caches[1]!.set('session', 's1', 1_000)
    await cluster.until(() => nodes.every((n) => n.has('keyv:session')), 5_000)
    for (const n of nodes) expect(n.getRemainingTTL('keyv:session')).to.be.within(1, 1_000)
    await cluster.run(1_100)
    for (const c of caches) expect(await c.get('session')).to.equal(undefined)
  })

  it('cache-manager\'s own wrap() coalesces per process only: a 3-node storm runs the loader 3 times', async () => {
    const loader = slowLoader('v')
    const calls = caches.flatMap((c) => Array.from({ length: 10 }, () => c.wrap('hot', loader.load)))
    const values = await cluster.settle(Promise.all(calls))
    expect(new Set(values)).to.deep.equal(new Set(['v']))
    expect(loader.runs()).to.equal(3)
  })

  it('bcacheWrap single-fills a 3-node storm through bcache: the loader runs once, every node reads the value', async () => {
    const loader = slowLoader({ rows: [1, 2, 3] })
    const calls = caches.flatMap((c) => Array.from({ length: 10 }, () => bcacheWrap(c, 'report', loader.load, { ttl: 60_000 })))
    const values = await cluster.settle(Promise.all(calls))
    expect(loader.runs()).to.equal(1)
    for (const v of values) expect(v).to.deep.equal({ rows: [1, 2, 3] })
    expect(nodes.reduce((s, n) => s + n.stats().fills.leasesGranted, 0)).to.equal(1)
    // stored in Keyv's format under Keyv's key: plain cache-manager reads see it, with its TTL
    for (const c of caches) expect(await c.get('report')).to.deep.equal({ rows: [1, 2, 3] })
    for (const n of nodes) expect(n.getRemainingTTL('keyv:report')).to.be.within(1, 60_000)
    // a hit runs no loader
    expect(await cluster.settle(bcacheWrap(caches[2]!, 'report', loader.load))).to.deep.equal({ rows: [1, 2, 3] })
    expect(loader.runs()).to.equal(1)
  })

  it('bcacheWrap hands the loader\'s error to every caller and does not cache it', async () => {
    let runs = 0
    const failing = async (): Promise<string> => {
      runs++
      await new Promise<void>((r) => cluster.clock.setTimeout(r, 10))
      throw new Error('db down')
    }
    const results = await cluster.settle(Promise.allSettled(caches.map((c) => bcacheWrap(c, 'e', failing))))
    expect(runs).to.equal(1)
    // the filling node's callers get the error itself, the others a FillError carrying its message
    for (const r of results) expect(r.status === 'rejected' && (r.reason as Error).message).to.contain('db down')
    for (const c of caches) expect(await c.get('e')).to.equal(undefined)
    expect(await cluster.settle(bcacheWrap(caches[0]!, 'e', () => 'ok'))).to.equal('ok')
  })

  it('bcacheWrap takes a Keyv too, honours its namespace, and refuses a target without a KeyvBcache', async () => {
    const keyv = new Keyv({ store: new KeyvBcache(nodes[0]!), namespace: 'app' })
    expect(await cluster.settle(bcacheWrap(keyv, 'k', () => 7))).to.equal(7)
    expect(nodes[0]!.has('app:k')).to.equal(true)
    expect(await keyv.get('k')).to.equal(7)
    let err: unknown
    try { await bcacheWrap(new Keyv(), 'k', () => 1) } catch (e) { err = e }
    expect(err).to.be.instanceOf(TypeError)
    expect(() => new KeyvBcache({} as Bcache<unknown>)).to.throw(TypeError, 'cache must be a Bcache')
  })

  it('a value bcache refuses (over maxValueBytes) makes Keyv emit the error and set resolve to false; nothing is written', async () => {
    const keyv = new Keyv({ store: new KeyvBcache(nodes[0]!) })
    const errors: unknown[] = []
    keyv.on('error', (e: unknown) => errors.push(e))
    expect(await keyv.set('big', 'x'.repeat(1_100_000))).to.equal(false)
    expect(errors).to.have.length(1)
    expect(errors[0]).to.be.instanceOf(RangeError)
    expect(nodes[0]!.has('keyv:big')).to.equal(false)
  })

  it('clear() of one namespace removes its keys on every node and leaves the other namespaces', async () => {
    const a = new Keyv({ store: new KeyvBcache(nodes[0]!), namespace: 'a' })
    const b = new Keyv({ store: new KeyvBcache(nodes[1]!), namespace: 'b' })
    await a.set('x', 1)
    await a.set('y', 2)
    await b.set('x', 3)
    await cluster.until(() => nodes.every((n) => n.size === 3), 5_000)
    await new Keyv({ store: new KeyvBcache(nodes[2]!), namespace: 'a' }).clear()
    expect(await cluster.until(() => nodes.every((n) => n.size === 1), 5_000)).to.be.at.least(0)
    for (const n of nodes) expect([...n.keys()]).to.deep.equal(['b:x'])
  })

  it('clear() uses the node\'s clear({ prefix }) when the node has one', async () => {
    const seen: unknown[] = []
    const fake = { getWithFiller: () => undefined, clear: (o?: unknown) => { seen.push(o) } } as unknown as Bcache<unknown>
    await new Keyv({ store: new KeyvBcache(fake), namespace: 'ns' }).clear()
    const bare = new KeyvBcache(fake)
    await bare.clear()
    expect(seen).to.deep.equal([{ prefix: 'ns:' }, {}])
  })

  it('bcache/keyv loads nothing from keyv at run time (keyv is an optional peer)', async () => {
    const js = await readFile(new URL('../../lib/keyv.js', import.meta.url), 'utf8')
    expect(js).to.not.match(/from ['"]keyv['"]|import\(['"]keyv['"]\)|require\(['"]keyv['"]\)/)
  })
})
