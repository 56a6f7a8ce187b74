/**
 * `getWithFiller` without the network: a miss storm for one key runs the
 * filler once per node (single flight) and, while the cluster is healthy, once
 * in the whole cluster (a lease from the key's owner). Its value or its error
 * reaches every waiter on every node within a few network trips, and an error
 * is not cached.
 *
 * A fill of key `k` on node N goes:
 *
 * 1. N joins the flight for `k` if one exists (nothing else happens), or
 *    creates one (`flight.ts`). The flight's deadline starts now.
 * 2. The owner of `k` is the rendezvous winner over the alive members, N
 *    included. N asks it for a lease of `leaseMs` (locally, without the
 *    network, when N is the owner). The owner grants the first asker and
 *    refuses the others, naming the holder and its expiry (`owner-leases.ts`).
 * 3. Granted: N queues the filler behind `p-limit`, checks the local store one
 *    last time, runs the filler, `setValue`s the result (the layer above
 *    replicates it), resolves every waiter (`fill-runner.ts`), and releases
 *    the lease. If the filler fails, N's waiters get its error and the release
 *    carries the error's message.
 * 4. Refused: N waits for the value to arrive by replication until the lease
 *    expires plus `leaseGraceMs` (bounded by what is left of `maxWaitMs`). The
 *    value arriving resolves every waiter; a failure notice from the owner
 *    (the holder's release carried an error) rejects every waiter with a
 *    `FillError` naming the holder; otherwise N asks again (step 2).
 * 5. Fallback: when the owner cannot be reached within
 *    `leaseRequestTimeoutMs`, or N has waited `maxWaitMs` in all, N fills
 *    locally without a lease (step 3). Availability wins over once-only.
 *
 * Steps 2, 4 and 5 are `lease-requester.ts`. This file owns the flights, runs
 * each through the steps, releases the lease when a flight ends, and applies
 * the owner's failure notices.
 *
 * A storm on three nodes A, B, C for `k` owned by A, filler taking 50 ms,
 * replication taking 2 ms:
 *
 *     t=0    A: 1,000 calls share one flight; A grants itself the lease.
 *            B, C: 1,000 calls each share one flight; each asks A.
 *     t=1    A receives B's and C's requests: refused, held by A until t=10000.
 *     t=2    B, C: refused; wait for the value until t=10500.
 *     t=50   A: filler done; setValue; 1,000 waiters resolve; A releases.
 *     t=52   B, C: the value arrives; 1,000 waiters each resolve.
 *
 * The filler ran once. Had it thrown at t=50 instead:
 *
 *     t=50   A: 1,000 waiters get the filler's error; A releases its own
 *            lease with the message, and sends B and C (it refused them) a
 *            failure notice.
 *     t=51   B, C: the notice arrives; 1,000 waiters each get a FillError
 *            "fill of k failed at A: <message>". Nothing is cached: the next
 *            call anywhere is granted a fresh lease and runs the filler.
 *
 * A lost notice (or a holder that dies mid-fill) leaves B and C to wait for
 * the lease to run out, as below. Had A died at t=20 instead, B and C would
 * wait until t=10500 and ask again. If membership has declared A dead by
 * then, both compute the same new owner (B or C): one is granted and fills,
 * the other receives its value. If not, the request to A fails and each falls
 * back to a local fill: once per node. When the holder and the owner are
 * different nodes and only the holder dies, the owner's lease simply expires
 * and the next asker is granted it.
 *
 * Races, and who wins:
 *
 * - The value arrives while N is queued behind `p-limit`: the filler is
 *   skipped (`fill-runner.ts`).
 * - The deadline passes while the filler runs: the waiters get
 *   `FillTimeoutError`, the filler's signal aborts, the lease is released at
 *   once with the timeout as its failure (the nodes refused meanwhile get a
 *   `FillError` naming the holder, as a joiner here shares the first
 *   caller's deadline), and the filler's late value is discarded.
 * - The owner grants a lease after N stopped waiting for it: N releases it
 *   (`lease-requester.ts`).
 * - Every caller leaves (their signals): the flight is abandoned, the filler's
 *   signal aborts, the lease is released; the next call starts afresh.
 * - A failure notice reaches N while N still asks the owner (it crossed the
 *   refusal on the way) or is refused: it applies; the flight rejects and its
 *   pending request or wait is dropped. Once N runs the filler itself (a
 *   grant or a fallback), or for an owner N did not ask, a notice is ignored.
 *   A notice for N's earlier flight can still reach a new flight that has
 *   just asked the same owner: it then fails with an error at most one round
 *   trip old, as a caller joining a flight just before it fails would.
 */
