/**
 * `bcache/opentelemetry`: a node's stats as OpenTelemetry observable
 * instruments on the caller's `Meter` (`@opentelemetry/api` is an optional
 * peer dependency; only its types are imported here).
 *
 * One batch callback observes every instrument from one `cache.stats()`
 * snapshot each time the SDK's reader collects; nothing runs between
 * collections. Counters become observable counters (`bcache.hits`,
 * `bcache.replication.applied`, …), gauges observable gauges, drops one
 * counter with a `reason` attribute, members one gauge with a `state`
 * attribute.
 *
 * The API has no observable histogram, so each fixed-bucket histogram is
 * exported as three observable counters: `<name>.bucket` (cumulative, one
 * series per upper bound, attribute `le` in ms, the last `'+Inf'`),
 * `<name>.count` and `<name>.sum` (ms) — the Prometheus layout, which
 * backends turn back into a histogram.
 */
import type { Attributes, BatchObservableResult, Meter, Observable } from '@opentelemetry/api'
import { cumulativeCounts } from './histogram.js'
import { DROPPED, HISTOGRAMS, MEMBERS, MEMBER_STATES, METRICS, membersByState, type MetricDef, type MetricsSource } from './metric-table.js'

export type { MetricsSource } from './metric-table.js'

/** Options of {@link registerBcacheOtelMetrics}. */
export interface BcacheOtelInit {
  /**
   * Prepended to every instrument name.
   * @default 'bcache.'
   */
  prefix?: string
}

/** What {@link registerBcacheOtelMetrics} returns. */
export interface BcacheOtelMetrics {
  /** The instrument names created, in order. */
  readonly names: readonly string[]
  /** Removes the batch callback: the instruments report nothing more. */
  unregister(): void
}

/**
 * Creates a node's observable instruments on `meter` and one batch callback
 * that reads `cache.stats()` at each collection (see the file comment).
 * @throws TypeError when `meter` is not a Meter or `prefix` not a string
 */
export function registerBcacheOtelMetrics(cache: MetricsSource, meter: Meter, init: BcacheOtelInit = {}): BcacheOtelMetrics {
  if (typeof meter?.createObservableCounter !== 'function' || typeof meter.addBatchObservableCallback !== 'function') {
    throw new TypeError('meter must be an OpenTelemetry Meter (metrics.getMeter(...))')
  }
  const prefix = init.prefix ?? 'bcache.'
  if (typeof prefix !== 'string') throw new TypeError('prefix must be a string')
  const names: string[] = []
  const make = (def: MetricDef, name = prefix + def.path.join('.'), unit = def.unit): Observable => {
    names.push(name)
    const options = unit === undefined ? { description: def.help } : { description: def.help, unit }
    return def.kind === 'counter' ? meter.createObservableCounter(name, options) : meter.createObservableGauge(name, options)
  }
  const plain = METRICS.map((def) => ({ def, instrument: make(def) }))
  const dropped = make(DROPPED)
  const members = make(MEMBERS)
  const histograms = HISTOGRAMS.map((h) => {
    const base = prefix + h.path.join('.')
    const def = (what: string): MetricDef => ({ path: [], kind: 'counter', help: `${h.help} (${what})`, read: () => 0 })
    return {
      read: h.read,
      bucket: make(def('cumulative count per upper bound le, in ms'), `${base}.bucket`),
      count: make(def('count'), `${base}.count`),
      sum: make(def('sum, in ms'), `${base}.sum`, 'ms')
    }
  })
  const callback = (result: BatchObservableResult): void => {
    const s = cache.stats()
    for (const { def, instrument } of plain) result.observe(instrument, def.read(s))
    for (const [reason, n] of Object.entries(s.dropped)) result.observe(dropped, n, { reason })
    const by = membersByState(cache.members())
    for (const state of MEMBER_STATES) result.observe(members, by[state], { state })
    for (const h of histograms) {
      const snap = h.read(s)
      const cumulative = cumulativeCounts(snap)
      snap.buckets.forEach((bound, i) => result.observe(h.bucket, cumulative[i]!, { le: bound === Infinity ? '+Inf' : bound } satisfies Attributes))
      result.observe(h.count, snap.count)
      result.observe(h.sum, snap.sum)
    }
  }
  const observables = [...plain.map((p) => p.instrument), dropped, members, ...histograms.flatMap((h) => [h.bucket, h.count, h.sum])]
  meter.addBatchObservableCallback(callback, observables)
  return { names, unregister: () => meter.removeBatchObservableCallback(callback, observables) }
}
