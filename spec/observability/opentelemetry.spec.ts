import { expect } from 'chai'
import { readFile } from 'node:fs/promises'
import { metrics, type Attributes, type BatchObservableCallback, type Meter, type MetricOptions, type Observable } from '@opentelemetry/api'
import { registerBcacheOtelMetrics } from '../../lib/opentelemetry.js'
import { CacheCluster } from '../support/cache-cluster.js'

interface FakeInstrument extends Observable { name: string; kind: 'counter' | 'gauge'; options: MetricOptions | undefined }

/** Just enough of a Meter: records instruments and batch callbacks; `collect()` plays a reader's collection. */
class FakeMeter {
  readonly instruments: FakeInstrument[] = []
  readonly callbacks: Array<{ cb: BatchObservableCallback; observables: Observable[] }> = []
  private make(name: string, kind: FakeInstrument['kind'], options?: MetricOptions): FakeInstrument {
    const i = { name, kind, options, addCallback() {}, removeCallback() {} }
    this.instruments.push(i)
    return i
  }
  createObservableCounter(name: string, options?: MetricOptions) { return this.make(name, 'counter', options) }
  createObservableGauge(name: string, options?: MetricOptions) { return this.make(name, 'gauge', options) }
  addBatchObservableCallback(cb: BatchObservableCallback, observables: Observable[]) { this.callbacks.push({ cb, observables }) }
  removeBatchObservableCallback(cb: BatchObservableCallback) {
    const i = this.callbacks.findIndex((c) => c.cb === cb)
    if (i >= 0) this.callbacks.splice(i, 1)
  }
  /** One collection: every observation as `name{k=v,…}` → value. */
  collect(): Map<string, number> {
    const out = new Map<string, number>()
    for (const { cb, observables } of this.callbacks) {
      void cb({
        observe: (o: Observable, value: number, attrs?: Attributes) => {
          expect(observables).to.include(o)
          const labels = Object.entries(attrs ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(',')
          const name = (o as FakeInstrument).name
          out.set(labels === '' ? name : `${name}{${labels}}`, value)
        }
      })
    }
    return out
  }
}

describe('bcache/opentelemetry (observable instruments on a Meter)', function () {
  this.timeout(30_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  it('creates observable counters and gauges and reads stats at each collection', async () => {
    cluster = new CacheCluster(101)
    const [a, b] = await cluster.start(2)
    const meter = new FakeMeter()
    const m = registerBcacheOtelMetrics(b!, meter as unknown as Meter)
    const kind = (name: string) => meter.instruments.find((i) => i.name === name)?.kind
    expect(kind('bcache.sets')).to.equal('counter')
    expect(kind('bcache.keys')).to.equal('gauge')
    expect(kind('bcache.replication.lag.bucket')).to.equal('counter')
    expect(meter.instruments.find((i) => i.name === 'bcache.bytes')!.options).to.include({ unit: 'By' })
    expect(m.names).to.have.length(meter.instruments.length)
    expect(meter.callbacks).to.have.length(1)
    let seen = meter.collect()
    expect(seen.get('bcache.sets')).to.equal(0)
    expect(seen.get('bcache.members{state=alive}')).to.equal(2)
    b!.set('x', 1)
    a!.set('y', 2)
    await cluster.until(() => b!.get('y') === 2, 5_000)
    seen = meter.collect()
    expect(seen.get('bcache.sets')).to.equal(1)
    expect(seen.get('bcache.keys')).to.equal(2)
    expect(seen.get('bcache.replication.applied')).to.equal(b!.stats().replication.applied).and.be.greaterThan(0)
    const lag = b!.stats().replication.lagMs
    expect(seen.get('bcache.replication.lag.count')).to.equal(lag.count).and.be.greaterThan(0)
    expect(seen.get('bcache.replication.lag.bucket{le=+Inf}')).to.equal(lag.count)
    expect(seen.get('bcache.replication.lag.sum')).to.equal(lag.sum)
    expect(seen.get('bcache.fill.duration.bucket{le=1}')).to.equal(0)
    m.unregister()
    expect(meter.callbacks).to.have.length(0)
  })

  it('labels drops by reason', async () => {
    cluster = new CacheCluster(102)
    const [a] = await cluster.start(1)
    const meter = new FakeMeter()
    const fake = { stats: () => ({ ...a!.stats(), dropped: { 'bad-magic': 4 } }), members: () => a!.members() }
    registerBcacheOtelMetrics(fake, meter as unknown as Meter, { prefix: 'svc.cache.' })
    expect(meter.collect().get('svc.cache.dropped{reason=bad-magic}')).to.equal(4)
  })

  it('works with the API\'s no-op meter and refuses a non-Meter', () => {
    const source = { stats: () => { throw new Error('not read without a reader') }, members: () => [] }
    const m = registerBcacheOtelMetrics(source, metrics.getMeter('bcache-spec'))
    m.unregister()
    expect(() => registerBcacheOtelMetrics(source, {} as Meter)).to.throw(TypeError, /meter/)
  })

  it('never imports @opentelemetry/api at run time', async () => {
    const js = await readFile(new URL('../../lib/opentelemetry.js', import.meta.url), 'utf8')
    expect(js).not.to.match(/['"]@opentelemetry\/api['"]/)
  })
})
