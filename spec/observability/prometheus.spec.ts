import { expect } from 'chai'
import { readFile } from 'node:fs/promises'
import * as client from 'prom-client'
import { registerBcacheMetrics } from '../../lib/prometheus.js'
import { CacheCluster } from '../support/cache-cluster.js'

/** The value of one sample line (`name{labels} value`) in a scrape, or undefined. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    if (line.slice(0, at) === series) return Number(line.slice(at + 1))
  }
  return undefined
}

describe('bcache/prometheus (real prom-client)', function () {
  this.timeout(30_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  it('exports counters and gauges read at scrape time', async () => {
    cluster = new CacheCluster(91)
    const [a, b] = await cluster.start(2)
    const registry = new client.Registry()
    const m = registerBcacheMetrics(b!, registry, { client })
    expect(m.names).to.include.members(['bcache_sets_total', 'bcache_keys', 'bcache_replication_applied_total', 'bcache_replication_lag_seconds'])
    let text = await registry.metrics()
    expect(text).to.include('# TYPE bcache_sets_total counter')
    expect(text).to.include('# TYPE bcache_keys gauge')
    expect(sample(text, 'bcache_keys')).to.equal(0)
    expect(sample(text, 'bcache_members{state="alive"}')).to.equal(2)
    expect(sample(text, 'bcache_members{state="dead"}')).to.equal(0)
    const applied = sample(text, 'bcache_replication_applied_total')!
    b!.set('mine', 1)
    b!.get('mine')
    b!.get('nope')
    a!.set('theirs', 2)
    await cluster.until(() => b!.get('theirs') === 2, 5_000)
    text = await registry.metrics()
    expect(sample(text, 'bcache_sets_total')).to.equal(1)
    expect(sample(text, 'bcache_hits_total')).to.equal(2) // get('mine') and get('theirs')
    expect(sample(text, 'bcache_misses_total')).to.be.at.least(1)
    expect(sample(text, 'bcache_keys')).to.equal(2)
    expect(sample(text, 'bcache_bytes')).to.equal(b!.stats().bytes).and.be.greaterThan(0)
    expect(sample(text, 'bcache_replication_applied_total')).to.equal(applied + 1)
    expect(sample(text, 'bcache_replication_deltas_out_total')).to.equal(1)
    expect(sample(text, 'bcache_membership_health_score')).to.equal(0)
    expect(sample(text, 'bcache_anti_entropy_rounds_total')).to.equal(b!.stats().replication.antiEntropy.rounds)
  })

  it('exports the lag and fill duration histograms in seconds, cumulative', async () => {
    cluster = new CacheCluster(92)
    const [a, b] = await cluster.start(2)
    const registry = new client.Registry()
    registerBcacheMetrics(b!, registry, { client, prefix: 'app_cache_' })
    cluster.net.setConditions({ minDelayMs: 30, maxDelayMs: 30 })
    const lagBefore = b!.stats().replication.lagMs.count
    a!.set('k', 'v')
    await cluster.until(() => b!.get('k') === 'v', 5_000)
    await cluster.settle(b!.getWithFiller('f', async () => {
      await new Promise<void>((r) => cluster.clock.setTimeout(r, 150))
      return 'x'
    }))
    const text = await registry.metrics()
    expect(text).to.include('# TYPE app_cache_replication_lag_seconds histogram')
    const lagCount = sample(text, 'app_cache_replication_lag_seconds_count')!
    expect(lagCount).to.equal(lagBefore + 1)
    expect(sample(text, 'app_cache_replication_lag_seconds_bucket{le="+Inf"}')).to.equal(lagCount)
    expect(sample(text, 'app_cache_replication_lag_seconds_bucket{le="0.05"}')).to.equal(lagCount)
    expect(sample(text, 'app_cache_fill_duration_seconds_bucket{le="0.1"}')).to.equal(0)
    expect(sample(text, 'app_cache_fill_duration_seconds_bucket{le="0.2"}')).to.equal(1)
    expect(sample(text, 'app_cache_fill_duration_seconds_bucket{le="+Inf"}')).to.equal(1)
    expect(sample(text, 'app_cache_fill_duration_seconds_sum')).to.equal(0.15)
    expect(sample(text, 'app_cache_fill_duration_seconds_count')).to.equal(1)
    expect(sample(text, 'app_cache_fill_started_total')).to.equal(1)
    // the JSON form works too
    const json = await registry.getMetricsAsJSON()
    expect(json.find((x) => x.name === 'app_cache_fill_duration_seconds')).to.have.property('values').with.length(15)
  })

  it('exports drops as one counter labelled by reason', async () => {
    cluster = new CacheCluster(93)
    const [a] = await cluster.start(1)
    const registry = new client.Registry()
    registerBcacheMetrics(a!, registry, { client })
    const fake = { stats: () => ({ ...a!.stats(), dropped: { 'bad-magic': 3, 'delta-truncated': 1 } }), members: () => a!.members() }
    const r2 = new client.Registry()
    registerBcacheMetrics(fake, r2, { client })
    const text = await r2.metrics()
    expect(text).to.include('# TYPE bcache_dropped_total counter')
    expect(sample(text, 'bcache_dropped_total{reason="bad-magic"}')).to.equal(3)
    expect(sample(text, 'bcache_dropped_total{reason="delta-truncated"}')).to.equal(1)
  })

  it('reads stats() once per scrape, and unregister removes every metric', async () => {
    cluster = new CacheCluster(94)
    const [a] = await cluster.start(1)
    let reads = 0
    const counted = { stats: () => { reads++; return a!.stats() }, members: () => a!.members() }
    const registry = new client.Registry()
    const m = registerBcacheMetrics(counted, registry, { client })
    await registry.metrics()
    expect(reads).to.equal(1)
    await registry.metrics()
    expect(reads).to.equal(2)
    m.unregister()
    expect(await registry.metrics()).to.equal('\n')
    // names are free again
    registerBcacheMetrics(a!, registry, { client })
  })

  it('refuses a second registration of the same names, leaving the first intact, and bad arguments', async () => {
    cluster = new CacheCluster(95)
    const [a] = await cluster.start(1)
    const registry = new client.Registry()
    const first = registerBcacheMetrics(a!, registry, { client })
    expect(() => registerBcacheMetrics(a!, registry, { client })).to.throw(/already been registered/)
    expect(registry.getMetricsAsArray()).to.have.length(first.names.length)
    expect(() => registerBcacheMetrics(a!, registry, {} as never)).to.throw(TypeError, /client/)
    expect(() => registerBcacheMetrics(a!, registry, { client, prefix: 'bad-prefix' })).to.throw(TypeError, /prefix/)
  })

  it('never imports prom-client at run time', async () => {
    const js = await readFile(new URL('../../lib/prometheus.js', import.meta.url), 'utf8')
    expect(js).not.to.match(/from ['"]prom-client['"]|import\(['"]prom-client|require\(['"]prom-client/)
  })
})
