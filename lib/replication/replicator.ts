/**
 * Where the store meets the network: the replication layer, assembled from
 * one part per concern, riding on membership through the `Cluster` seam and
 * the membership delegate.
 *
 *   local-writes.ts        a `set`/`delete`: version, seq, encode once, apply
 *   eager-push.ts          the turn's writes to every live member
 *   relay-push.ts          past a fan-out: through one relay per group
 *   push-channels.ts       bounded per-peer push streams (bursts, large values)
 *   gossip-feed.ts         pushed deltas piggybacked on membership packets
 *   remote-merge.ts        what peers send: validate, apply LWW, wake waiters
 *   acked-writes.ts        `setAcked`: ask every live peer whether it holds a write
 *   anti-entropy*.ts       digest rounds over TCP: when, and how
 *   upkeep.ts              purge of tombstones and expired entries; origin retirement
 *   write-origin.ts        the identity of this process's writes
 *
 * Nothing here throws out of a socket handler: bad input is dropped and
 * counted in `stats().dropped`.
 */
import type { Clock } from '../clock.js'
import { DropCounts } from '../drop-counts.js'
import type { Logger } from '../logger.js'
import type { Random } from '../random.js'
import type { Cluster } from '../membership/cluster.js'
import type { MembershipDelegate } from '../membership/delegate.js'
import type { ReplicationTuning } from '../options.js'
import { HybridClock } from '../store/version.js'
import type { Tags } from '../wire/tags.js'
import { NOT_DECODED, type Version, type VersionedStore } from '../store/versioned-store.js'
import { PACKET_HEADER_BYTES } from '../wire/codec.js'
import { StreamTag } from '../wire/stream-tags.js'
import { AckedWrites, type AckTarget } from './acked-writes.js'
import { AntiEntropyScheduler } from './anti-entropy-scheduler.js'
import { CoverageCheck } from './coverage-check.js'
import { EagerPush } from './eager-push.js'
import { GossipFeed } from './gossip-feed.js'
import { LocalWriter } from './local-writes.js'
import { PushChannels } from './push-channels.js'
import { isRelayHeader, RelayPush } from './relay-push.js'
import { Partition, type PartitionSettings } from './partition.js'
import { RemoteMerge } from './remote-merge.js'
import { newCounters, type ReplicationCounters, type ReplicationStats } from './replication-stats.js'
import { StoreUpkeep } from './upkeep.js'
import { ValueWaiters } from './waiters.js'

export type { ReplicationStats } from './replication-stats.js'
export type { AckTarget } from './acked-writes.js'

export interface ReplicatorComponents {
  store: VersionedStore
  cluster: Cluster
  clock: Clock
  random: Random
  logger: Logger
  /** Runs `fn` once the current event-loop turn's work is done (setImmediate in production). */
  defer: (fn: () => void) => void
  /** This process's write origin (write-origin.ts). */
  origin: string
  /** Called after a peer's write or delete changed the store (see remote-merge.ts). */
  onRemoteApplied?: (key: string, tombstone: boolean) => void
  /** Every push channel drained after some was congested (push-channels.ts). */
  onDrain?: () => void
  /** Every known member with its tags: the gate of relayed push (relay-push.ts); without it, pushes are always direct. */
  memberTags?: () => Iterable<{ readonly nodeId: string; readonly tags: Tags }>
}

/** Settings of the replication layer, all resolved by the facade. */
export interface ReplicationConfig extends ReplicationTuning {
  /** Datagram budget left to user payloads' packet, in bytes. */
  packetBudgetBytes: number
  /** Stream silence that aborts a round; also how long a push channel may stay congested. */
  tcpTimeoutMs: number
  /** Most anti-entropy rounds served at once. */
  maxSyncs: number
  /** Most bytes queued unread on one anti-entropy stream, and queued toward one peer's push channel. */
  maxStreamQueueBytes: number
  /** Largest value accepted from a peer, in bytes. */
  maxValueBytes: number
  /** The store's tombstone delay (origins are retired only after twice as long idle). */
  deletionDelayMs: number
  /** Invalidation mode: writes travel without their values (invalidation.ts). @default false */
  invalidate?: boolean
  /** Partition mode's settings (partition.ts); undefined in the other modes. */
  partition?: PartitionSettings | undefined
}

// Room for the datagram header and the array header of the message list.
const PACKET_OVERHEAD = PACKET_HEADER_BYTES + 3

