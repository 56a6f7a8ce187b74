import { expect } from 'chai'
import type { Bcache, KeyEvent, KeyEventName } from '../lib/bcache.js'
import { resolveOptions } from '../lib/bcache-options.js'
import { FillAbortedError } from '../lib/errors.js'
import { CacheCluster } from './support/cache-cluster.js'

/** Records every key event of `node` as "name key origin". */
function record(node: Bcache<unknown>, names: readonly KeyEventName[] = ['set', 'delete', 'evict', 'expire']): string[] {
  const seen: string[] = []
  for (const name of names) node.on(name, (e: KeyEvent) => seen.push(`${name} ${e.key} ${e.origin}`))
  return seen
}

describe('Bcache parity with lru-cache (in-memory network, manual clock)', function () {
  this.timeout(60_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  describe('size, keys, entries, peek', () => {
    it('walks live keys most recently used first, without counting hits or changing recency', async () => {
      cluster = new CacheCluster(71)
      const [a] = await cluster.start(1)
      a!.set('x', 1)
      a!.set('y', 2)
      a!.set('z', 3, { ttl: 100 })
      a!.get('x')
      expect(a!.size).to.equal(3)
      expect([...a!.keys()]).to.deep.equal(['x', 'z', 'y'])
      expect([...a!.entries()]).to.deep.equal([['x', 1], ['z', 3], ['y', 2]])
      expect([...a!.values()]).to.deep.equal([1, 3, 2])
      expect([...a!]).to.deep.equal([...a!.entries()])
      expect(a!.stats().hits).to.equal(1) // the get above, not the walks
      expect(a!.peek('y')).to.equal(2)
      expect([...a!.keys()]).to.deep.equal(['x', 'z', 'y']) // peek kept y's recency
      expect(a!.stats()).to.include({ hits: 1, misses: 0 })
      await cluster.run(150)
      expect([...a!.keys()]).to.deep.equal(['x', 'y'])
      expect(a!.peek('z')).to.equal(undefined)
      expect(a!.size).to.equal(2)
    })

    it('decodes replicated values lazily on a walk or a peek, and peek leaves the LRU order alone', async () => {
      cluster = new CacheCluster(72, { maxKeys: 2 })
      const [a, b] = await cluster.start(2)
      a!.set('old', { v: 'old' })
      a!.set('new', { v: 'new' })
      await cluster.until(() => b!.has('old') && b!.has('new'), 1000, 1)
      expect(b!.peek('old')).to.deep.equal({ v: 'old' })
      expect([...b!.entries()]).to.deep.equal([['new', { v: 'new' }], ['old', { v: 'old' }]])
      b!.set('third', 3) // evicts the least recently used: still 'old', peeked but not refreshed
      expect(b!.has('old')).to.equal(false)
      expect(b!.get('new')).to.deep.equal({ v: 'new' })
    })

    it('tolerates writes while walking (a snapshot of the order)', async () => {
      cluster = new CacheCluster(73)
      const [a] = await cluster.start(1)
      for (let i = 0; i < 5; i++) a!.set(`k${i}`, i)
      const seen: string[] = []
      for (const key of a!.keys()) {
        seen.push(key)
        if (key === 'k4') a!.delete('k3')
        a!.set(`new-${key}`, 0)
      }
      expect(seen).to.deep.equal(['k4', 'k2', 'k1', 'k0'])
    })
  })

  describe('TTL', () => {
    it('getRemainingTTL: ms left, Infinity without a TTL, 0 when missing or expired', async () => {
      cluster = new CacheCluster(74)
      const [a] = await cluster.start(1)
      a!.set('t', 1, { ttl: 1000 })
      a!.set('forever', 1)
      expect(a!.getRemainingTTL('t')).to.equal(1000)
      await cluster.run(400)
      expect(a!.getRemainingTTL('t')).to.be.within(590, 600)
      expect(a!.getRemainingTTL('forever')).to.equal(Infinity)
      expect(a!.getRemainingTTL('missing')).to.equal(0)
      await cluster.run(700)
      expect(a!.getRemainingTTL('t')).to.equal(0)
    })

    it('uses the default ttl of create for set and getWithFiller; ttl 0 on a call means none', async () => {
      cluster = new CacheCluster(75, { ttl: 500 })
      const [a, b] = await cluster.start(2)
      a!.set('d', 1)
      a!.set('none', 1, { ttl: 0 })
      a!.set('own', 1, { ttl: 2000 })
      expect(a!.getRemainingTTL('d')).to.equal(500)
      expect(a!.getRemainingTTL('none')).to.equal(Infinity)
      expect(a!.getRemainingTTL('own')).to.equal(2000)
      let filledAt = 0
      await cluster.settle(a!.getWithFiller('f', () => { filledAt = cluster.clock.now(); return 'filled' }))
      expect(a!.getRemainingTTL('f')).to.equal(500 - (cluster.clock.now() - filledAt))
      await cluster.until(() => b!.has('f'), 1000, 1)
      await cluster.run(600)
      for (const n of [a!, b!]) {
        expect(n.get('d')).to.equal(undefined)
        expect(n.get('f')).to.equal(undefined)
        expect(n.get('none')).to.equal(1)
        expect(n.get('own')).to.equal(1)
      }
    })

    it('refuses a bad default ttl at create, naming the option', () => {
      for (const [ttl, err] of [[-1, RangeError], [Infinity, RangeError], ['5', TypeError], [Number.MAX_SAFE_INTEGER, RangeError]] as const) {
        expect(() => resolveOptions({ listenAddr: '127.0.0.1:0', maxKeys: 10, ttl: ttl as number }, true), String(ttl)).to.throw(err, /^option ttl: /)
      }
      expect(resolveOptions({ listenAddr: '127.0.0.1:0', maxKeys: 10, ttl: 1500 }, true).ttl).to.equal(1500)
    })

    it("lets the filler set its value's TTL with ctx.setTtl, over the call's ttl", async () => {
      cluster = new CacheCluster(77, { ttl: 10_000 })
      const [a, b] = await cluster.start(2)
      const v = await cluster.settle(a!.getWithFiller('token', (_k, ctx) => {
        ctx.setTtl(300)
        return { token: 'abc' }
      }, { ttl: 5000 }))
      expect(v).to.deep.equal({ token: 'abc' })
      expect(a!.getRemainingTTL('token')).to.equal(300)
      await cluster.until(() => b!.has('token'), 1000, 1)
      expect(b!.getRemainingTTL('token')).to.be.within(290, 300)
      // a value that is itself an object shaped like { value, ttl } is stored as is
      const plain = await cluster.settle(a!.getWithFiller('obj', () => ({ value: 1, ttl: 5 })))
      expect(plain).to.deep.equal({ value: 1, ttl: 5 })
      expect(a!.getRemainingTTL('obj')).to.equal(10_000)
      // setTtl(0): no expiry even with a default
      await cluster.settle(a!.getWithFiller('keep', (_k, ctx) => { ctx.setTtl(0); return 1 }))
      expect(a!.getRemainingTTL('keep')).to.equal(Infinity)
    })

    it('fails the fill when the filler passes a bad TTL to setTtl, and caches nothing', async () => {
      cluster = new CacheCluster(78)
      const [a] = await cluster.start(1)
      const p = a!.getWithFiller('bad', (_k, ctx) => { ctx.setTtl(-5); return 1 })
      let err: unknown
      await cluster.settle(p.catch((e: unknown) => { err = e }))
      expect(err).to.be.instanceOf(RangeError)
      expect(a!.has('bad')).to.equal(false)
    })
  })

  describe('stale values in getWithFiller', () => {
    /** A filler that resolves after `ms` with `value`, or rejects when `value` is an Error. */
    const slow = (value: unknown, ms: number, calls: { n: number }) => async (): Promise<unknown> => {
      calls.n++
      await new Promise<void>((r) => cluster.clock.setTimeout(r, ms))
      if (value instanceof Error) throw value
      return value
    }

    it('allowStale returns the expired value at once while one refill runs, then the fresh one', async () => {
      cluster = new CacheCluster(79)
      const [a] = await cluster.start(1)
      a!.set('k', 'old', { ttl: 100 })
      await cluster.run(150)
      const calls = { n: 0 }
      const fill = slow('fresh', 50, calls)
      const first = await cluster.settle(a!.getWithFiller('k', fill, { allowStale: true }), 1)
      const second = await cluster.settle(a!.getWithFiller('k', fill, { allowStale: true }), 1)
      expect([first, second]).to.deep.equal(['old', 'old'])
      expect(a!.get('k')).to.equal(undefined)
      await cluster.until(() => a!.has('k'), 1000, 1)
      expect(calls.n).to.equal(1)
      expect(await cluster.settle(a!.getWithFiller('k', fill, { allowStale: true }))).to.equal('fresh')
      expect(a!.stats().staleHits).to.equal(2)
    })

    it('without allowStale, an expired key waits for the fill', async () => {
      cluster = new CacheCluster(80)
      const [a] = await cluster.start(1)
      a!.set('k', 'old', { ttl: 100 })
      await cluster.run(150)
      const v = await cluster.settle(a!.getWithFiller('k', slow('fresh', 50, { n: 0 })))
      expect(v).to.equal('fresh')
    })

    it('allowStaleOnFetchRejection returns the expired value when the refill fails, else the fresh one', async () => {
      cluster = new CacheCluster(81)
      const [a] = await cluster.start(1)
      a!.set('k', 'old', { ttl: 100 })
      await cluster.run(150)
      const failing = slow(new Error('db down'), 20, { n: 0 })
      expect(await cluster.settle(a!.getWithFiller('k', failing, { allowStaleOnFetchRejection: true }))).to.equal('old')
      let err: unknown
      await cluster.settle(a!.getWithFiller('k', failing).catch((e: unknown) => { err = e }))
      expect((err as Error).message).to.equal('db down')
      expect(await cluster.settle(a!.getWithFiller('k', slow('fresh', 20, { n: 0 }), { allowStaleOnFetchRejection: true }))).to.equal('fresh')
    })

    it("still rejects on this caller's own abort", async () => {
      cluster = new CacheCluster(82)
      const [a] = await cluster.start(1)
      a!.set('k', 'old', { ttl: 100 })
      await cluster.run(150)
      const ac = new AbortController()
      const p = a!.getWithFiller('k', slow('fresh', 100, { n: 0 }), { allowStaleOnFetchRejection: true, signal: ac.signal })
      cluster.clock.setTimeout(() => ac.abort(), 10)
      let err: unknown
      await cluster.settle(p.catch((e: unknown) => { err = e }))
      expect(err).to.be.instanceOf(FillAbortedError)
    })

    it('never serves a stale value after a delete, local or replicated', async () => {
      cluster = new CacheCluster(83)
      const [a, b] = await cluster.start(2)
      a!.set('k', 'old', { ttl: 100 })
      await cluster.run(150)
      expect(a!.get('k')).to.equal(undefined)
      expect(b!.get('k')).to.equal(undefined)
      b!.delete('k')
      await cluster.run(50)
      const failing = slow(new Error('db down'), 20, { n: 0 })
      for (const n of [a!, b!]) {
        let err: unknown
        await cluster.settle(n.getWithFiller('k', failing, { allowStale: true, allowStaleOnFetchRejection: true }).catch((e: unknown) => { err = e }))
        expect((err as Error).message).to.equal('db down')
      }
    })

    it('refuses a non-boolean allowStale naming it', async () => {
      cluster = new CacheCluster(84)
      const [a] = await cluster.start(1)
      let err: unknown
      a!.set('k', 1) // a hit refuses it too
      await a!.getWithFiller('k', () => 1, { allowStale: 'yes' as unknown as boolean }).catch((e: unknown) => { err = e })
      expect(err).to.be.instanceOf(TypeError)
      expect((err as Error).message).to.match(/^option allowStale: /)
    })
  })

  describe('key events', () => {
    it('reports local and replicated sets and deletes, evictions and expiries (an eviction before the write that caused it)', async () => {
      cluster = new CacheCluster(85, { maxKeys: 2 })
      const [a, b] = await cluster.start(2)
      const onA = record(a!)
      const onB = record(b!)
      a!.set('x', 1, { ttl: 100 })
      a!.set('y', 2)
      await cluster.until(() => b!.has('y'), 1000, 1)
      b!.delete('y')
      await cluster.until(() => !a!.has('y'), 1000, 1)
      a!.set('z', 3)
      a!.set('w', 4) // maxKeys 2: evicts x on both nodes
      await cluster.until(() => b!.has('w'), 1000, 1)
      b!.set('t', 5, { ttl: 50 })
      await cluster.run(100)
      b!.get('t')
      expect(onA).to.deep.equal([
        'set x local', 'set y local', 'delete y remote', 'set z local', 'evict x local', 'set w local', 'evict z local', 'set t remote'
      ])
      expect(onB).to.deep.equal([
        'set x remote', 'set y remote', 'delete y local', 'set z remote', 'evict x local', 'set w remote', 'evict z local', 'set t local', 'expire t local'
      ])
    })

    it('stops reporting when the last listener goes, and logs a listener that throws', async () => {
      const errors: string[] = []
      const logger = { debug() {}, info() {}, warn() {}, error: (m: string) => { errors.push(m) } }
      cluster = new CacheCluster(86, { logger })
      const [a, b] = await cluster.start(2)
      const seen: string[] = []
      const listener = (e: KeyEvent): void => { seen.push(e.key) }
      a!.on('set', listener)
      a!.once('set', () => { throw new Error('boom') })
      a!.set('one', 1)
      a!.off('set', listener)
      a!.set('two', 2)
      expect(seen).to.deep.equal(['one'])
      expect(errors).to.have.length(1)
      expect(errors[0]).to.match(/'set' listener threw: boom/)
      a!.removeAllListeners()
      a!.on('set', listener)
      a!.set('again', 1)
      expect(seen).to.deep.equal(['one', 'again'])
      // a throwing listener on a replicated set fails nothing else in the batch
      b!.on('set', () => { throw new Error('remote boom') })
      a!.set('three', 3)
      a!.set('four', 4)
      await cluster.until(() => b!.has('three') && b!.has('four'), 1000, 1)
      expect(errors.filter((m) => m.includes('remote boom')).length).to.be.at.least(2)
    })
  })
})
