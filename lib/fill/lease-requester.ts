/**
 * The requester side of a fill lease (steps 2, 4 and 5 in `filler.ts`): ask
 * the key's owner, wait while refused, ask again, and fall back to a local
 * fill when the owner cannot be reached or the waits have lasted `maxWaitMs`.
 *
 * The owner is the rendezvous winner over the alive members, this node
 * included; when it is this node, the lease comes from its own
 * `OwnerLeases`, without the network. A remote request is bounded by
 * `leaseRequestTimeoutMs` and by the flight's signal. A refusal names the
 * lease's expiry in the owner's clock, which is untrusted: the wait is
 * clamped to `maxLeaseMs + leaseGraceMs` and to what is left of `maxWaitMs`.
 *
 * The owner may grant a lease after this node stopped waiting for it (the
 * request timed out, or the flight ended). So this node sends a release
 * whenever it gives up on a request (an owner ignores a release from a
 * non-holder), and again if the late grant still reaches it: the owner then
 * does not make others wait `leaseMs` for a lease nobody uses.
 */
import type { Clock } from '../clock.js'
import { TimeoutError } from '../errors.js'
import type { FillLocal, FillPeers, LeaseReply } from './fill-peers.js'
import type { FillerConfig } from './filler-options.js'
import { describeKey, type Flight } from './flight.js'
import type { OwnerLeases } from './owner-leases.js'
import { raceAbort } from './race-abort.js'
import { rendezvousOwner } from './rendezvous.js'
import { isLeaseReply } from './validate-fill.js'

/** What {@link LeaseRequester.acquire} leaves the flight with: run the filler here, or a value that arrived. */
export type Acquired<V> = { kind: 'run' } | { kind: 'value'; value: V }
const RUN = { kind: 'run' } as const

/** Requester-side counters, shared with the filler's stats. */
export interface LeaseRequesterCounters {
  fallbacks: number
}

/** Collaborators of a {@link LeaseRequester}. */
export interface LeaseRequesterComponents<V> {
  clock: Clock
  peers: FillPeers
  local: FillLocal<V>
  /** This node's leases as owner: asked and released without the network. */
  leases: OwnerLeases
  counters: LeaseRequesterCounters
}

/** Settings of a {@link LeaseRequester} (the filler's). */
export type LeaseRequesterInit = Pick<FillerConfig, 'leaseMs' | 'leaseGraceMs' | 'leaseRequestTimeoutMs' | 'maxWaitMs' | 'maxLeaseMs'>

/**
 * How long a refused requester waits for the value before it asks again:
 * until the lease expires (`expiresInMs` from now, in the owner's clock, so
 * clamped to `[0, maxLeaseMs]`) plus `leaseGraceMs`, at most what is left of
 * `maxWaitMs` after `waitedMs`, and at least 1 ms.
 */
export function refusedWaitMs(expiresInMs: number, waitedMs: number, cfg: LeaseRequesterInit): number {
  const untilExpiry = Math.min(Math.max(expiresInMs, 0), cfg.maxLeaseMs)
  return Math.max(1, Math.min(untilExpiry + cfg.leaseGraceMs, cfg.maxWaitMs - waitedMs))
}

/** Obtains the lease for a flight's key from its owner, or decides to fill without it. */
export class LeaseRequester<V> {
  constructor(
    private readonly c: LeaseRequesterComponents<V>,
    private readonly cfg: LeaseRequesterInit
  ) {}

  /**
   * Asks, waits and asks again until the flight may run its filler (granted,
   * or a fallback) or a value arrived. Sets `flight.askedOwner` before each
   * request and `flight.leaseOwner` on a grant. Rejects only when the store's
   * wait fails.
   */
  async acquire(flight: Flight<V>): Promise<Acquired<V>> {
    const { key } = flight
    const { clock, counters } = this.c
    const startedAt = clock.now()
    for (;;) {
      if (flight.done) return RUN
      const cached = this.c.local.get(key)
      if (cached !== undefined) return { kind: 'value', value: cached }
      const owner = this.ownerOf(key)
      let reply: LeaseReply
      flight.askedOwner = owner
      if (owner === this.c.peers.selfId) {
        reply = this.c.leases.request(owner, key, this.cfg.leaseMs)
      } else {
        try {
          reply = await this.askOwner(owner, flight)
        } catch {
          // The owner may have granted it before we gave up: hand it back.
          this.release(owner, key)
          if (!flight.done) counters.fallbacks++
          return RUN
        }
      }
      if (reply.granted) {
        flight.leaseOwner = owner
        flight.leaseId = reply.expiresAt
        if (flight.done) this.release(owner, key, undefined, reply.expiresAt) // ended while we asked
        return RUN
      }
      const waitedMs = clock.now() - startedAt
      if (waitedMs >= this.cfg.maxWaitMs) {
        counters.fallbacks++
        return RUN
      }
      const arrived = await this.waitForValue(flight, refusedWaitMs(reply.expiresAt - clock.now(), waitedMs, this.cfg))
      if (arrived !== undefined) return { kind: 'value', value: arrived.value }
    }
  }

  /** Releases the lease on `key` at `owner` (this node's table when it is the owner); best effort, never throws. */
  release(owner: string, key: string, error?: string, leaseId?: number): void {
    if (owner === this.c.peers.selfId) {
      this.c.leases.release(owner, key, error, leaseId)
      return
    }
    try {
      this.c.peers.releaseLease(owner, key, error, leaseId)
    } catch {
      // best effort: the lease expires on its own
    }
  }

  private askOwner(owner: string, flight: Flight<V>): Promise<LeaseReply> {
    const { key } = flight
    const timeoutMs = this.cfg.leaseRequestTimeoutMs
    return raceAbort<LeaseReply>(
      {
        clock: this.c.clock,
        parent: flight.signal,
        timeoutMs,
        timeoutReason: () => new TimeoutError(`lease request for ${describeKey(key)} to ${owner} timed out after ${timeoutMs} ms`),
        onLate: (reply) => {
          if (isLeaseReply(reply) && reply.granted) this.release(owner, key)
        }
      },
      async (signal) => {
        const reply = await this.c.peers.requestLease(owner, key, this.cfg.leaseMs, signal)
        if (!isLeaseReply(reply)) throw new TypeError(`malformed lease reply from ${owner}`)
        return reply
      }
    )
  }

  /**
   * Resolves with the value if it is there or arrives within `waitMs`, else
   * undefined. The store is read in the same turn the waiter registers: a
   * value that arrived while the refusal was on its way (after the last read)
   * wakes nobody, so a wait that did not look first would sleep through it.
   */
  private async waitForValue(flight: Flight<V>, waitMs: number): Promise<{ value: V } | undefined> {
    const present = this.c.local.get(flight.key)
    if (present !== undefined) return { value: present }
    const timedOut = new Error('wait timed out')
    try {
      const value = await raceAbort<V>(
        { clock: this.c.clock, parent: flight.signal, timeoutMs: waitMs, timeoutReason: () => timedOut },
        (signal) => this.c.local.waitForValue(flight.key, signal)
      )
      return { value }
    } catch (err) {
      if (err === timedOut || flight.done) return undefined
      throw err // the store failed: the waiters get its error
    }
  }

  private ownerOf(key: string): string {
    const self = this.c.peers.selfId
    const members = this.c.peers.aliveMembers()
    return rendezvousOwner(key, members.includes(self) ? members : [...members, self])
  }
}
