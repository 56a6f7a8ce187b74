/**
 * Peers given as host names (resolved through an injected resolver on each
 * join attempt and every `peerRefreshMs`) or as a function. No real name is
 * resolved here: the resolver is a fake.
 */
import { expect } from 'chai'
import { Bcache } from '../../lib/bcache.js'
import type { BcacheOptions } from '../../lib/bcache-options.js'
import { needsRefresh, peerSource, type Resolver } from '../../lib/membership/peer-source.js'
import { seededRandom } from '../../lib/random.js'
import { CacheCluster } from '../support/cache-cluster.js'

/** A fake DNS: names to addresses, changeable; counts lookups. */
class FakeDns {
  readonly records = new Map<string, string[]>()
  lookups = 0
  readonly resolve: Resolver = async (host) => {
    this.lookups++
    const r = this.records.get(host)
    if (r === undefined) throw new Error(`ENOTFOUND ${host}`)
    return [...r]
  }
}

describe('peerSource', () => {
  it('keeps IP literals, resolves names to every address with the port, drops duplicates', async () => {
    const dns = new FakeDns()
    dns.records.set('cache.default.svc', ['10.0.0.2', 'fd00::2', '10.0.0.1'])
    const read = peerSource(['10.0.0.1:7946', 'cache.default.svc:7946', '[::1]:7000'], dns.resolve)
    expect((await read()).sort()).to.deep.equal(['10.0.0.1:7946', '10.0.0.2:7946', '[::1]:7000', '[fd00::2]:7946'])
    dns.records.set('cache.default.svc', ['10.0.0.3'])
    expect(await read(), 're-resolved on every read').to.include('10.0.0.3:7946')
  })

  it('skips a name that fails while others answer; throws when every entry fails', async () => {
    const dns = new FakeDns()
    dns.records.set('good', ['10.0.0.5'])
    expect(await peerSource(['bad:1', 'good:2'], dns.resolve)()).to.deep.equal(['10.0.0.5:2'])
    let err: unknown
    await peerSource(['bad:1'], dns.resolve)().catch((e: unknown) => { err = e })
    expect(String(err)).to.match(/resolving bad failed: .*ENOTFOUND bad/)
  })

  it('a function is called as it is; only names and functions are refreshed', async () => {
    expect(await peerSource(async () => ['a:1', 'a:1', 'b:2'], async () => [])()).to.deep.equal(['a:1', 'b:2'])
    expect(needsRefresh(['10.0.0.1:1', '[::1]:2'])).to.equal(false)
    expect(needsRefresh(['10.0.0.1:1', 'cache:2'])).to.equal(true)
    expect(needsRefresh(async () => [])).to.equal(true)
  })
})

describe('Bcache with peers as host names or a function', function () {
  this.timeout(60_000)
  let cluster: CacheCluster
  const extra: Array<Bcache<unknown>> = []

  function createOn(opts: Partial<BcacheOptions>, resolve: Resolver, address?: string, seed = 9): Promise<Bcache<unknown>> {
    const p = Bcache.create<unknown>(
      { maxKeys: 1000, profile: 'lan', listenAddr: undefined as unknown as string, ...opts },
      { transport: cluster.net.bind(address), clock: cluster.clock, random: seededRandom(seed), defer: (fn) => cluster.clock.setTimeout(fn, 0), resolve }
    )
    return cluster.settle(p).then((n) => { extra.push(n); return n })
  }

  afterEach(async () => {
    await cluster.settle(Promise.all(extra.splice(0).map((n) => n.close())))
    await cluster.closeAll()
  })

  it('joins through a headless-service name that resolves to the seeds', async () => {
    cluster = new CacheCluster(81)
    const dns = new FakeDns()
    const a = await createOn({ nodeId: 'a', peers: ['cache.default.svc:7946'] }, dns.resolve, '127.1.5.1:7946')
    dns.records.set('cache.default.svc', ['127.1.5.1'])
    const b = await createOn({ nodeId: 'b', peers: ['cache.default.svc:7946'] }, dns.resolve, '127.1.5.2:7946')
    expect(b.members().map((m) => m.nodeId).sort()).to.deep.equal(['a', 'b'])
    expect(a.members()).to.have.length(2)
  })

  it('two nodes started apart find each other when the name starts answering (peerRefreshMs)', async () => {
    cluster = new CacheCluster(82)
    const dns = new FakeDns()
    dns.records.set('cache.svc', []) // nothing ready yet: each starts alone, at once
    const a = await createOn({ nodeId: 'a', peers: ['cache.svc:7946'], peerRefreshMs: 5000 }, dns.resolve, '127.1.6.1:7946', 1)
    const b = await createOn({ nodeId: 'b', peers: ['cache.svc:7946'], peerRefreshMs: 5000 }, dns.resolve, '127.1.6.2:7946', 2)
    expect(a.members()).to.have.length(1)
    dns.records.set('cache.svc', ['127.1.6.1', '127.1.6.2'])
    const took = await cluster.until(() => a.members().length === 2 && b.members().length === 2, 20_000)
    expect(took).to.be.within(0, 6000)
  })

  it('a function as peers, re-read on every attempt', async () => {
    cluster = new CacheCluster(83)
    const seeds: string[] = []
    let calls = 0
    const peers = async (): Promise<string[]> => { calls++; return [...seeds] }
    await createOn({ nodeId: 'a' }, async () => [], '127.1.7.1:7946')
    seeds.push('127.1.7.9:7946') // not up: attempts fail until the list names a live seed
    const pB = createOn({ nodeId: 'b', peers }, async () => [], '127.1.7.2:7946')
    await cluster.run(1000)
    seeds.push('127.1.7.1:7946')
    const b = await pB
    expect(calls).to.be.at.least(2)
    expect(b.members().map((m) => m.nodeId).sort()).to.deep.equal(['a', 'b'])
  })
})