import type { Clock } from '../clock.js'
import { ClosedError, FillAbortedError, FillError } from '../errors.js'
import { cutFailureMessage, failureMessage, type FillLocal, type FillPeers, type LeaseReply } from './fill-peers.js'
import { FillRunner } from './fill-runner.js'
import { resolveFillerInit, type FillerConfig, type FillerInit } from './filler-options.js'
import { zeroFillerStats, type FillerCounters, type FillerStats } from './filler-stats.js'
import { describeKey, Flight, type FillFn, type FlightEnd } from './flight.js'
import { LeaseRequester } from './lease-requester.js'
import { OwnerLeases } from './owner-leases.js'
import { validateFill } from './validate-fill.js'

export type { FillerStats } from './filler-stats.js'

export type { FillContext, FillFn } from './flight.js'

/** Per-call options of {@link Filler.fill}. */
export interface FillOptions {
  /**
   * Passed to `setValue` with the filled value (the store's TTL unit). Only
   * the first caller's counts, and the filler's `ctx.setTtl` overrides it.
   */
  ttl?: number
  /**
   * Timeout of the whole fill (lease waits, queueing, filler) in ms; `0` for
   * none. The first caller's sets the shared deadline; a joiner's shorter one
   * makes only that joiner give up.
   * @default the filler's `defaultTimeoutMs`
   */
  timeoutMs?: number
  /** Aborts this caller's wait (`FillAbortedError`); the fill goes on for the others. */
  signal?: AbortSignal
}

/** Collaborators of a {@link Filler}. */
export interface FillerComponents<V> {
  clock: Clock
  peers: FillPeers
  local: FillLocal<V>
}

/** Single-flight, lease-coordinated fills of missing keys. */
export class Filler<V> {
  /** Live counters (read-only view). */
  readonly stats: Readonly<FillerStats>
  private readonly counters: FillerCounters = zeroFillerStats()
  private readonly clock: Clock
  private readonly peers: FillPeers
  private readonly local: FillLocal<V>
  private readonly cfg: FillerConfig
  // one flight per key; a flight is removed the moment it ends
  private readonly flights = new Map<string, Flight<V>>()
  // leases of the keys this node owns
  private readonly leases: OwnerLeases
  // steps 2, 4 and 5: a lease from the owner, or a fallback
  private readonly requester: LeaseRequester<V>
  // step 3: the filler behind p-limit
  private readonly runner: FillRunner<V>
  private closed = false

  /** @throws TypeError or RangeError for an invalid setting, naming it. */
  constructor(components: FillerComponents<V>, init: FillerInit = {}) {
    this.clock = components.clock
    this.peers = components.peers
    this.local = components.local
    this.cfg = resolveFillerInit(init)
    this.leases = new OwnerLeases(
      {
        clock: this.clock,
        peers: this.peers,
        counters: this.counters,
        onLocalFailure: (key, holderId, message) => this.failFlight(this.peers.selfId, key, holderId, message)
      },
      this.cfg
    )
    this.requester = new LeaseRequester<V>(
      { clock: this.clock, peers: this.peers, local: this.local, leases: this.leases, counters: this.counters },
      this.cfg
    )
    this.runner = new FillRunner<V>(this.counters, this.local, this.cfg.concurrency, { clock: this.clock, nodeId: this.peers.selfId })
    this.stats = this.counters
  }

  /** Keys with a fill in flight on this node. */
  get inFlight(): number {
    return this.flights.size
  }

  /**
   * The value of `key`: the local one if present, else the outcome of the
   * shared fill (see the module comment). Rejects with the filler's error
   * (a non-Error throw or an `undefined` result as {@link FillError}),
   * `FillTimeoutError`, `FillAbortedError` (this caller's `signal`),
   * `ClosedError`, or `TypeError`/`RangeError` for invalid arguments.
   */
  fill(key: string, fn: FillFn<V>, opts: FillOptions = {}): Promise<V> {
    try {
      validateFill(key, fn, opts)
    } catch (err) {
      return Promise.reject(err)
    }
    if (this.closed) return Promise.reject(new ClosedError('filler'))
    if (opts.signal?.aborted === true) {
      return Promise.reject(new FillAbortedError(`fill of ${describeKey(key)} aborted by the caller`, { cause: opts.signal.reason }))
    }
    const hit = this.local.get(key)
    if (hit !== undefined) return Promise.resolve(hit)
    const current = this.flights.get(key)
    if (current !== undefined) {
      this.counters.fillsShared++
      return current.join(opts.signal, opts.timeoutMs)
    }
    const timeoutMs = opts.timeoutMs ?? this.cfg.defaultTimeoutMs
    const flight: Flight<V> = new Flight<V>(this.clock, key, fn, opts.ttl, timeoutMs, (how, outcome) => this.onEnd(flight, how, outcome))
    this.flights.set(key, flight)
    const result = flight.join(opts.signal)
    void this.run(flight)
    return result
  }

