/**
 * The public facade: one replicated cache node. Validates arguments and wires
 * the layers together (store, membership, replication, fill); the mechanisms
 * live in those layers.
 */
import { channel } from 'node:diagnostics_channel'
import { EventEmitter } from 'node:events'
import { resolveOptions, type BcacheOptions, type ResolvedOptions } from './bcache-options.js'
import { systemClock, type Clock, type Timer } from './clock.js'
import { ClosedError } from './errors.js'
import { Filler as FillEngine, type FillerStats } from './fill/filler.js'
import { checkFillCallOptions } from './fill/filler-options.js'
import { silentLogger, type Logger } from './logger.js'
import type { MemberInfo } from './membership/member-table.js'
import { Membership, type MembershipStats } from './membership/membership.js'
import { defaultNodeId } from './membership/start.js'
import type { Random } from './random.js'
import { LeaseClient, serveLease } from './replication/lease-client.js'
import { Replicator, type ReplicationStats } from './replication/replicator.js'
import { packValue, VersionedStore } from './store/versioned-store.js'
import { parseAddress, type Transport } from './transport/transport.js'
import { UdpTcpTransport } from './transport/udp-tcp-transport.js'
import type { Keyring } from './transport/keyring.js'
import { SecureTransport, secureOverhead } from './transport/secure-transport.js'

