/**
 * The public facade: one replicated cache node. Validates arguments and wires
 * the layers together (store, membership, replication, fill); the mechanisms
 * live in those layers.
 */
import { channel } from 'node:diagnostics_channel'
import { EventEmitter } from 'node:events'
import { checkKey, checkValueSize, expiryOf } from './api-checks.js'
import { resolveOptions, type BcacheOptions, type ResolvedOptions } from './bcache-options.js'
import { Ticker } from './clock.js'
import { mergeCounts } from './drop-counts.js'
import { ClosedError } from './errors.js'
import type { FillerStats } from './fill/filler.js'
import { checkFillCallOptions } from './fill/filler-options.js'
import type { MemberInfo } from './membership/member-table.js'
import type { MembershipStats } from './membership/membership.js'
import { assembleNode, type BcacheComponents, type NodeParts } from './node-parts.js'
import type { ReplicationStats } from './replication/replicator.js'
import { packValue } from './store/versioned-store.js'
import type { Keyring } from './transport/keyring.js'

export type { BcacheComponents } from './node-parts.js'

export interface SetOptions {
  /** Time to live in ms; the key expires at the same instant on every node. 0 or absent = no expiry. */
  ttl?: number
}

export interface FillCallOptions extends SetOptions {
  /** Whole fill timeout in ms (waits for a lease or another node's fill included). */
  timeoutMs?: number
  /** Aborts this caller's wait; the fill goes on for the other callers. */
  signal?: AbortSignal
}

/** Loads the value of a missing key; `signal` aborts when no caller waits any more. */
export type FillerFn<V> = (key: string, ctx: { signal: AbortSignal }) => Promise<V> | V

export interface BcacheStats {
  nodeId: string
  keys: number
  bytes: number
  /** Deletes remembered (for deletionDelay) so a late older write cannot resurrect the key. */
  tombstones: number
  /** Expired writes remembered (for deletionDelay) for the same reason; local, never gossiped. */
  expiryMarkers: number
  hits: number
  misses: number
  sets: number
  deletes: number
  evictions: number
  expirations: number
  fills: FillerStats
  replication: ReplicationStats
  membership: MembershipStats
  /** Datagrams and frames dropped by reason (membership, transport and replication together). */
  dropped: Record<string, number>
}

export interface BcacheEvents {
  join: [MemberInfo]
  update: [MemberInfo]
  leave: [MemberInfo]
  fail: [MemberInfo]
}

const statsChannel = channel('bcache:stats')

export class Bcache<V = unknown> extends EventEmitter<BcacheEvents> {
  private readonly counters = { hits: 0, misses: 0, sets: 0, deletes: 0 }
  private readonly now: () => number
  private closed = false
  private statsTicker: Ticker | undefined

  private constructor(private readonly opts: ResolvedOptions, private readonly p: NodeParts<V>) {
    super()
    const clock = p.clock
    this.now = () => clock.now()
    for (const e of ['join', 'update', 'leave', 'fail'] as const) p.membership.on(e, (m) => this.emit(e, m))
  }

  /**
   * Starts a node: binds `listenAddr`, joins `peers`, and pulls the current
   * state from a seed before resolving. Throws `TypeError`/`RangeError` on
   * bad options (nothing bound), `BindError`, `JoinError` when no seed
   * answered, or `DuplicateNodeIdError` when another member holds this
   * node's id (sockets released).
   */
  static async create<V = unknown>(options: BcacheOptions, components: BcacheComponents = {}): Promise<Bcache<V>> {
    const opts = resolveOptions(options, components.transport === undefined)
    let cache: Bcache<V> | undefined
    const parts = await assembleNode<V>(opts, components, (key, value, ttl) => cache!.set(key, value, ttl === undefined ? {} : { ttl }))
    cache = new Bcache<V>(opts, parts)
    parts.membership.start()
    try {
      await parts.membership.join(opts.peers)
    } catch (err) {
      await cache.close()
      throw err
    }
    await cache.initialSync()
    // Periodic rounds only once this node holds the state (see initialSync).
    parts.replicator.start()
    cache.startStats()
    return cache
  }

  /** The bound (or advertised) "host:port". */
  get address(): string {
    return this.p.membership.address
  }

  get nodeId(): string {
    return this.p.membership.nodeId
  }