export class Replicator implements MembershipDelegate {
  readonly hlc: HybridClock
  private readonly counters: ReplicationCounters = newCounters()
  private readonly drops = new DropCounts()
  private readonly waiters = new ValueWaiters()
  private readonly gossip: GossipFeed
  private readonly channels: PushChannels
  private readonly push: EagerPush
  private readonly relay: RelayPush
  private readonly writer: LocalWriter
  private readonly merge: RemoteMerge
  private readonly ae: AntiEntropyScheduler
  private readonly coverageCheck: CoverageCheck
  private readonly upkeep: StoreUpkeep
  private readonly acked: AckedWrites
  /** Partition mode's parts (partition.ts); undefined in the other modes. */
  readonly partition: Partition | undefined
  private closed = false

  constructor(private readonly c: ReplicatorComponents, private readonly config: ReplicationConfig) {
    const { store, cluster, clock } = c
    const stats = this.counters
    const room = config.packetBudgetBytes - PACKET_OVERHEAD
    this.hlc = new HybridClock(() => clock.now())
    this.gossip = new GossipFeed(() => cluster.numLive(), { ...config, roomBytes: room })
    this.channels = new PushChannels({
      open: (addr, batch) => {
        stats.pushStreams++
        return cluster.openStream(addr, StreamTag.Push, batch)
      },
      onDrain: () => c.onDrain?.(),
      clock, logger: c.logger, drops: this.drops
    }, { maxQueuedBytes: config.maxStreamQueueBytes, stallMs: config.tcpTimeoutMs })
    this.relay = new RelayPush({ cluster, random: c.random, gossip: this.gossip, drops: this.drops, stats, now: () => clock.now(), defer: c.defer, memberTags: c.memberTags }, config.eagerFanout)
    this.push = new EagerPush({ cluster, channels: this.channels, gossip: this.gossip, stats, defer: c.defer, now: () => clock.now(), relay: this.relay }, room)
    this.writer = new LocalWriter({
      store, clock, hlc: this.hlc, push: this.push, waiters: this.waiters, stats, origin: c.origin, invalidate: config.invalidate === true,
      floor: config.partition === undefined ? undefined : (key) => this.partition!.floorOf(key)
    })
    this.merge = new RemoteMerge({
      store, clock, hlc: this.hlc, waiters: this.waiters, stats, drops: this.drops, onApplied: c.onRemoteApplied, invalidate: config.invalidate === true,
      passing: config.partition === undefined ? undefined : (d, stored) => this.partition!.passing(d, stored)
    }, config.maxValueBytes)
    this.partition = config.partition === undefined ? undefined : new Partition({
      store, cluster, clock, random: c.random, logger: c.logger, drops: this.drops, waiters: this.waiters,
      applyBatch: (frame, start, seen) => this.merge.acceptBatch(frame, start, 'segment-sync', true, seen),
      applyRead: (d) => this.merge.accept(d, true)
    }, { ...config.partition, antiEntropyIntervalMs: config.antiEntropyIntervalMs, maxSyncs: config.maxSyncs, tcpTimeoutMs: config.tcpTimeoutMs, deletionDelayMs: config.deletionDelayMs, maxStreamQueueBytes: config.maxStreamQueueBytes })
    this.coverageCheck = new CoverageCheck({ cluster, clock, coverage: () => store.coverage(), stats: stats.antiEntropy, timeoutMs: config.tcpTimeoutMs })
    this.ae = new AntiEntropyScheduler({
      cluster, clock, random: c.random, logger: c.logger, drops: this.drops,
      pushingTo: (addr) => this.channels.congestedToward(addr),
      inSyncWith: (addr) => this.coverageCheck.same(addr),
      round: {
        store, clock, timeoutMs: config.tcpTimeoutMs, stats: stats.antiEntropy, maxValueBytes: config.maxValueBytes, invalidate: config.invalidate === true,
        applyBatch: (frame, start) => {
          const before = stats.applied
          const n = this.merge.acceptBatch(frame, start, 'anti-entropy')
          stats.antiEntropy.applied += stats.applied - before
          return n
        },
        onDigest: (bytes) => { stats.digestBytes = bytes },
        queue: { maxBytes: config.maxStreamQueueBytes, onOverflow: () => this.drops.count('queue-overflow') }
      }
    }, config)
    this.upkeep = new StoreUpkeep(store, clock, c.defer, { origin: c.origin, originIdleMs: 2 * config.deletionDelayMs + 60_000 })
    cluster.handleStreams(StreamTag.Push, (conn, first) => {
      this.merge.acceptBatch(first)
      conn.onFrame((frame) => this.merge.acceptBatch(frame))
      conn.onClose(() => {})
    })
    this.acked = new AckedWrites({ cluster, clock, store, merge: this.merge, drops: this.drops, logger: c.logger })
    cluster.onPeerGone((p) => this.channels.forget(p.address))
  }