/** Injected collaborators, for tests and the simulator; production uses none. */
export interface BcacheComponents {
  /** A bound transport (e.g. from `MemoryNetwork`); then `listenAddr` may be omitted. */
  transport?: Transport
  clock?: Clock
  random?: Random
  /** Runs a function after the current event-loop turn. @default setImmediate */
  defer?: (fn: () => void) => void
}

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
  tombstones: number
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
  private statsTimer: Timer | undefined

  private constructor(
    private readonly opts: ResolvedOptions,
    private readonly store: VersionedStore,
    private readonly membership: Membership,
    private readonly replicator: Replicator,
    private readonly filler: FillEngine<V>,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly transport: SecureTransport
  ) {
    super()
    this.now = () => clock.now()
    for (const e of ['join', 'update', 'leave', 'fail'] as const) membership.on(e, (m) => this.emit(e, m))
  }

  /**
   * Starts a node: binds `listenAddr`, joins `peers`, and pulls the current
   * state from a seed before resolving. Throws `TypeError`/`RangeError` on
   * bad options (nothing bound), `BindError`, or `JoinError` when no seed
   * answered (sockets released).
   */
  static async create<V = unknown>(options: BcacheOptions, components: BcacheComponents = {}): Promise<Bcache<V>> {
    const opts = resolveOptions(options, components.transport === undefined)
    const clock = components.clock ?? systemClock
    const random = components.random ?? Math.random
    const logger = options.logger ?? silentLogger
    // Every datagram and frame goes through the security envelope (a no-op without keys and label).
    const overhead = secureOverhead(opts.label, opts.encryption)
    const tuning = { ...opts.tuning, packetBudgetBytes: opts.tuning.packetBudgetBytes - overhead }
    if (tuning.packetBudgetBytes < 64) throw new RangeError(`option label: the envelope (${overhead} bytes) leaves less than 64 bytes of tuning.packetBudgetBytes`)
    const bound = components.transport ?? await UdpTcpTransport.bind({ ...parseAddress(opts.listenAddr), logger, maxFrameBytes: opts.maxFrameBytes })
    const transport = new SecureTransport(bound, { keyring: opts.keyring, label: opts.label, allowPlaintext: opts.allowPlaintext, logger })
    const nodeId = opts.nodeId ?? defaultNodeId()
    const store = new VersionedStore({ maxKeys: opts.maxKeys, maxBytes: opts.maxBytes, deletionDelayMs: opts.deletionDelay })
    const membership = new Membership({ transport, clock, random, logger }, { ...tuning, nodeId, advertiseAddr: opts.advertiseAddr ?? transport.address, maxMembers: opts.maxMembers })
    // The write origin is new for every process start, so a node restarted
    // under the same id never reuses sequence numbers its peers have seen.
    const origin = Array.from({ length: 12 }, () => Math.floor(random() * 16).toString(16)).join('')
    let filler: FillEngine<V> | undefined
    const replicator = new Replicator(
      {
        store, membership, clock, random, logger, origin,
        defer: components.defer ?? ((fn) => setImmediate(fn)),
        onLeaseMessage: (conn, payload) => (filler === undefined ? conn.destroy() : serveLease(conn, payload, filler))
      },
      { ...tuning, maxSyncs: opts.maxSyncs, maxStreamQueueBytes: opts.maxStreamQueueBytes, maxValueBytes: opts.maxValueBytes }
    )
    membership.setDelegate(replicator)
    filler = new FillEngine<V>({
      clock,
      peers: new LeaseClient({ membership, clock, logger }, opts.tuning.tcpTimeoutMs),
      local: {
        get: (key) => store.get(key, () => clock.now()) as V | undefined,
        setValue: (key, value, ttl) => cache.set(key, value, ttl === undefined ? {} : { ttl }),
        waitForValue: (key, signal) => replicator.waitForValue(key, signal) as Promise<V>
      }
    }, opts.fill)
    const cache: Bcache<V> = new Bcache<V>(opts, store, membership, replicator, filler, clock, logger, transport)
    membership.start()
    try {
      await membership.join(opts.peers)
    } catch (err) {
      await cache.close()
      throw err
    }
    await cache.initialSync()
    // Periodic rounds only once this node holds the state (see initialSync).
    replicator.start()
    cache.startStats()
    return cache
  }

  /** The bound (or advertised) "host:port". */
  get address(): string {
    return this.membership.address
  }

  get nodeId(): string {
    return this.membership.nodeId
  }

  /** Writes `key`; visible locally at once, replicated to every node. */
  set(key: string, value: V, options?: SetOptions): void {
    this.checkOpen()
    checkKey(key, this.opts.maxKeyBytes)
    const ttl = options?.ttl
    if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0)) {
      throw new RangeError(`ttl must be a finite number of ms >= 0, got ${String(ttl)}`)
    }
    const bytes = packValue(value) // transient: write() copies it into the delta
    if (bytes.length > this.opts.maxValueBytes) {
      throw new RangeError(`value of ${key} is ${bytes.length} bytes encoded, over maxValueBytes (${this.opts.maxValueBytes})`)
    }
    const expiresAt = ttl === undefined || ttl === 0 ? 0 : Math.ceil(this.clock.now() + ttl)
    this.counters.sets++
    this.replicator.write(key, bytes, value, expiresAt)
  }

  /** The value of `key`, or undefined. Local and synchronous: no network. */
  get(key: string): V | undefined {
    const v = this.store.get(key, this.now) as V | undefined
    if (v === undefined) this.counters.misses++
    else this.counters.hits++
    return v
  }

  has(key: string): boolean {
    return this.store.has(key, this.now)
  }

  /**
   * Deletes `key` everywhere with a versioned tombstone (also when this node
   * never held it). Returns whether this node held a value.
   */
  delete(key: string): boolean {
    this.checkOpen()
    checkKey(key, this.opts.maxKeyBytes)
    const had = this.store.has(key, this.now)
    this.counters.deletes++
    this.replicator.write(key, undefined, undefined, 0)
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
    return this.filler.fill(key, filler, options)
  }

  /**
   * The live keyring: `add(key)` (accept it), `use(key)` (encrypt with it),
   * `remove(key)` (stop accepting it; not the primary), `keys()`. Keys are
   * 32-byte Buffers. To rotate: add everywhere, then use everywhere, then
   * remove the old one everywhere; no traffic is dropped.
   */
  get keyring(): Keyring {
    return this.transport.keyring
  }

  /** Every known member, this node included. */
  members(): MemberInfo[] {
    return this.membership.members()
  }

  stats(): BcacheStats {
    const m = this.membership.stats()
    const r = this.replicator.stats
    return {
      nodeId: this.nodeId,
      keys: this.store.size(),
      bytes: this.store.bytes(),
      tombstones: this.store.tombstones(),
      ...this.counters,
      evictions: this.store.stats.evictions,
      expirations: this.store.stats.expirations,
      fills: { ...this.filler.stats },
      replication: { ...r, antiEntropy: { ...r.antiEntropy }, dropped: { ...r.dropped } },
      membership: m,
      dropped: mergeCounts(m.dropped, r.dropped, this.transport.stats().dropped)
    }
  }

  /** Leaves the cluster gracefully and releases every socket and timer. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    if (this.statsTimer !== undefined) this.clock.clearTimeout(this.statsTimer)
    await this.membership.leave(Math.min(this.membership.config.probeIntervalMs, 1000)).catch(() => {})
    this.replicator.close()
    this.filler.close()
    await this.membership.shutdown()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  /** Pulls the current state from a seed before create() resolves. */
  private async initialSync(): Promise<void> {
    const seeds = this.opts.peers.filter((s) => s !== this.address)
    if (!(await this.replicator.initialSync(seeds))) {
      this.logger.warn(`bcache: no initial state transfer from ${seeds.join(', ')}; anti-entropy will catch up`)
    }
  }

  private startStats(): void {
    const every = this.opts.statsInterval
    if (every === 0) return
    const tick = (): void => {
      this.statsTimer = this.clock.setTimeout(() => {
        if (statsChannel.hasSubscribers) statsChannel.publish(this.stats())
        tick()
      }, every)
    }
    tick()
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError('cache')
  }
}

function checkKey(key: unknown, maxKeyBytes: number): asserts key is string {
  if (typeof key !== 'string') throw new TypeError(`key must be a string, got ${typeof key}`)
  if (key.length === 0) throw new TypeError('key must not be empty')
  if (key.length * 3 > maxKeyBytes && Buffer.byteLength(key) > maxKeyBytes) {
    throw new RangeError(`key must be at most ${maxKeyBytes} UTF-8 bytes (maxKeyBytes)`)
  }
}

function mergeCounts(...all: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const rec of all) for (const [k, v] of Object.entries(rec)) out[k] = (out[k] ?? 0) + v
  return out
}
