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
 * A holder asking again is granted again (the lease is renewed): a node runs at
 * most one fill per key (single flight), so a second request from the same
 * node means its previous fill is over, even if the release was lost.
 *
 * Leases are not renewable by design: a filler slower than `leaseMs` may see a
 * second node start the same fill. Pick `leaseMs` above the filler's usual
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
  // requesters refused while this lease was held; told if the fill fails
  refused: Set<string> | undefined
}

/** Settings of a {@link LeaseTable}. */
export interface LeaseTableInit {
  /**
   * Most leases held at once. Above it, the expired leases at the front are
   * dropped, or else the oldest grant is evicted. Each entry costs about the key's size plus ~100 B.
   * @default 10000
   */
  maxEntries?: number
  /**
   * Most refused requesters remembered per lease (the ones told when the
   * holder's fill fails); further refusals are still answered, not
   * remembered. A function, since the member count changes.
   * @default () => 64
   */
  maxRefusedPerLease?: () => number
}

/** Owner-side lease bookkeeping: grant, refuse, release, expire. */
export class LeaseTable {
  // key -> lease; insertion order is grant order (a re-grant re-inserts)
  private readonly leases = new Map<string, Lease>()
  private readonly maxEntries: number
  private readonly maxRefused: () => number
  private evictedCount = 0

  constructor(init: LeaseTableInit = {}) {
    const max = init.maxEntries ?? 10_000
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxEntries must be a positive integer, got ${String(max)}`)
    if (init.maxRefusedPerLease !== undefined && typeof init.maxRefusedPerLease !== 'function') {
      throw new TypeError('maxRefusedPerLease must be a function')
    }
    this.maxEntries = max
    this.maxRefused = init.maxRefusedPerLease ?? (() => 64)
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
   * and its expiry and the requester is remembered as refused (up to
   * `maxRefusedPerLease`). The current holder asking again renews its lease,
   * keeping the refused requesters.
   */
  grant(key: string, requesterId: string, nowMs: number, leaseMs: number): LeaseReply {
    const cur = this.leases.get(key)
    if (cur !== undefined && cur.expiresAt > nowMs && cur.holder !== requesterId) {
      this.remember(cur, requesterId)
      return { granted: false, holder: cur.holder, expiresAt: cur.expiresAt }
    }
    let refused: Set<string> | undefined
    if (cur !== undefined) {
      this.leases.delete(key)
      if (cur.holder === requesterId && cur.expiresAt > nowMs) refused = cur.refused
    } else if (this.leases.size >= this.maxEntries) {
      this.makeRoom(nowMs)
    }
    // The expiry is also the lease's id (a release names it): a new lease of a key never reuses the last one's.
    const expiresAt = cur !== undefined && nowMs + leaseMs <= cur.expiresAt ? cur.expiresAt + 1 : nowMs + leaseMs
    this.leases.set(key, { holder: requesterId, expiresAt, refused })
    return { granted: true, expiresAt }
  }

  /**
   * Ends `requesterId`'s lease on `key`. Returns whether it held one; a
   * release from anyone else (e.g. a late one after expiry and a new grant) is
   * ignored.
   */
  release(key: string, requesterId: string): boolean {
    return this.end(key, requesterId) !== undefined
  }

  /**
   * Like {@link LeaseTable.release}, but returns the requesters refused
   * while the lease was held (possibly none), or `undefined` when
   * `requesterId` held no lease on `key`, or (with `leaseId`) not that
   * lease (nothing changes then).
   */
  end(key: string, requesterId: string, leaseId?: number): string[] | undefined {
    const cur = this.leases.get(key)
    if (cur === undefined || cur.holder !== requesterId) return undefined
    // a late release of an earlier lease of the same holder (its id is that lease's expiry) changes nothing
    if (leaseId !== undefined && cur.expiresAt !== leaseId) return undefined
    this.leases.delete(key)
    return cur.refused === undefined ? [] : [...cur.refused]
  }

  /** The unexpired lease on `key`, if any. */
  holder(key: string, nowMs: number): { holder: string; expiresAt: number } | undefined {
    const cur = this.leases.get(key)
    return cur !== undefined && cur.expiresAt > nowMs ? { holder: cur.holder, expiresAt: cur.expiresAt } : undefined
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

  private remember(lease: Lease, requesterId: string): void {
    if (lease.refused?.has(requesterId) === true) return
    if ((lease.refused?.size ?? 0) >= this.maxRefused()) return
    if (lease.refused === undefined) lease.refused = new Set()
    lease.refused.add(requesterId)
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
