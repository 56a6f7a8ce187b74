/**
 * Partition mode (`mode: 'partition'`, README "Partition mode"): each key is
 * held by `replicas` owners (ownership.ts), so the cluster holds about
 * `n × maxKeys / replicas` distinct keys instead of `maxKeys`.
 *
 * - Writes travel as in replicate mode, to every node. An owner keeps the
 *   write; every other node sees it pass ({@link Partition.passing}): a
 *   near-cache copy of the key is replaced, a waiter for the key (a fill on
 *   another node) gets the value, and nothing is stored. So the bandwidth
 *   per write is replicate mode's; the memory is `replicas / n` of it.
 * - A writer keeps its own write even of a key it does not own (a write
 *   `set` accepted is visible locally, always), until the hand-off has given
 *   it to every owner (partition-repair.ts); then the value moves to the
 *   near cache (near-cache.ts).
 * - `fetch` reads a key this node does not hold from an owner
 *   (owner-reads.ts over remote-read.ts) and keeps it in the near cache.
 * - Owners repair each other, and new owners get their segments, by
 *   segment rounds (segment-sync.ts, scheduled by partition-repair.ts);
 *   coverage anti-entropy does not run in this mode (its digests assume
 *   every node holds every key).
 */
import type { Clock, Timer } from '../clock.js'
import type { DropCounts } from '../drop-counts.js'
import type { Logger } from '../logger.js'
import type { Cluster } from '../membership/cluster.js'
import type { Random } from '../random.js'
import { compareVersions, type Version } from '../store/version.js'
import { NOT_DECODED, decodeValue, type Entry, type VersionedStore } from '../store/versioned-store.js'
import type { Delta } from './delta.js'
import { NearCache, type NearCacheStats } from './near-cache.js'
import { Ownership } from './ownership.js'
import { PendingWrites } from './pending-writes.js'
import { OwnerReads } from './owner-reads.js'
import { PartitionRepair } from './partition-repair.js'
import { newFetchStats, RemoteRead, type FetchStats } from './remote-read.js'
import { newSegmentSyncStats, type SegmentSyncStats } from './segment-sync.js'
import type { ValueWaiters } from './waiters.js'

export interface PartitionSettings {
  replicas: number
  /** Most values of keys not owned held for reads (0: none). */
  nearCacheKeys: number
  /** Longest a near-cache value is held, ms (0: its write's TTL only). */
  nearCacheTtlMs: number
}

export interface PartitionConfig extends PartitionSettings {
  antiEntropyIntervalMs: number
  maxSyncs: number
  tcpTimeoutMs: number
  deletionDelayMs: number
  maxStreamQueueBytes: number
}

export interface PartitionComponents {
  store: VersionedStore
  cluster: Cluster
  clock: Clock
  random: Random
  logger: Logger
  drops: DropCounts
  waiters: ValueWaiters
  /** Applies a received batch frame from `start` into the store, whoever owns its keys (segment rounds). */
  applyBatch: (frame: Buffer, start: number, seen?: (key: string, version: Version) => void) => number
  /** Applies one delta an owner sent back to a read (this node owns the key). */
  applyRead: (d: Delta) => void
}

export interface PartitionStats {
  replicas: number
  /** Segments this node owns, of 4096. */
  ownedSegments: number
  /** Writes of keys this node does not own that passed through (not stored). */
  passed: number
  /** Entries handed off to every owner and let go: this node's writes of keys it does not own, and segments it lost. */
  handedOff: number
  /** This node's writes of keys it does not own, waiting for every owner's acknowledgement. */
  pendingHandOff: number
  near: NearCacheStats
  fetch: FetchStats
  sync: SegmentSyncStats
}

export class Partition {
  readonly ownership: Ownership
  readonly near: NearCache
  private readonly reads: RemoteRead
  private readonly repair: PartitionRepair
  private readonly syncStats = newSegmentSyncStats()
  private readonly fetchStats = newFetchStats()
  private readonly ownerReads: OwnerReads
  /** This node's writes of keys it does not own, until every owner acknowledged them (pending-writes.ts). */
  private readonly pending: PendingWrites
  private passedCount = 0
  private handedOff = 0

