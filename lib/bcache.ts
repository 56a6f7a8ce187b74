/**
 * The public facade: one replicated cache node. Validates arguments and wires
 * the layers together (store, membership, replication, fill); the mechanisms
 * live in those layers.
 */
import { channel } from 'node:diagnostics_channel'
import { EventEmitter } from 'node:events'
import { checkAckedSetOptions, checkKey, checkedWrite, clearPrefixOf, type ClearOptions } from './api-checks.js'
import { KeyEvents } from './bcache-events.js'
import { resolveOptions, type BcacheOptions, type ReplicationMode, type ResolvedOptions } from './bcache-options.js'
import { Ticker } from './clock.js'
import { checkFillCallOptions } from './fill/filler-options.js'
import { fillOrStale } from './fill/stale-fill.js'
import type { MemberInfo } from './membership/member-table.js'
import { needsRefresh } from './membership/peer-source.js'
import { assembleNode, type BcacheComponents, type NodeParts } from './node-parts.js'
import { nodeStats } from './node-stats.js'
import type { Version } from './store/versioned-store.js'
import { BcacheReads } from './bcache-reads.js'
import type { Keyring } from './transport/keyring.js'
import { withRelayTag, withoutRelayTag } from './replication/relay-push.js'

import type { AckedSetOptions, BcacheStats, FillCallOptions, FillerFn, SetOptions } from './bcache-types.js'

export type { BcacheComponents } from './node-parts.js'
export type { AckedSetOptions, BcacheEvents, BcacheStats, FillCallOptions, FillerFn, SetOptions } from './bcache-types.js'
export type { ClearOptions } from './api-checks.js'
export type { KeyEvent, KeyEventName, KeyEventOrigin } from './bcache-events.js'
export type { FillContext } from './fill/filler.js'

const statsChannel = channel('bcache:stats')

export class Bcache<V = unknown> extends BcacheReads<V> {
  /** Key events; the write paths pay one listener-count check each when nobody listens. */
  private readonly events: KeyEvents
  private statsTicker: Ticker | undefined

