/**
 * `bcache/prometheus`: a node's stats as Prometheus metrics, through the
 * caller's own prom-client (an optional peer dependency; only its types are
 * imported here, so bcache never loads prom-client itself).
 *
 * Nothing is counted twice: every metric reads its value from one
 * `cache.stats()` snapshot taken when the registry is scraped (one per
 * scrape, see `statsOncePerTurn`). Counters and gauges are prom-client
 * `Counter`/`Gauge` objects built from the caller's module whose `collect`
 * sets the current value. The two histograms are not prom-client
 * `Histogram`s, which could only replay observations: they are small metric
 * objects of the shape the registry reads (`name`, `help`, `type`, `get`),
 * whose buckets come straight from the node's fixed-bucket histograms, in
 * seconds as Prometheus prefers (`le="0.001"` … `le="+Inf"`).
 */
import type * as PromClient from 'prom-client'
import { cumulativeCounts, type HistogramSnapshot } from './histogram.js'
import { DROPPED, HISTOGRAMS, MEMBERS, MEMBER_STATES, METRICS, membersByState, statsOncePerTurn, type HistogramDef, type MetricDef, type MetricsSource } from './metric-table.js'

export type { MetricsSource } from './metric-table.js'

/** Options of {@link registerBcacheMetrics}. */
export interface BcacheMetricsInit {
  /** The caller's prom-client module (`import * as client from 'prom-client'`); only `Counter` and `Gauge` are used. */
  client: Pick<typeof PromClient, 'Counter' | 'Gauge'>
  /**
   * Prepended to every metric name. Two caches on one registry need two
   * prefixes (or two registries, or the registry's default labels).
   * @default 'bcache_'
   */
  prefix?: string
}

/** What {@link registerBcacheMetrics} returns. */
export interface BcacheMetrics {
  /** The names registered, in order. */
  readonly names: readonly string[]
  /** Removes every metric this call registered from the registry. */
  unregister(): void
}

type AnyRegistry = PromClient.Registry<PromClient.RegistryContentType>

/**
 * Registers a node's metrics on `registry`: counters (`…_total`), gauges,
 * `<prefix>dropped_total{reason}`, `<prefix>members{state}`, and the
 * histograms `<prefix>replication_lag_seconds` and
 * `<prefix>fill_duration_seconds`. Values are read at scrape time.
 * @throws TypeError when `client` lacks `Counter`/`Gauge` or `prefix` is not a valid name prefix
 * @throws Error (prom-client's) when a name is registered already
 */
export function registerBcacheMetrics(cache: MetricsSource, registry: AnyRegistry, init: BcacheMetricsInit): BcacheMetrics {
  const client = init?.client
  if (typeof client?.Counter !== 'function' || typeof client.Gauge !== 'function') {
    throw new TypeError('client must be the prom-client module (import * as client from \'prom-client\')')
  }
  const prefix = init.prefix ?? 'bcache_'
  if (typeof prefix !== 'string' || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) throw new TypeError('prefix must be a valid Prometheus metric name prefix')
  const read = statsOncePerTurn(cache)
  const names: string[] = []
  const registers = [registry]
  const add = (name: string, make: (name: string) => void): void => {
    make(name)
    names.push(name)
  }
  try {
    for (const def of METRICS) add(promName(prefix, def), (name) => plainMetric(client, registers, name, def, read))
    add(promName(prefix, DROPPED), (name) => new client.Counter({
      name, help: DROPPED.help, labelNames: ['reason'], registers,
      collect() {
        this.reset()
        for (const [reason, n] of Object.entries(read().dropped)) this.inc({ reason }, n)
      }
    }))
    add(promName(prefix, MEMBERS), (name) => new client.Gauge({
      name, help: MEMBERS.help, labelNames: ['state'], registers,
      collect() {
        const by = membersByState(cache.members())
        for (const state of MEMBER_STATES) this.set({ state }, by[state])
      }
    }))
    for (const def of HISTOGRAMS) add(`${prefix}${def.path.join('_')}_seconds`, (name) => registry.registerMetric(histogramMetric(name, def, read) as never))
  } catch (err) {
    for (const n of names) registry.removeSingleMetric(n)
    throw err
  }
  return { names, unregister: () => { for (const n of names) registry.removeSingleMetric(n) } }
}

function promName(prefix: string, def: MetricDef): string {
  return `${prefix}${def.path.join('_')}${def.kind === 'counter' ? '_total' : ''}`
}

function plainMetric(client: BcacheMetricsInit['client'], registers: AnyRegistry[], name: string, def: MetricDef, read: () => ReturnType<MetricsSource['stats']>): void {
  if (def.kind === 'counter') {
    new client.Counter({ name, help: def.help, registers, collect() { this.reset(); this.inc(def.read(read())) } })
  } else {
    new client.Gauge({ name, help: def.help, registers, collect() { this.set(def.read(read())) } })
  }
}

/** A histogram in the shape prom-client's registry reads (see the file comment). */
function histogramMetric(name: string, def: HistogramDef, read: () => ReturnType<MetricsSource['stats']>) {
  const help = `${def.help} In seconds.`
  const get = async () => ({ name, help, type: 'histogram', aggregator: 'sum', values: histogramValues(name, def.read(read())) })
  return { name, help, type: 'histogram', aggregator: 'sum', labelNames: [], get, reset() {} }
}

/** The `_bucket`, `_sum` and `_count` samples of a histogram in ms, in seconds. */
export function histogramValues(name: string, h: HistogramSnapshot): { metricName: string; labels: Record<string, string | number>; value: number }[] {
  const cumulative = cumulativeCounts(h)
  const out = h.buckets.map((bound, i) => ({
    metricName: `${name}_bucket`,
    labels: { le: bound === Infinity ? '+Inf' : bound / 1000 } as Record<string, string | number>,
    value: cumulative[i]!
  }))
  out.push({ metricName: `${name}_sum`, labels: {}, value: h.sum / 1000 }, { metricName: `${name}_count`, labels: {}, value: h.count })
  return out
}