  constructor(private readonly c: PartitionComponents, private readonly config: PartitionConfig) {
    const { cluster } = c
    this.ownership = new Ownership(cluster.nodeId, config.replicas, () => cluster.livePeers().map((p) => p.nodeId))
    this.near = new NearCache(config.nearCacheKeys, config.nearCacheTtlMs)
    this.pending = new PendingWrites(c.drops)
    this.reads = new RemoteRead({ cluster, clock: c.clock, store: c.store, drops: c.drops, stats: this.fetchStats, timeoutMs: config.tcpTimeoutMs })
    this.ownerReads = new OwnerReads({ clock: c.clock, store: c.store, drops: c.drops, near: this.near, ownership: this.ownership, reads: this.reads, applyRead: c.applyRead })
    this.repair = new PartitionRepair({
      cluster, clock: c.clock, random: c.random, logger: c.logger, drops: c.drops, ownership: this.ownership,
      round: {
        store: c.store, clock: c.clock, applyBatch: c.applyBatch, timeoutMs: config.tcpTimeoutMs, deletionDelayMs: config.deletionDelayMs,
        stats: this.syncStats, queue: { maxBytes: config.maxStreamQueueBytes, onOverflow: () => c.drops.count('queue-overflow') },
        owns: (segment) => this.ownership.ownsSegment(segment)
      },
      onHandedOff: (entries) => this.letGo(entries),
      pending: () => this.toHandOff(),
      onPendingDelivered: (entries) => {
        this.handedOff += this.pending.delivered(entries)
        // Our copy of a write an owner may have found older than one it holds (a writer whose clock
        // lags, which never saw the newer one) must not outlive the hand-off: reads go to the owner.
        for (const e of entries) this.near.dropVersion(e.key, e.version)
      }
    }, { antiEntropyIntervalMs: config.antiEntropyIntervalMs, maxSyncs: config.maxSyncs, handOffDelayMs: Math.min(config.antiEntropyIntervalMs, 1000) })
    cluster.onPeerJoined((p) => this.repair.membershipChanged(p.nodeId))
    cluster.onPeerGone(() => this.repair.membershipChanged())
    // Peers that held this node dead sent it none of their writes: a near copy may be older than one of them.
    cluster.onRefuted?.(() => this.near.clear())
  }

  start(): void {
    this.repair.start()
  }

  /**
   * Stops. This node's own writes still waiting for their owners, and the
   * segments it owns, go to the owners they have once it is gone first, for
   * up to `graceMs` (an owner that does not answer cannot hold the close up
   * longer); a write left then has had its eager push only.
   */
  async close(graceMs: number): Promise<void> {
    if (this.c.cluster.livePeers().length > 0) {
      let timer: Timer | undefined
      await Promise.race([
        this.repair.leave().catch(() => {}),
        new Promise<void>((resolve) => { timer = this.c.clock.setTimeout(resolve, graceMs) })
      ])
      if (timer !== undefined) this.c.clock.clearTimeout(timer)
    }
    this.repair.close()
    this.reads.close()
  }

  initialSync(): Promise<boolean> {
    return this.repair.initialSync()
  }

  /**
   * A write from a peer, before the merge: one of a key this node does not
   * own is seen passing (see the file comment) and not stored (true). For a
   * key it owns, or one `stored` (a segment round, a read), or a clear, it
   * returns false and the store applies it; older copies elsewhere on this
   * node (near cache, hand-off list) go.
   */
  passing(d: Delta, stored = false): boolean {
    if (d.clear === true) {
      this.near.dropPrefix(d.key)
      this.pending.clearPrefix(d.key, d.version)
      return false
    }
    if (stored || this.ownership.owns(d.key)) {
      // The store takes it; an older near copy or pending write of ours must not come back once the store lets the key go.
      this.near.passed(d.key, d.version, undefined, 0, 0)
      this.pending.superseded(d.key, d.version)
      return false
    }
    this.passedCount++
    const { key } = d
    const now = this.c.clock.now()
    const wanted = d.bytes !== undefined && (this.near.has(key, now) || this.c.waiters.has(key))
    let value: unknown
    if (wanted) {
      try {
        value = decodeValue(d.bytes!)
      } catch {
        this.c.drops.count('value-undecodable')
      }
    }
    this.near.passed(key, d.version, value, d.expiresAt, now)
    this.c.store.dropHeld(key, d.version, true) // a copy this node lost in a rebalance is superseded
    this.pending.superseded(key, d.version) // so is our own older write of it
    if (value !== undefined && this.c.waiters.has(key)) this.c.waiters.wake(key, value)
    return true
  }

