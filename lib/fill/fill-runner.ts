/**
 * Step 3 of a fill (see `filler.ts`): this node runs the filler itself, under
 * a lease or as a fallback.
 *
 * Fills queue behind `p-limit` (`concurrency` across keys; still single
 * flight: the callers of a queued key share it). Once a slot is free, the
 * store is read one last time: a value that arrived by replication while the
 * flight was queued settles it, and the filler is skipped. Otherwise the
 * filler runs with the flight's signal; its value is written with `setValue`
 * (the layer above replicates it), with the TTL the filler set through
 * `ctx.setTtl` if it did, else the flight's, and resolves every waiter. A throw, a
 * rejection or an `undefined` result rejects them instead (a non-Error is
 * wrapped in a `FillError`), and nothing is stored.
 *
 * A flight that ended while its filler ran (its deadline passed, every caller
 * left, the filler closed) discards the late value: another node may already
 * be filling, and the callers have been told the fill failed.
 *
 * Observability: each run's duration (by the injected clock, failures
 * included) goes to the `durationMs` histogram, and, only while someone
 * subscribes, the run is traced on the `bcache:fill` tracing channel
 * ({@link fillTracing}) with the context `{ key, nodeId }`.
 */
import { channel, tracingChannel, type TracingChannelCollection } from 'node:diagnostics_channel'
import pLimit, { type LimitFunction } from 'p-limit'
import type { Clock } from '../clock.js'
import { FillError } from '../errors.js'
import type { Histogram } from '../histogram.js'
import { nonNegativeFinite } from '../option-checks.js'
import type { FillLocal } from './fill-peers.js'
import { describeKey, type FillContext, type Flight } from './flight.js'

/** Counters of local runs, shared with the filler's stats. */
export interface FillRunnerCounters {
  fillsStarted: number
  valuesArrived: number
  fillErrors: number
  durationMs: Histogram
}

/** The context published on {@link fillTracing} for one local filler run. */
export interface FillTraceContext {
  key: string
  /** This node's id. */
  nodeId: string
}

/**
 * `tracing:bcache:fill:start|end|asyncStart|asyncEnd|error`, around each
 * filler run on this node. Built from its five channels so that
 * {@link tracingHasSubscribers} also works on Node 20 releases whose
 * `TracingChannel` lacks `hasSubscribers`.
 */
const fillChannels = {
  start: channel('tracing:bcache:fill:start'),
  end: channel('tracing:bcache:fill:end'),
  asyncStart: channel('tracing:bcache:fill:asyncStart'),
  asyncEnd: channel('tracing:bcache:fill:asyncEnd'),
  error: channel('tracing:bcache:fill:error')
} as TracingChannelCollection<unknown, FillTraceContext>
export const fillTracing = tracingChannel<unknown, FillTraceContext>(fillChannels)

function tracingHasSubscribers(): boolean {
  const c = fillChannels
  return c.start.hasSubscribers || c.end.hasSubscribers || c.asyncStart.hasSubscribers || c.asyncEnd.hasSubscribers || c.error.hasSubscribers
}

/** Runs flights' fillers on this node, at most `concurrency` at once. */
export class FillRunner<V> {
  private readonly limit: LimitFunction

  /** @param concurrency most fillers running at once (validated by the caller) */
  constructor(
    private readonly counters: FillRunnerCounters,
    private readonly local: FillLocal<V>,
    concurrency: number,
    private readonly node: { clock: Clock; nodeId: string }
  ) {
    this.limit = pLimit(concurrency)
  }

  /**
   * Queues the flight's filler and settles the flight with its outcome.
   * Rejects only when `setValue` throws (the caller rejects the flight then).
   */
  run(flight: Flight<V>): Promise<void> {
    return this.limit(() => this.invoke(flight))
  }

  /** Inside a `p-limit` slot. */
  private async invoke(flight: Flight<V>): Promise<void> {
    if (flight.done) return
    const { key } = flight
    const cached = this.local.get(key)
    if (cached !== undefined) {
      this.counters.valuesArrived++
      flight.resolve(cached)
      return
    }
    this.counters.fillsStarted++
    let value: V
    let ttl = flight.ttl
    const ctx: FillContext = { signal: flight.signal, setTtl: (ms) => { ttl = nonNegativeFinite('ttl', ms) } }
    const startedAt = this.node.clock.now()
    const begun = this.local.beginFill?.(key)
    try {
      value = await this.call(flight, ctx)
    } catch (err) {
      this.counters.durationMs.observe(this.node.clock.now() - startedAt)
      if (flight.done) return
      this.counters.fillErrors++
      flight.reject(err instanceof Error ? err : new FillError(`filler for ${describeKey(key)} threw a non-Error`, { cause: err }))
      return
    }
    this.counters.durationMs.observe(this.node.clock.now() - startedAt)
    if (flight.done) return // timed out, abandoned or closed: discard the late value
    if (value === undefined) {
      this.counters.fillErrors++
      flight.reject(new FillError(`filler for ${describeKey(key)} returned undefined`))
      return
    }
    this.local.setValue(key, value, ttl, begun) // a throw here rejects the waiters (the caller's catch)
    flight.resolve(value)
  }

  /** The filler itself, traced when someone subscribes to {@link fillTracing}. */
  private call(flight: Flight<V>, ctx: FillContext): Promise<V> | V {
    if (!tracingHasSubscribers()) return flight.fn(flight.key, ctx)
    return fillTracing.tracePromise(async () => flight.fn(flight.key, ctx), { key: flight.key, nodeId: this.node.nodeId })
  }
}
