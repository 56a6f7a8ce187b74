/**
 * Where the store meets the network. Implements the membership delegate:
 *
 * - **Local writes** (`write`): stamp a hybrid-logical-clock version and the
 *   next local seq, apply to the store, encode the delta once, and queue it
 *   for an eager push. Pushes are coalesced per event-loop turn: at the end
 *   of the turn the pending deltas are packed into as few datagrams as fit
 *   the budget and each datagram goes to every live member. Deltas too large
 *   for a datagram go over a short TCP stream instead. Every delta that fits
 *   a datagram also enters a transmit-limited broadcast queue that membership
 *   piggybacks on probes and gossip ticks (redundancy against loss).
 * - **Arrivals** (`notifyMsg`, push streams, anti-entropy): validate, apply
 *   last-writer-wins, wake `getWithFiller` waiters for that key.
 * - **Anti-entropy** (`sync`): a round with a random live member every
 *   `antiEntropyIntervalMs`, and with a seed right after joining (see
 *   anti-entropy.ts).
 * - **Fill leases**: request/release exchanges between fillers and key owners.
 *
 * Nothing here throws out of a socket handler: bad input is dropped and
 * counted in `stats.dropped`.
 */
import type { Clock, Timer } from '../clock.js'
import type { Logger } from '../logger.js'
import type { Random } from '../random.js'
import type { MembershipDelegate } from '../membership/delegate.js'
import type { Membership } from '../membership/membership.js'
import { TransmitQueue } from '../gossip/transmit-queue.js'
import { HybridClock } from '../store/version.js'
import { NOT_DECODED, type Entry, type VersionedStore } from '../store/versioned-store.js'
import type { StreamConn } from '../transport/transport.js'
import { DecodeError } from '../wire/decode-error.js'
import { userOverhead, PACKET_HEADER_BYTES } from '../wire/codec.js'
import { initiateRound, respondRound, type AntiEntropyContext, type AntiEntropyStats } from './anti-entropy.js'
import { decodeBatch, decodeDelta, deltaValueOffset, encodeBatch, encodeDelta, type Delta } from './delta.js'
import { PushChannels } from './push-channels.js'
import type { ReplicationTuning } from '../options.js'

/** Stream tags of the replication protocols (append only: part of the protocol). */
export const enum StreamTag {
  AntiEntropy = 1,
  Push = 2,
  Lease = 3
}

export interface ReplicationStats {
  deltasOut: number
  deltasIn: number
  applied: number
  stale: number
  duplicates: number
  /** Datagrams of eager pushes sent (one per member per datagram). */
  pushDatagrams: number
  /** Batches sent over push streams (bursts and large values). */
  pushBatches: number
  /** Push streams opened. */
  pushStreams: number
  antiEntropy: AntiEntropyStats
  dropped: Record<string, number>
}

export interface ReplicatorComponents {
  store: VersionedStore
  membership: Membership
  clock: Clock
  random: Random
  logger: Logger
  /** Runs `fn` once the current event-loop turn's work is done (setImmediate in production). */
  defer: (fn: () => void) => void
  /** This process's write origin: unique per process start (see Bcache). */
  origin: string
  /** Lease request handler (the local filler, as key owner). */
  onLeaseMessage?: (conn: StreamConn, payload: Buffer) => void
}

/** Limits that bound what peers can make a node hold or do (see the README's limits table). */
export interface ReplicationLimits {
  /**
   * Most anti-entropy rounds served at once; a round asked beyond it is
   * refused (stream destroyed, counted `anti-entropy-busy`); the peer retries later.
   * @default {@link MAX_SERVED_ROUNDS}
   */
  maxSyncs?: number
  /** Most bytes queued unread on one anti-entropy stream; beyond, destroyed and counted `queue-overflow`. @default 8 MiB */
  maxStreamQueueBytes?: number
  /**
   * Largest value accepted from a peer, in bytes; a larger one is dropped
   * (`value-too-large`). Set it the same on every node.
   * @default unbounded (the frame and datagram limits still apply)
   */
  maxValueBytes?: number
}


// Room for the datagram header and the array header of the message list.
const PACKET_OVERHEAD = PACKET_HEADER_BYTES + 3

/**
 * A turn whose writes need more datagrams than this per peer goes over the
 * peer's push stream instead (a UDP burst would overflow socket buffers).
 */