  /** Starts periodic anti-entropy and store upkeep (after the initial transfer). */
  start(): void {
    if (this.partition !== undefined) this.partition.start() // coverage rounds assume every node holds every key
    else this.ae.start()
    this.upkeep.start()
  }

  /**
   * Stops replicating. What this turn wrote is pushed first, and push
   * streams get up to `graceMs` to deliver what they hold (a peer that does
   * not read cannot hold the close up longer).
   */
  async close(graceMs = this.config.tcpTimeoutMs): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.push.flush()
    await this.partition?.close(graceMs)
    this.acked.close()
    this.push.close()
    this.relay.close()
    this.ae.close()
    this.upkeep.close()
    this.gossip.reset()
    this.waiters.clear()
    await this.channels.closeAll(graceMs)
  }

  /** A local write (encoded value `bytes`, or a delete when undefined); see local-writes.ts. Returns its delta. */
  write(key: string, bytes: Buffer | undefined, expiresAt: number, primitive?: unknown, nowMs?: number): Buffer {
    if (this.partition === undefined) return this.writer.write(key, bytes, expiresAt, primitive, nowMs)
    this.partition.forget(key, false) // an older near copy must not shadow the new write
    const delta = this.writer.write(key, bytes, expiresAt, primitive, nowMs)
    this.partition.ownWrite(key)
    return delta
  }

  /** Waits until `target` nodes hold the local write `delta` (from {@link write}); see acked-writes.ts. */
  awaitAcks(delta: Buffer, target: AckTarget, timeoutMs: number, key?: string): Promise<void> {
    const acks = this.counters.acks
    acks.requested++
    const p = this.acked.collect(delta, target, timeoutMs, key === undefined ? undefined : this.partition?.ackScope(key))
    p.then(() => { acks.resolved++ }, () => { acks.rejected++ }) // counted aside: the caller's promise settles as early
    return p
  }

  /** The newest version this node holds or heard of for `key` (a fill in invalidation mode starts from it). */
  versionFloor(key: string): Version | undefined {
    return this.c.store.versionFloor(key)
  }

  /**
   * Keeps a value this node loaded itself (a fill in invalidation mode):
   * local only, never sent, kept only if `floor` is still the key's newest
   * version (invalidation.ts). Returns whether it was kept.
   */
  keepLocal(key: string, bytes: Buffer, primitive: unknown, expiresAt: number, floor: Version | undefined): boolean {
    if (primitive === undefined) primitive = NOT_DECODED // an object: kept as its bytes
    return this.c.store.putLocal(key, bytes, primitive, expiresAt, floor, this.c.origin, this.c.clock.now())
  }

  /** Whether a peer's push channel is congested: writers should wait for `onDrain` (push-channels.ts). */
  backedUp(): boolean {
    return this.channels.backedUp()
  }

  /** Acknowledged writes still waiting (tests). */
  pendingAcks(): number {
    return this.acked.pendingCount
  }

  /** A local clear of the keys starting with `prefix` (`''`: every key); see local-writes.ts. */
  clear(prefix: string): void {
    this.partition?.forget(prefix, true)
    this.writer.clear(prefix)
  }

  /** Resolves with the value of `key` once it is set (locally or by replication). */
  waitForValue(key: string, signal: AbortSignal): Promise<unknown> {
    return this.waiters.wait(key, signal)
  }

  /** One anti-entropy round with the member at `addr`. */
  sync(addr: string): Promise<void> {
    return this.ae.sync(addr)
  }

  /** Pulls the current state from a seed (see anti-entropy-scheduler.ts). */
  initialSync(seeds: readonly string[], attempts?: number): Promise<boolean> {
    if (this.partition !== undefined) return this.partition.initialSync()
    return this.ae.initialSync(seeds, attempts)
  }

  /** Runs the store's housekeeping now (tests). */
  purgeNow(): void {
    this.upkeep.run()
  }

  stats(): ReplicationStats {
    const c = this.counters
    return {
      ...c,
      antiEntropy: { ...c.antiEntropy },
      acks: { ...c.acks },
      pushQueuedBytes: this.channels.queuedBytes(),
      origins: this.c.store.originCount(),
      dropped: this.drops.snapshot()
    }
  }

  // ---- MembershipDelegate ----

  getBroadcasts(overheadBytes: number, limitBytes: number): Uint8Array[] {
    return this.gossip.take(overheadBytes, limitBytes)
  }

  notifyMsg(payload: Buffer, from = ''): void {
    if (this.closed) return
    if (isRelayHeader(payload)) return this.relay.onHeader(payload, from)
    const key = this.merge.acceptPayload(payload)
    this.relay.onDelta(payload, from, key)
  }

  localState(): Uint8Array {
    return EMPTY
  }

  mergeRemoteState(): void {}
}

const EMPTY = new Uint8Array(0)