  /** Writes `key`; visible locally at once, replicated to every node. */
  set(key: string, value: V, options?: SetOptions): void {
    this.checkOpen()
    checkKey(key, this.opts.maxKeyBytes)
    const expiresAt = expiryOf(options?.ttl, this.now())
    const bytes = packValue(value) // transient: write() copies it into the delta
    checkValueSize(key, bytes, this.opts.maxValueBytes, this.opts.maxBytes)
    this.counters.sets++
    this.p.replicator.write(key, bytes, expiresAt)
  }

  /** The value of `key`, or undefined. Local and synchronous: no network. */
  get(key: string): V | undefined {
    const v = this.p.store.get(key, this.now) as V | undefined
    if (v === undefined) this.counters.misses++
    else this.counters.hits++
    return v
  }

  has(key: string): boolean {
    return this.p.store.has(key, this.now)
  }

  /**
   * Deletes `key` everywhere with a versioned tombstone (also when this node
   * never held it). Returns whether this node held a value.
   */
  delete(key: string): boolean {
    this.checkOpen()
    checkKey(key, this.opts.maxKeyBytes)
    const had = this.p.store.has(key, this.now)
    this.counters.deletes++
    this.p.replicator.write(key, undefined, 0)
    return had
  }

  /**
   * The value of `key`; on a miss, loads it with `filler` once (per node, and
   * per cluster while it is healthy), stores it with `ttl` and replicates it.
   * Every concurrent caller gets the same value or the same error; an error
   * is not cached.
   */
  async getWithFiller(key: string, filler: FillerFn<V>, options: FillCallOptions = {}): Promise<V> {
    this.checkOpen()
    checkKey(key, this.opts.maxKeyBytes)
    if (typeof filler !== 'function') throw new TypeError('filler must be a function')
    checkFillCallOptions(options) // before the lookup: a bad option fails on a hit as on a miss
    const hit = this.get(key)
    if (hit !== undefined) return hit
    return this.p.filler.fill(key, filler, options)
  }

  /**
   * The live keyring: `add(key)` (accept it), `use(key)` (encrypt with it),
   * `remove(key)` (stop accepting it; not the primary), `keys()`. Keys are
   * 32-byte Buffers. To rotate: add everywhere, then use everywhere, then
   * remove the old one everywhere; no traffic is dropped.
   */
  get keyring(): Keyring {
    return this.p.transport.keyring
  }

  /** Every known member, this node included. */
  members(): MemberInfo[] {
    return this.p.membership.members()
  }

  stats(): BcacheStats {
    const { store, membership, replicator, filler, transport } = this.p
    const m = membership.stats()
    const r = replicator.stats()
    return {
      nodeId: this.nodeId,
      keys: store.size(),
      bytes: store.bytes(),
      tombstones: store.tombstones(),
      expiryMarkers: store.expiryMarkers(),
      ...this.counters,
      evictions: store.stats.evictions,
      expirations: store.stats.expirations,
      fills: { ...filler.stats },
      replication: r,
      membership: m,
      dropped: mergeCounts(m.dropped, r.dropped, transport.stats().dropped)
    }
  }

  /** Leaves the cluster gracefully and releases every socket and timer. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.statsTicker?.stop()
    const { membership, replicator, filler } = this.p
    // The last turn's writes and the push streams' backlog go out while we
    // still are a member; then we leave.
    await replicator.close(Math.min(this.opts.tuning.tcpTimeoutMs, 2000))
    await membership.leave(Math.min(membership.config.probeIntervalMs, 1000)).catch(() => {})
    filler.close()
    await membership.shutdown()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  /** Pulls the current state from a seed before create() resolves. */
  private async initialSync(): Promise<void> {
    const seeds = this.opts.peers.filter((s) => s !== this.address)
    if (!(await this.p.replicator.initialSync(seeds))) {
      this.p.logger.warn(`bcache: no initial state transfer from ${seeds.join(', ')}; anti-entropy will catch up`)
    }
  }

  private startStats(): void {
    const every = this.opts.statsInterval
    if (every === 0) return
    this.statsTicker = new Ticker(this.p.clock, () => every, () => {
      if (statsChannel.hasSubscribers) statsChannel.publish(this.stats())
    }).start()
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError('cache')
  }
}