  private constructor(opts: ResolvedOptions, p: NodeParts<V>) {
    super(opts, p)
    this.events = new KeyEvents(this as unknown as EventEmitter, p.logger)
    for (const e of ['join', 'update', 'leave', 'fail'] as const) p.membership.on(e, (m) => this.emit(e, withoutRelayTag(m)))
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
    const parts = await assembleNode<V>(opts, components, {
      setValue: (key, value, ttl) => cache!.set(key, value, ttl === undefined ? {} : { ttl }),
      keepFilled: (key, value, ttl, floor) => cache!.keepFilled(key, value, ttl, floor),
      onEvict: (key, reason) => cache?.events.emit(reason === 'capacity' ? 'evict' : 'expire', key, 'local'),
      onRemoteApplied: (key, tombstone) => cache?.events.emit(tombstone ? 'delete' : 'set', key, 'remote'),
      onDrain: () => cache?.emit('drain')
    })
    cache = new Bcache<V>(opts, parts)
    parts.membership.start()
    try {
      const refreshMs = needsRefresh(opts.peers) ? opts.peerRefreshMs : 0
      await parts.membership.join(parts.peers, { timeoutMs: opts.joinTimeoutMs, refreshMs })
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

  /** The replication mode this node runs (the `mode` option). */
  get mode(): ReplicationMode {
    return this.opts.mode
  }

  get nodeId(): string {
    return this.p.membership.nodeId
  }

  /**
   * Writes `key`; visible locally at once, replicated to every node.
   * Returns false, as `stream.write` does, when replication toward some
   * peer is backed up (its push stream is above its high-water mark): the
   * write is applied and will be sent, but a writer producing flat out
   * should wait for the `'drain'` event before it writes more, or it
   * outruns its slowest receiver (README "Backpressure").
   */
  set(key: string, value: V, options?: SetOptions): boolean {
    this.write(key, value, options?.ttl)
    return !this.p.replicator.backedUp()
  }

  /**
   * Writes `key` exactly as {@link set} does (same checks, visible here at
   * once, replicated), then resolves once `acks` nodes, this one included,
   * hold it (README: Acknowledged writes). Rejects with `AckError` when they
   * do not within `timeoutMs`, when fewer members are live than asked for
   * (at once), or when this node closes meanwhile; the write stays applied
   * here in every case. Bad options reject with `TypeError`/`RangeError`
   * and write nothing.
   */
  async setAcked(key: string, value: V, options?: AckedSetOptions): Promise<void> {
    const { acks, timeoutMs, ttl } = checkAckedSetOptions(options)
    const delta = this.write(key, value, ttl)
    await this.p.replicator.awaitAcks(delta, acks, timeoutMs, key) // partition mode: the key's owners
  }

  /**
   * Deletes `key` everywhere with a versioned tombstone (also when this node
   * never held it). Returns whether this node held a value.
   */
  delete(key: string): boolean {
    this.checkOpen()
    checkKey(key, this.opts.maxKeyBytes)
    const had = this.has(key)
    this.counters.deletes++
    this.p.replicator.write(key, undefined, 0)
    this.events.emit('delete', key, 'local')
    return had
  }

  /**
   * Clears every key on every node, or with `{ prefix }` only the keys
   * starting with it. The keys vanish here at once; the clear is a
   * versioned write (like a delete of each key), so a write made before it
   * that arrives late anywhere is dropped, and writes made after it (in
   * version order) survive. Its record is kept for `deletionDelay`, like a
   * tombstone. O(keys held) once, on each node.
   */
  clear(options?: ClearOptions): void {
    this.checkOpen()
    const prefix = clearPrefixOf(options, this.opts.maxKeyBytes)
    this.p.replicator.clear(prefix)
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
    const hit = this.p.replicator.partition === undefined ? this.get(key) : await this.fetch(key) // partition mode: an owner may hold it
    if (hit !== undefined) return hit
    if (options.allowStale === true || options.allowStaleOnFetchRejection === true) {
      const { store } = this.p
      return fillOrStale({
        fill: (k, fn, o) => this.p.filler.fill(k, fn, o),
        staleValue: (k) => store.staleValue(k) as V | undefined,
        onStaleHit: () => { this.counters.staleHits++ }
      }, key, filler, options)
    }
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

  /** Every known member, this node included, with its `tags`. */
  members(): MemberInfo[] {
    return this.p.membership.members().map(withoutRelayTag) // the relay gate's tag is reserved (relay-push.ts)
  }

  /**
   * Replaces this node's tags (see the `tags` option): a new incarnation,
   * announced to every node. @throws TypeError | RangeError on bad tags
   */
  setTags(tags: Record<string, string>): void {
    this.checkOpen()
    this.p.membership.setTags(withRelayTag(tags)) // replication/relay-push.ts: the relay gate
  }

  stats(): BcacheStats {
    return nodeStats(this.nodeId, this.p, this.counters)
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
    const seeds = this.p.membership.seedAddresses()
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

  /** The write of `set` and `setAcked`; returns its delta. */
  private write(key: string, value: V, ttl: number | undefined): Buffer {
    this.checkOpen()
    const now = this.now()
    const w = checkedWrite(this.opts, key, value, ttl, now)
    this.counters.sets++
    const delta = this.p.replicator.write(key, w.bytes, w.expiresAt, w.primitive, now)
    this.events.emit('set', key, 'local')
    return delta
  }

  /** A filled value in invalidation mode: checked like a write, kept here only (replication/invalidation.ts). */
  private keepFilled(key: string, value: V, ttl: number | undefined, floor: Version | undefined): void {
    this.checkOpen()
    const w = checkedWrite(this.opts, key, value, ttl, this.now())
    this.p.replicator.keepLocal(key, w.bytes, w.primitive, w.expiresAt, floor)
  }

}
