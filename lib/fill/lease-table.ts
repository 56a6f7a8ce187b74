/**
 * The owner side of fill leases: who may run the filler for a key right now.
 *
 * The owner of a key (see `rendezvousOwner`) answers lease requests from its
 * table. The first requester gets the lease for `leaseMs`; anyone else asking
 * before it expires is told who holds it and until when, and waits for the
 * value to arrive by replication. The holder releases the lease when its fill
 * ends (value or error); a holder that dies simply lets it expire, and the next
 * requester after that gets it.
 *
 * A holder asking again gets a new lease, from now, in place of the old one:
 * a node runs at most one fill per key (single flight), so a second request
 * from the same node means its previous fill is over, even if the release was
 * lost. That starts a new fill; it does not extend the one that was running.
 *
 * Leases are not renewable by design: a running fill cannot extend its lease,
 * so a filler slower than `leaseMs` may see a second node start the same fill. Pick `leaseMs` above the filler's usual
 * duration; the duplicate is harmless (last writer wins), only wasted work.
 *
 * Pure: no timers, time comes in as an argument. Memory is bounded: when the
 * table is full, expired leases are purged, and if none had expired the oldest
 * grant is evicted (that key may then be filled twice; never blocked). Grants
are kept in grant order, which is expiry order when `leaseMs` is the same, so
making room costs O(1) amortised.
 */
import type { LeaseReply } from './fill-peers.js'

interface Lease {
  holder: string
  expiresAt: number
}

/** Settings of a {@link LeaseTable}. */
export interface LeaseTableInit {
  /**
   * Most leases held at once. Above it, the expired leases at the front are
   * dropped, or else the oldest grant is evicted. Each entry costs about the key's size plus ~100 B.
   * @default 10000
   */
  maxEntries?: number
}

/** Owner-side lease bookkeeping: grant, refuse, release, expire. */
export class LeaseTable {
  // key -> lease; insertion order is grant order (a re-grant re-inserts)
  private readonly leases = new Map<string, Lease>()
  private readonly maxEntries: number
  private evictedCount = 0

  constructor(init: LeaseTableInit = {}) {
    const max = init.maxEntries ?? 10_000
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxEntries must be a positive integer, got ${String(max)}`)
    this.maxEntries = max
  }

  /** Leases in the table, expired ones not yet purged included. */
  get size(): number {
    return this.leases.size
  }

  /** Live leases evicted because the table was full. */
  get evicted(): number {
    return this.evictedCount
  }

  /**
   * Grants `key` to `requesterId` for `leaseMs` from `nowMs` unless another
   * node holds an unexpired lease, in which case the reply names the holder
   * and its expiry. The current holder asking again gets a new lease in
   * place of its old one (its previous fill is over; see the file comment).
   */
  grant(key: string, requesterId: string, nowMs: number, leaseMs: number): LeaseReply {
    const cur = this.leases.get(key)
    if (cur !== undefined && cur.expiresAt > nowMs && cur.holder !== requesterId) {
      return { granted: false, holder: cur.holder, expiresAt: cur.expiresAt }
    }
    if (cur !== undefined) this.leases.delete(key)
    else if (this.leases.size >= this.maxEntries) this.makeRoom(nowMs)
    const expiresAt = nowMs + leaseMs
    this.leases.set(key, { holder: requesterId, expiresAt })
    return { granted: true, expiresAt }
  }

  /**
   * Ends `requesterId`'s lease on `key`. Returns whether it held one; a
   * release from anyone else (e.g. a late one after expiry and a new grant) is
   * ignored.
   */
  release(key: string, requesterId: string): boolean {
    const cur = this.leases.get(key)
    if (cur === undefined || cur.holder !== requesterId) return false
    this.leases.delete(key)
    return true
  }

  /** The unexpired lease on `key`, if any. */
  holder(key: string, nowMs: number): { holder: string; expiresAt: number } | undefined {
    const cur = this.leases.get(key)
    return cur !== undefined && cur.expiresAt > nowMs ? { ...cur } : undefined
  }

  /** Drops every lease expired at `nowMs`; returns how many. */
  purge(nowMs: number): number {
    let n = 0
    for (const [key, lease] of this.leases) {
      if (lease.expiresAt <= nowMs) {
        this.leases.delete(key)
        n++
      }
    }
    return n
  }

  /** Removes every lease (the node is closing). */
  clear(): void {
    this.leases.clear()
  }

  // Amortised O(1): grants are in (roughly) expiry order, so expired leases
  // gather at the front. Drop those; if the oldest is still live, evict it.
  private makeRoom(nowMs: number): void {
    let dropped = 0
    for (const [key, lease] of this.leases) {
      if (lease.expiresAt > nowMs) break
      this.leases.delete(key)
      dropped++
    }
    if (dropped > 0) return
    const oldest = this.leases.keys().next()
    if (oldest.done !== true) {
      this.leases.delete(oldest.value)
      this.evictedCount++
    }
  }
}