  /**
   * Answers a peer's lease request for `key` (this node is its owner).
   * `leaseMs` is clamped to `maxLeaseMs`; an invalid one is replaced by this
   * node's `leaseMs`. Called by the replication layer; never throws for bad
   * numbers (a malformed id or key is a `TypeError`: validate the wire first).
   */
  handleLeaseRequest(fromId: string, key: string, leaseMs: number): LeaseReply {
    if (typeof fromId !== 'string' || fromId === '') throw new TypeError('fromId must be a non-empty string')
    if (typeof key !== 'string') throw new TypeError('key must be a string')
    return this.leases.request(fromId, key, leaseMs)
  }

  /**
   * A peer's fill of `key` ended: drop its lease (ignored if it holds none).
   * With `error` (the fill failed), every node refused while it held the
   * lease is told (see `owner-leases.ts`). Never throws.
   */
  handleLeaseRelease(fromId: string, key: string, error?: string, leaseId?: number): void {
    this.leases.release(fromId, key, typeof error === 'string' ? error : undefined, leaseId)
  }

  /**
   * The owner `ownerId` reports that `holderId`'s fill of `key` failed with
   * `message`. If this node's flight for `key` is waiting on that owner (asked
   * or refused, not filling itself), every waiter rejects with a `FillError`
   * naming the holder and carrying the message. Otherwise ignored (a stale or
   * stray notice). Returns whether a flight was rejected. Never throws.
   */
  handleLeaseFailure(ownerId: string, key: string, holderId: string, message: string): boolean {
    if (typeof ownerId !== 'string' || typeof key !== 'string' || typeof holderId !== 'string' || typeof message !== 'string') return false
    return this.failFlight(ownerId, key, holderId, cutFailureMessage(message))
  }

  /**
   * Rejects every pending fill with `ClosedError`, aborts the fillers' signals
   * and clears every timer. Later `fill` calls reject with `ClosedError`;
   * lease requests from peers are still answered (the table is emptied).
   */
  close(): void {
    if (this.closed) return
    this.closed = true
    const err = new ClosedError('filler')
    for (const flight of [...this.flights.values()]) flight.close(err)
    this.flights.clear()
    this.leases.clear()
  }

  private async run(flight: Flight<V>): Promise<void> {
    try {
      const got = await this.requester.acquire(flight)
      if (flight.done) return
      if (got.kind === 'value') {
        this.counters.valuesArrived++
        flight.resolve(got.value)
        return
      }
      flight.filling = true // from here a failure elsewhere is not ours
      await this.runner.run(flight)
    } catch (err) {
      flight.reject(err) // a no-op if the flight already ended
    }
  }

  /** Rejects the flight for `key` if it waits on `ownerId` for `holderId`'s fill. */
  private failFlight(ownerId: string, key: string, holderId: string, message: string): boolean {
    const flight = this.flights.get(key)
    if (flight === undefined || flight.done || flight.filling || flight.leaseOwner !== undefined) return false
    if (flight.askedOwner !== ownerId || holderId === this.peers.selfId) return false
    this.counters.remoteFailures++
    const cause = new Error(message)
    cause.name = 'RemoteFillError'
    flight.reject(new FillError(`fill of ${describeKey(key)} failed at ${holderId}: ${message}`, { cause }))
    return true
  }

  private onEnd(flight: Flight<V>, how: FlightEnd, outcome: unknown): void {
    if (this.flights.get(flight.key) === flight) this.flights.delete(flight.key)
    if (how === 'timeout') this.counters.fillTimeouts++
    if (flight.leaseOwner === undefined) return
    // a timeout is the shared fill's outcome, like an error: the nodes it kept waiting hear of it now
    const failed = how === 'error' || how === 'timeout'
    this.requester.release(flight.leaseOwner, flight.key, failed ? failureMessage(outcome) : undefined, flight.leaseId)
  }
}
