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
 */
import pLimit, { type LimitFunction } from 'p-limit'
import { FillError } from '../errors.js'
import { nonNegativeFinite } from '../option-checks.js'
import type { FillLocal } from './fill-peers.js'
import { describeKey, type FillContext, type Flight } from './flight.js'

/** Counters of local runs, shared with the filler's stats. */
export interface FillRunnerCounters {
  fillsStarted: number
  valuesArrived: number
  fillErrors: number
}

/** Runs flights' fillers on this node, at most `concurrency` at once. */
export class FillRunner<V> {
  private readonly limit: LimitFunction

  /** @param concurrency most fillers running at once (validated by the caller) */
  constructor(
    private readonly counters: FillRunnerCounters,
    private readonly local: FillLocal<V>,
    concurrency: number
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
    try {
      value = await flight.fn(key, ctx)
    } catch (err) {
      if (flight.done) return
      this.counters.fillErrors++
      flight.reject(err instanceof Error ? err : new FillError(`filler for ${describeKey(key)} threw a non-Error`, { cause: err }))
      return
    }
    if (flight.done) return // timed out, abandoned or closed: discard the late value
    if (value === undefined) {
      this.counters.fillErrors++
      flight.reject(new FillError(`filler for ${describeKey(key)} returned undefined`))
      return
    }
    this.local.setValue(key, value, ttl) // a throw here rejects the waiters (the caller's catch)
    flight.resolve(value)
  }
}
