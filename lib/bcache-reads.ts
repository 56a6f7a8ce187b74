/**
 * The reading half of the facade (`Bcache` extends it): `get`, `has`,
 * `peek`, `fetch`, TTLs, size and the iterators, all local except `fetch`
 * in partition mode. Apart from bcache.ts only to keep each file readable;
 * the fields here are the facade's own.
 */
import { EventEmitter } from 'node:events'
import { checkKey } from './api-checks.js'
import type { ResolvedOptions } from './bcache-options.js'
import type { BcacheEvents } from './bcache-types.js'
import { ClosedError } from './errors.js'
import type { FacadeCounters } from './node-stats.js'
import type { NodeParts } from './node-parts.js'
import type { NearCache } from './replication/near-cache.js'
import type { LiveEntries } from './store/live-entries.js'

export abstract class BcacheReads<V> extends EventEmitter<BcacheEvents> {
  protected readonly counters: FacadeCounters = { hits: 0, misses: 0, staleHits: 0, sets: 0, deletes: 0 }
  protected readonly now: () => number
  /** The store's live entries: `get` reads them directly (the hot path). */
  protected readonly live: LiveEntries
  /** The clock of the TTL checks of reads (clock.ts `coarseNow`: may lag `now` a little, never leads). */
  protected readonly readNow: () => number
  /** Partition mode's near cache: `get` reads it after a local miss. */
  protected readonly near: NearCache | undefined
  protected closed = false

  protected constructor(protected readonly opts: ResolvedOptions, protected readonly p: NodeParts<V>) {
    super()
    const clock = p.clock
    this.now = () => clock.now()
    this.readNow = clock.coarseNow === undefined ? this.now : clock.coarseNow.bind(clock)
    this.live = p.store.live
    this.near = p.replicator.partition?.near
  }

  /** The value of `key`, or undefined. Local and synchronous: no network. */
  get(key: string): V | undefined {
    let v = this.live.get(key, this.readNow) as V | undefined
    if (v === undefined && this.near !== undefined) v = this.partitionGet(key) // partition mode
    if (v === undefined) this.counters.misses++
    else this.counters.hits++
    return v
  }

  /** Whether `key` has a live, unexpired value here (in partition mode: owned or in the near cache). Counts no hit, changes no recency. */
  has(key: string): boolean {
    return this.p.store.has(key, this.readNow) || (this.near !== undefined && this.partitionGet(key, false) !== undefined)
  }

  /**
   * The value of `key`: `get`, and in partition mode, on a local miss, a
   * read from one of the key's owners over TCP, kept in the near cache
   * (README "Partition mode"). Resolves undefined when no owner holds it.
   * In the other modes every node holds what it can read: the same as `get`.
   */
  async fetch(key: string): Promise<V | undefined> {
    this.checkOpen()
    checkKey(key, this.opts.maxKeyBytes)
    const hit = this.get(key)
    const part = this.p.replicator.partition
    if (hit !== undefined || part === undefined) return hit
    return await part.fetch(key) as V | undefined
  }

  /**
   * The value of `key` like `get`, but counts no hit or miss and leaves the
   * key's LRU recency alone (lru-cache's `peek`). An expired key is missing.
   */
  peek(key: string): V | undefined {
    const v = this.p.store.peekValue(key, this.readNow) as V | undefined
    return v !== undefined || this.near === undefined ? v : this.partitionGet(key, false)
  }

  /**
   * Ms before `key` expires, as lru-cache's `getRemainingTTL`: `Infinity`
   * for a key without a TTL, `0` for a missing, deleted or expired one.
   * Unlike lru-cache, never negative (an expired key is gone here).
   */
  getRemainingTTL(key: string): number {
    return this.p.store.remainingTtl(key, this.now())
  }

  /**
   * Live keys held on this node (lru-cache's `size`). Like lru-cache's, it
   * may count keys whose TTL passed but that no read or purge noticed yet.
   */
  get size(): number {
    return this.p.store.size()
  }

  /**
   * The live, unexpired keys on this node, **most recently used first**
   * (lru-cache's order). Walking them counts no hit and changes no recency.
   * The order is taken when the walk starts (writes during it are safe); a
   * key deleted or expired meanwhile is skipped.
   */
  *keys(): Generator<string, void, undefined> {
    for (const [key] of this.entries()) yield key
  }

  /** The values of {@link keys}, in the same order. */
  *values(): Generator<V, void, undefined> {
    for (const [, value] of this.entries()) yield value
  }

  /**
   * `[key, value]` for every live, unexpired key, in the order of
   * {@link keys}. Values are decoded lazily as `get` does (a replicated
   * value on first need); no hit is counted, no recency changes.
   */
  *entries(): Generator<[string, V], void, undefined> {
    const { store } = this.p
    for (const key of store.keysByRecency()) {
      const value = store.peekValue(key, this.now) as V | undefined
      if (value !== undefined) yield [key, value]
    }
  }

  /** Same as {@link entries}, as lru-cache. */
  [Symbol.iterator](): Generator<[string, V], void, undefined> {
    return this.entries()
  }


  /** Partition mode, after a store miss: the near cache, then this node's own write waiting for its owners (`count`: as a read; else as `peek`). */
  protected partitionGet(key: string, count = true): V | undefined {
    const now = this.readNow()
    const near = count ? this.near!.get(key, now) : this.near!.peek(key, now)
    return (near ?? this.p.replicator.partition!.pendingValue(key, now)) as V | undefined
  }

  protected checkOpen(): void {
    if (this.closed) throw new ClosedError('cache')
  }
}
