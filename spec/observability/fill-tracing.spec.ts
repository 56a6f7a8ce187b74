import { expect } from 'chai'
import { tracingChannel } from 'node:diagnostics_channel'
import { CacheCluster } from '../support/cache-cluster.js'

type Ctx = { key: string; nodeId: string; result?: unknown; error?: unknown }

describe('tracing:bcache:fill (diagnostics_channel TracingChannel)', function () {
  this.timeout(30_000)
  let cluster: CacheCluster
  const channel = tracingChannel<unknown, Ctx>('bcache:fill')
  let events: Array<[string, Ctx]> = []
  const handlers = {
    start: (c: Ctx) => { events.push(['start', { ...c }]) },
    end: (c: Ctx) => { events.push(['end', { ...c }]) },
    asyncStart: (c: Ctx) => { events.push(['asyncStart', { ...c }]) },
    asyncEnd: (c: Ctx) => { events.push(['asyncEnd', { ...c }]) },
    error: (c: Ctx) => { events.push(['error', { ...c }]) }
  }

  beforeEach(() => { events = [] })
  afterEach(async () => {
    channel.unsubscribe(handlers)
    await cluster?.closeAll()
  })

  it('publishes start, end, asyncStart and asyncEnd around a local filler run, with { key, nodeId }', async () => {
    cluster = new CacheCluster(81)
    const [a] = await cluster.start(1)
    channel.subscribe(handlers)
    const v = await cluster.settle(a!.getWithFiller('user:1', async () => {
      await new Promise<void>((r) => cluster.clock.setTimeout(r, 10))
      return 'alice'
    }))
    expect(v).to.equal('alice')
    expect(events.map(([e]) => e)).to.deep.equal(['start', 'end', 'asyncStart', 'asyncEnd'])
    expect(events[0]![1]).to.deep.equal({ key: 'user:1', nodeId: a!.nodeId })
    expect(events[2]![1]).to.include({ key: 'user:1', result: 'alice' })
  })

  it('publishes error with the filler\'s error, also for a synchronous throw', async () => {
    cluster = new CacheCluster(82)
    const [a] = await cluster.start(1)
    channel.subscribe(handlers)
    const boom = new Error('db down')
    const err = await cluster.settle(a!.getWithFiller('k', () => { throw boom }).catch((e: unknown) => e))
    expect(err).to.equal(boom)
    expect(events.map(([e]) => e)).to.deep.equal(['start', 'end', 'error', 'asyncStart', 'asyncEnd'])
    expect(events.find(([e]) => e === 'error')![1]).to.include({ key: 'k', nodeId: a!.nodeId, error: boom })
  })

  it('publishes nothing for a hit, and fills run the same with nobody subscribed', async () => {
    cluster = new CacheCluster(83)
    const [a] = await cluster.start(1)
    expect(await cluster.settle(a!.getWithFiller('k', () => 'v'))).to.equal('v')
    channel.subscribe(handlers)
    expect(await cluster.settle(a!.getWithFiller('k', () => 'other'))).to.equal('v')
    expect(events).to.deep.equal([])
  })
})