export const MAX_PUSH_DATAGRAMS = 8

/** Anti-entropy rounds served at once; more are refused (the initiator retries next interval). */
export const MAX_SERVED_ROUNDS = 2

export class Replicator implements MembershipDelegate {
  readonly hlc: HybridClock
  readonly stats: ReplicationStats
  private readonly queue: TransmitQueue
  /** Deltas written this turn, and their keys (same order), until flush(). */
  private pending: Buffer[] = []
  private pendingKeys: string[] = []
  private flushScheduled = false
  private readonly waiters = new Map<string, Set<(value: unknown) => void>>()
  private readonly ae: AntiEntropyContext
  private readonly channels: PushChannels
  private aeTimer: Timer | undefined
  private purgeTimer: Timer | undefined
  private closed = false
  /** Anti-entropy rounds in progress, by role; `joining` while the initial transfer runs. */
  private aeInitiated = 0
  private aeServed = 0
  private joining = false

  constructor(
    private readonly c: ReplicatorComponents,
    private readonly config: ReplicationTuning & ReplicationLimits & { packetBudgetBytes: number; tcpTimeoutMs: number }
  ) {
    this.hlc = new HybridClock(() => c.clock.now())
    this.queue = new TransmitQueue({ retransmitMult: Math.max(1, config.deltaRetransmitMult), numNodes: () => c.membership.table.numLive() })
    this.stats = {
      deltasOut: 0, deltasIn: 0, applied: 0, stale: 0, duplicates: 0, pushDatagrams: 0, pushBatches: 0, pushStreams: 0,
      antiEntropy: { rounds: 0, failed: 0, bytesOut: 0, bytesIn: 0, entriesOut: 0, entriesIn: 0 },
      dropped: {}
    }
    this.ae = {
      store: c.store, clock: c.clock, apply: (d) => this.acceptRemote(d), timeoutMs: config.tcpTimeoutMs,
      batchBytes: 256 * 1024, stats: this.stats.antiEntropy,
      queue: { maxBytes: config.maxStreamQueueBytes, onOverflow: () => this.drop('queue-overflow') }
    }
    this.channels = new PushChannels({
      open: (addr, batch) => {
        this.stats.pushStreams++
        return c.membership.openUserStream(addr, StreamTag.Push, batch)
      },
      logger: c.logger,
      drop: (reason) => this.drop(reason)
    })
  }

  /** Starts periodic anti-entropy and tombstone purging. */
  start(): void {
    const forget = (m: { address: string }): void => this.channels.forget(m.address)
    this.c.membership.on('leave', forget)
    this.c.membership.on('fail', forget)
    const aeEvery = this.config.antiEntropyIntervalMs
    if (aeEvery > 0) {
      const tick = (): void => {
        this.aeTimer = this.c.clock.setTimeout(() => {
          // One round at a time: a round towards a node far behind may move
          // the whole state; never start another on top of it.
          const [peer] = this.aeBusy() ? [] : this.c.membership.table.sample(1, this.c.random, (m) => m.state === 0)
          if (peer !== undefined) void this.sync(peer.addr).catch((err) => this.c.logger.debug(`replication: anti-entropy with ${peer.addr} failed: ${String(err)}`))
          tick()
        }, aeEvery * (0.5 + this.c.random()))
      }
      tick()
    }
    const purge = (): void => {
      this.purgeTimer = this.c.clock.setTimeout(() => {
        this.c.store.purge(this.c.clock.now())
        purge()
      }, 1000)
    }
    purge()
  }

  close(): void {
    this.closed = true
    if (this.aeTimer !== undefined) this.c.clock.clearTimeout(this.aeTimer)
    if (this.purgeTimer !== undefined) this.c.clock.clearTimeout(this.purgeTimer)
    this.queue.reset()
    this.channels.closeAll()
    this.pending = []
    this.pendingKeys = []
    this.waiters.clear()
  }