  /**
   * After a local write of `key`: one this node does not own leaves the
   * store for the pending hand-off (and its value for the near cache), so
   * the store holds owned keys only. Visible here at once either way.
   */
  ownWrite(key: string): void {
    if (this.ownership.owns(key)) return
    const { store } = this.c
    const e = store.peek(key)
    if (e === undefined) return // expired at once, or larger than maxBytes: nothing to hand off
    store.dropHeld(key)
    this.pending.add(e)
    if (!e.tombstone) this.near.put(key, e.value === NOT_DECODED ? decodeValue(e.bytes) : e.value, e.version, e.expiresAt, this.c.clock.now())
  }

  /** The value of this node's own write of `key` waiting for its owners (`get` after a near-cache miss). */
  pendingValue(key: string, nowMs: number): unknown {
    return this.pending.value(key, nowMs)
  }

  /** This node's own write of `key` waiting for its owners, if any (tests, the simulator). */
  pendingEntry(key: string): Entry | undefined {
    return this.pending.entryOf(key)
  }

  /** The newest version this node knows for a key it does not store (a local write stamps above it). */
  floorOf(key: string): Version | undefined {
    const a = this.pending.versionOf(key)
    const b = this.near.versionOf(key)
    if (a === undefined || b === undefined) return a ?? b
    return compareVersions(a, b) >= 0 ? a : b
  }

  /** Who acknowledges a write of `key` (`setAcked`): its live owners; this node counts when it is one. */
  ackScope(key: string): { peers: string[]; selfHolds: boolean } {
    const self = this.c.cluster.nodeId
    const owners = this.ownership.ownersOfKey(key)
    const peers: string[] = []
    for (const id of owners) {
      const addr = id === self ? undefined : this.c.cluster.addressOf(id)
      if (addr !== undefined) peers.push(addr)
    }
    return { peers, selfHolds: owners.includes(self) }
  }

  /** A local write or clear: the near cache and the hand-off list forget the key or the prefix. */
  forget(key: string, prefix: boolean): void {
    if (prefix) {
      this.near.dropPrefix(key)
      this.pending.clearPrefix(key)
    } else {
      this.near.drop(key)
      this.pending.drop(key) // an older write of ours waiting for its owners must not shadow this one
    }
  }

  /** The value of `key` from an owner (this node holds none): undefined when no owner holds it (owner-reads.ts). */
  fetch(key: string): Promise<unknown> {
    return this.ownerReads.fetch(key)
  }

  stats(): PartitionStats {
    let owned = 0
    for (let s = 0; s < 4096; s++) if (this.ownership.ownsSegment(s)) owned++
    return {
      replicas: this.config.replicas, ownedSegments: owned, passed: this.passedCount, handedOff: this.handedOff, pendingHandOff: this.pending.size,
      near: this.near.stats(), fetch: { ...this.fetchStats }, sync: { ...this.syncStats }
    }
  }



  /**
   * The pending writes to hand off now. One of a key this node owns by now
   * (an owner failed, the table moved) goes back into the store instead: it
   * has no one else to go to.
   */
  private toHandOff(): Entry[] {
    const out: Entry[] = []
    const now = this.c.clock.now()
    for (const e of [...this.pending.values()]) {
      if (!this.ownership.owns(e.key)) {
        out.push(e)
        continue
      }
      this.c.store.apply(e, now)
      this.pending.delivered([e])
    }
    return out
  }

  /**
   * Entries of segments this node lost, which every owner acknowledged: out
   * of the store. Not into the near cache: a write of the key this node
   * missed while it held the segment would leave that copy older for good.
   */
  private letGo(entries: readonly Entry[]): void {
    for (const e of entries) {
      if (this.ownership.owns(e.key)) continue // owned again meanwhile
      if (this.c.store.dropHeld(e.key, e.version)) this.handedOff++
    }
  }

}
