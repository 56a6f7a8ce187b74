/**
 * The owner side of fill leases as a node runs it: grants and refusals from
 * its {@link LeaseTable}, and the relay of a holder's failure to the nodes it
 * refused.
 *
 * The owner remembers, per lease, who was refused while it was held (at most
 * one entry per member). When the holder's fill fails, its release carries
 * the error's message; the owner then tells every refused requester "the fill
 * of `k` failed at holder H: message" — itself directly, the others with a
 * one-way notice (`FillPeers.notifyFailure`) — and forgets them. Nothing of
 * the failure is kept: the next request for the key is granted and starts a
 * fresh fill (an error is not cached). A lost notice costs what it cost before
 * this relay existed: that requester waits for the lease to run out, then
 * asks again. A release without an error (value, timeout, abandoned) tells
 * nobody: the value arrives by replication, or the refused wait runs out.
 */
import type { Clock } from '../clock.js'
import { cutFailureMessage, type FillPeers, type LeaseReply } from './fill-peers.js'
import { LeaseTable } from './lease-table.js'

/** Owner-side counters, shared with the filler's stats. */
export interface OwnerLeaseCounters {
  leasesGranted: number
  leasesRefused: number
  failuresRelayed: number
}

/** Collaborators of {@link OwnerLeases}. */
export interface OwnerLeasesComponents {
  clock: Clock
  peers: FillPeers
  counters: OwnerLeaseCounters
  /** Delivers a failure to this node's own refused flight (no network). */
  onLocalFailure(key: string, holderId: string, message: string): void
}

/** Settings of {@link OwnerLeases} (the filler's). */
export interface OwnerLeasesInit {
  leaseMs: number
  maxLeaseMs: number
  maxLeases: number
}

/** Grants, refusals, releases, and failure relay for the keys this node owns. */
export class OwnerLeases {
  private readonly table: LeaseTable

  constructor(
    private readonly c: OwnerLeasesComponents,
    private readonly cfg: OwnerLeasesInit
  ) {
    this.table = new LeaseTable({
      maxEntries: cfg.maxLeases,
      // one entry per member at most: a larger set is forged or stale ids
      maxRefusedPerLease: () => Math.max(1, c.peers.aliveMembers().length)
    })
  }

  /**
   * Answers `requesterId`'s request for `key`. `leaseMs` is clamped to
   * `maxLeaseMs`; an invalid one is replaced by `leaseMs`.
   */
  request(requesterId: string, key: string, leaseMs: number): LeaseReply {
    const ms = Number.isFinite(leaseMs) && leaseMs > 0 ? Math.min(leaseMs, this.cfg.maxLeaseMs) : this.cfg.leaseMs
    const reply = this.table.grant(key, requesterId, this.c.clock.now(), ms)
    if (reply.granted) this.c.counters.leasesGranted++
    else this.c.counters.leasesRefused++
    return reply
  }

  /**
   * `holderId`'s fill of `key` ended; `error` when it failed. Ignored unless
   * `holderId` holds the lease. On a failure, every requester refused while
   * it was held is told, once. Never throws.
   */
  release(holderId: string, key: string, error?: string, leaseId?: number): void {
    const refused = this.table.end(key, holderId, leaseId)
    if (refused === undefined || error === undefined) return
    const message = cutFailureMessage(error)
    const self = this.c.peers.selfId
    for (const id of refused) {
      if (id === holderId) continue
      this.c.counters.failuresRelayed++
      try {
        if (id === self) this.c.onLocalFailure(key, holderId, message)
        else this.c.peers.notifyFailure?.(id, key, holderId, message)
      } catch {
        // best effort: that requester waits for the lease to run out
      }
    }
  }

  /** Forgets every lease (the node is closing). */
  clear(): void {
    this.table.clear()
  }
}