  /**
   * A local write (value `bytes`/`value`, or a delete when `bytes` is
   * undefined). Visible locally at once; replicated from the end of this
   * event-loop turn. `bytes` is copied before this returns (it may be a
   * transient encoder buffer).
   */
  write(key: string, bytes: Buffer | undefined, value: unknown, expiresAt: number): void {
    const now = this.c.clock.now()
    const { wall, counter } = this.hlc.tickAt(now)
    const version = { wall, counter, origin: this.c.origin }
    const seq = this.c.store.nextSeq(this.c.origin)
    const delta = encodeDelta(key, bytes, version, seq, expiresAt)
    const tombstone = bytes === undefined
    // The stored value bytes are a view into the delta: one allocation serves
    // both (and `bytes` may be a transient encoder buffer).
    let stored: Buffer = EMPTY
    if (!tombstone) {
      const at = deltaValueOffset(key, bytes.length)
      stored = delta.subarray(at, at + bytes.length)
    }
    const entry: Entry = { key, bytes: stored, value: tombstone ? undefined : value, version, seq, expiresAt, tombstone }
    this.c.store.apply(entry, now)
    if (!tombstone && this.waiters.size > 0) this.wake(key, value)
    this.stats.deltasOut++
    this.pending.push(delta)
    this.pendingKeys.push(key)
    if (!this.flushScheduled) {
      this.flushScheduled = true
      this.c.defer(() => this.flush())
    }
  }

