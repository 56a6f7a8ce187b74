import { expect } from 'chai'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { CacheCluster } from './support/cache-cluster.js'
import { rendezvousOwner } from '../lib/fill/rendezvous.js'
import type { Bcache } from '../lib/bcache.js'

describe('Bcache fills across the cluster (in-memory network, manual clock)', function () {
  this.timeout(60_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  it('runs the filler once for the whole cluster, through the key owner lease', async () => {
    cluster = new CacheCluster(41)
    const nodes = await cluster.start(3)
    let calls = 0
    const filler = async (): Promise<string> => {
      calls++
      await new Promise<void>((r) => cluster.clock.setTimeout(r, 30))
      return 'filled'
    }
    const all = nodes.flatMap((n) => Array.from({ length: 200 }, () => n.getWithFiller('row', filler, { ttl: 60_000 })))
    const values = await cluster.settle(Promise.all(all))
    expect(calls).to.equal(1)
    expect(new Set(values)).to.deep.equal(new Set(['filled']))
    for (const n of nodes) expect(n.get('row')).to.equal('filled')
    const granted = nodes.reduce((s, n) => s + n.stats().fills.leasesGranted, 0)
    expect(granted).to.equal(1)
  })

  it('falls back to a local fill when the owner is unreachable', async () => {
    cluster = new CacheCluster(42, { fill: { leaseRequestTimeoutMs: 200 } })
    const nodes = await cluster.start(3)
    const ids = nodes.map((n) => n.nodeId)
    // find a key owned by node 0, then cut node 1 off from it
    let key = ''
    for (let i = 0; ; i++) {
      key = `k${i}`
      if (rendezvousOwner(key, ids) === ids[0]) break
    }
    cluster.net.block(nodes[1]!.address, nodes[0]!.address)
    let calls = 0
    const v = await cluster.settle(nodes[1]!.getWithFiller(key, () => { calls++; return 'local' }))
    expect(v).to.equal('local')
    expect(calls).to.equal(1)
    expect(nodes[1]!.stats().fills.fallbacks).to.equal(1)
  })

  it('gives every waiter the same error and does not cache it', async () => {
    cluster = new CacheCluster(43)
    const [a] = await cluster.start(2)
    let calls = 0
    const failing = async (): Promise<string> => {
      calls++
      await new Promise<void>((r) => cluster.clock.setTimeout(r, 10))
      throw new Error('db down')
    }
    const results = await cluster.settle(Promise.allSettled(Array.from({ length: 50 }, () => a!.getWithFiller('e', failing))))
    expect(calls).to.equal(1)
    for (const r of results) {
      expect(r.status).to.equal('rejected')
      expect(String((r as PromiseRejectedResult).reason)).to.contain('db down')
    }
    expect(a!.get('e')).to.equal(undefined)
    const v = await cluster.settle(a!.getWithFiller('e', () => 'ok'))
    expect(v).to.equal('ok')
  })

  it("sends one filler's error to every waiter on every node within a few round trips, and does not cache it", async () => {
    cluster = new CacheCluster(45)
    const nodes = await cluster.start(3)
    let calls = 0
    const failing = async (): Promise<string> => {
      calls++
      await new Promise<void>((r) => cluster.clock.setTimeout(r, 50))
      throw new Error('db down')
    }
    const start = cluster.clock.now()
    const settledAt: number[] = []
    const all = nodes.flatMap((n) => Array.from({ length: 100 }, () =>
      n.getWithFiller('hot', failing).finally(() => { settledAt.push(cluster.clock.now() - start) })))
    const results = await cluster.settle(Promise.allSettled(all), 20_000, 1)
    expect(calls).to.equal(1)
    for (const r of results) {
      expect(r.status).to.equal('rejected')
      expect(String((r as PromiseRejectedResult).reason)).to.contain('db down')
    }
    expect(Math.max(...settledAt), 'the last caller was rejected at').to.be.at.most(100)
    const remote = nodes.reduce((s, n) => s + n.stats().fills.remoteFailures, 0)
    expect(remote).to.equal(2)
    for (const n of nodes) expect(n.get('hot')).to.equal(undefined)
    // not cached: the next storm runs the filler again, once, and every node gets the value
    const next = nodes.flatMap((n) => Array.from({ length: 50 }, () => n.getWithFiller('hot', () => { calls++; return 'ok' })))
    const values = await cluster.settle(Promise.all(next))
    expect(new Set(values)).to.deep.equal(new Set(['ok']))
    expect(calls).to.equal(2)
  })

  it('publishes stats on the bcache:stats diagnostics channel', async () => {
    cluster = new CacheCluster(44, { statsInterval: 1000 })
    const [a] = await cluster.start(1)
    const seen: unknown[] = []
    const onStats = (msg: unknown): void => { seen.push(msg) }
    subscribe('bcache:stats', onStats)
    try {
      a!.set('x', 1)
      await cluster.run(2500)
    } finally {
      unsubscribe('bcache:stats', onStats)
    }
    expect(seen.length).to.be.at.least(2)
    expect((seen.at(-1) as ReturnType<Bcache['stats']>).keys).to.equal(1)
  })
})