  /** Resolves with the value of `key` once it is set (locally or by replication). */
  waitForValue(key: string, signal: AbortSignal): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason)
      let set = this.waiters.get(key)
      if (set === undefined) this.waiters.set(key, (set = new Set()))
      const done = (value: unknown): void => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      }
      const onAbort = (): void => {
        set!.delete(done)
        if (set!.size === 0) this.waiters.delete(key)
        reject(signal.reason)
      }
      set.add(done)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** One anti-entropy round with the member at `addr`. */
  async sync(addr: string): Promise<void> {
    this.aeInitiated++
    try {
      await initiateRound(this.ae, (digest) => this.c.membership.openUserStream(addr, StreamTag.AntiEntropy, digest))
    } finally {
      this.aeInitiated--
    }
  }

  /**
   * Pulls the current state from the first of `seeds` that completes a
   * round, trying each up to `attempts` times. While it runs this node
   * refuses rounds others open (each would send it the whole state again).
   * Resolves false when no seed completed a round.
   */
  async initialSync(seeds: readonly string[], attempts = 3): Promise<boolean> {
    this.joining = true
    try {
      for (let attempt = 0; attempt < attempts; attempt++) {
        for (const seed of seeds) {
          try {
            await this.sync(seed)
            return true
          } catch (err) {
            this.c.logger.debug(`replication: initial state transfer from ${seed} failed: ${String(err)}`)
          }
        }
        await new Promise<void>((r) => this.c.clock.setTimeout(r, 100 * (attempt + 1)))
      }
      return seeds.length === 0
    } finally {
      this.joining = false
    }
  }

  private aeBusy(): boolean {
    return this.joining || this.aeInitiated > 0 || this.aeServed > 0
  }

  // ---- MembershipDelegate ----

  getBroadcasts(overheadBytes: number, limitBytes: number): Uint8Array[] {
    return this.queue.take(overheadBytes, limitBytes)
  }

  notifyMsg(payload: Buffer): void {
    let d: Delta
    try {
      d = decodeDelta(payload)
    } catch (err) {
      this.drop(err instanceof DecodeError ? `delta-${err.reason}` : 'delta')
      return
    }
    this.acceptRemote(d)
  }

  localState(): Uint8Array {
    return EMPTY
  }

  mergeRemoteState(): void {}

  handleStream(conn: StreamConn, tag: number, payload: Buffer): void {
    if (this.closed) return conn.destroy()
    switch (tag) {
      case StreamTag.AntiEntropy:
        if (this.joining || this.aeServed >= (this.config.maxSyncs ?? MAX_SERVED_ROUNDS)) {
          this.drop('anti-entropy-busy')
          return conn.destroy()
        }
        this.aeServed++
        respondRound(this.ae, conn, payload).catch((err) => {
          this.drop('anti-entropy')
          this.c.logger.debug(`replication: serving anti-entropy to ${conn.remoteAddress} failed: ${String(err)}`)
        }).finally(() => { this.aeServed-- })
        return
      case StreamTag.Push:
        this.applyBatch(payload)
        conn.onFrame((frame) => this.applyBatch(frame))
        conn.onClose(() => {})
        return
      case StreamTag.Lease:
        if (this.c.onLeaseMessage !== undefined) return this.c.onLeaseMessage(conn, payload)
    }
    this.drop('stream-tag')
    conn.destroy()
  }

  // ---- internals ----

  private room(): number {
    return this.config.packetBudgetBytes - PACKET_OVERHEAD
  }

  /**
   * Sends the deltas written this turn to every live member: in datagrams
   * when they fit a few, else (a burst) over each member's push stream;
   * deltas too large for any datagram always go over the stream.
   */
  private flush(): void {
    this.flushScheduled = false
    const pending = this.pending
    const keys = this.pendingKeys
    this.pending = []
    this.pendingKeys = []
    if (this.closed || pending.length === 0) return
    const targets = this.c.membership.liveMembers()
    if (targets.length === 0) return
    const room = this.room()
    const groups: Buffer[][] = []
    const large: Buffer[] = []
    let group: Buffer[] = []
    let left = room
    for (const d of pending) {
      const cost = d.length + userOverhead(d.length)
      if (cost > room) {
        large.push(d)
        continue
      }
      if (cost > left) {
        groups.push(group)
        group = []
        left = room
      }
      group.push(d)
      left -= cost
    }
    if (group.length > 0) groups.push(group)
    if (groups.length > MAX_PUSH_DATAGRAMS) {
      this.streamToAll(pending, targets)
      return
    }
    const addrs = targets.map((m) => m.address)
    for (const g of groups) {
      this.c.membership.sendUserPayloads(addrs, g)
      this.stats.pushDatagrams += addrs.length
    }
    if (large.length > 0) this.streamToAll(large, targets)
    this.enqueueForGossip(pending, keys)
  }

  /**
   * Datagram-pushed deltas also ride in the broadcast queue, piggybacked on
   * membership packets: redundancy against loss until anti-entropy. (Stream
   * pushes are reliable and skip it; so do deltas too large for a datagram.)
   */
  private enqueueForGossip(deltas: Buffer[], keys: string[]): void {
    if (this.config.deltaRetransmitMult === 0) return
    const room = this.room()
    for (let i = 0; i < deltas.length; i++) {
      const d = deltas[i]!
      if (d.length + userOverhead(d.length) <= room) this.queue.enqueue({ subject: keys[i], bytes: d })
    }
    if (this.queue.size() > this.config.maxQueuedDeltas) this.queue.prune(this.config.maxQueuedDeltas)
  }

  private streamToAll(deltas: Buffer[], targets: ReadonlyArray<{ address: string }>): void {
    const batch = encodeBatch(deltas)
    this.stats.pushBatches++
    for (const m of targets) this.channels.send(m.address, batch)
  }

  private applyBatch(data: Buffer): void {
    let deltas: Delta[]
    try {
      deltas = decodeBatch(data)
    } catch (err) {
      this.drop(err instanceof DecodeError ? `push-${err.reason}` : 'push')
      return
    }
    for (const d of deltas) this.acceptRemote(d)
  }

  /** Applies a delta from a peer unless it breaks a local limit. */
  private acceptRemote(d: Delta): void {
    const max = this.config.maxValueBytes
    if (max !== undefined && d.bytes !== undefined && d.bytes.length > max) return this.drop('value-too-large')
    this.applyRemote(d)
  }

  private applyRemote(d: Delta): void {
    this.stats.deltasIn++
    this.hlc.observe(d.version.wall, d.version.counter)
    const tombstone = d.bytes === undefined
    const entry: Entry = {
      key: d.key,
      // Copy: the delta's bytes are a view into a whole datagram or frame.
      bytes: tombstone ? EMPTY : Buffer.from(d.bytes!),
      value: tombstone ? undefined : NOT_DECODED,
      version: d.version,
      seq: d.seq,
      expiresAt: d.expiresAt,
      tombstone
    }
    const result = this.c.store.apply(entry, this.c.clock.now())
    if (result === 'applied') {
      this.stats.applied++
      if (!tombstone && this.waiters.has(d.key)) this.wake(d.key, this.c.store.get(d.key, () => this.c.clock.now()))
    } else if (result === 'stale') {
      this.stats.stale++
    } else if (result === 'duplicate') {
      this.stats.duplicates++
    }
  }

  private wake(key: string, value: unknown): void {
    const set = this.waiters.get(key)
    if (set === undefined || value === undefined) return
    this.waiters.delete(key)
    for (const done of set) done(value)
  }

  private drop(reason: string): void {
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1
  }
}

const EMPTY = Buffer.alloc(0)
