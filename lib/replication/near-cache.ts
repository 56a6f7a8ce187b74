/**
 * Partition mode's near cache: a bounded LRU of values of keys this node
 * does not own, which it read from an owner (`fetch`) or wrote itself. `get`
 * stays one local read for them.
 *
 * Coherence: every write reaches every node (owners keep it, the others see
 * it pass, partition.ts), so a newer write of a key held here replaces the
 * value (a delete or an expired write drops it), and a clear drops its
 * prefix. A value read from an owner is kept only if no newer write of the
 * key passed while the read was in flight ({@link NearCache.begin}). What
 * is not guaranteed: a write whose every copy to this node was lost leaves
 * the older value here until it is evicted or `nearCacheTtl` ends it.
 */
import { LRUCache } from 'lru-cache'
import { compareVersions, type Version } from '../store/version.js'

interface NearEntry {
  value: unknown
  version: Version
  /** Absolute expiry (ms), 0 for none: the write's TTL, capped by the near cache's own. */
  expiresAt: number
}

export interface NearCacheStats {
  size: number
  hits: number
  misses: number
  /** Values replaced or dropped because a newer write passed. */
  invalidations: number
}

/** The newest version seen pass for a key while a read of it was in flight. */
interface InFlight {
  newest: Version | undefined
  readers: number
}

export class NearCache {
  private readonly lru: LRUCache<string, NearEntry> | undefined
  private readonly inFlight = new Map<string, InFlight>()
  private hits = 0
  private misses = 0
  private invalidations = 0

  /** @param maxKeys - most values held; 0 turns the near cache off. @param ttlMs - longest a value is held (0: the write's TTL only). */
  constructor(maxKeys: number, private readonly ttlMs: number) {
    this.lru = maxKeys > 0 ? new LRUCache({ max: maxKeys }) : undefined
  }

  /** The value of `key` if held and not expired at `nowMs`. Counts a hit or a miss. */
  get(key: string, nowMs: number): unknown {
    const e = this.lru?.get(key)
    if (e === undefined) {
      this.misses++
      return undefined
    }
    if (e.expiresAt !== 0 && nowMs >= e.expiresAt) {
      this.lru!.delete(key)
      this.misses++
      return undefined
    }
    this.hits++
    return e.value
  }

  /** The value of `key` if held and not expired at `nowMs`, counting nothing and leaving its recency alone. */
  peek(key: string, nowMs: number): unknown {
    const e = this.lru?.peek(key)
    return e !== undefined && (e.expiresAt === 0 || nowMs < e.expiresAt) ? e.value : undefined
  }

  /** Whether `key` is held and not expired at `nowMs` (no counting, no recency). */
  has(key: string, nowMs: number): boolean {
    return this.peek(key, nowMs) !== undefined // a value is never undefined (set refuses it)
  }

  /**
   * Holds `value` of `version` for `key` unless a newer version is held or
   * passed during a read begun with {@link begin}. Returns whether it is held.
   */
  put(key: string, value: unknown, version: Version, expiresAt: number, nowMs: number): boolean {
    if (this.lru === undefined) return false
    const passed = this.inFlight.get(key)?.newest
    if (passed !== undefined && compareVersions(passed, version) > 0) return false
    const held = this.lru.peek(key)
    if (held !== undefined && compareVersions(held.version, version) >= 0) return compareVersions(held.version, version) === 0
    if (expiresAt !== 0 && nowMs >= expiresAt) return false
    const cap = this.ttlMs === 0 ? 0 : nowMs + this.ttlMs
    this.lru.set(key, { value, version, expiresAt: cap === 0 ? expiresAt : expiresAt === 0 ? cap : Math.min(cap, expiresAt) })
    return true
  }

  /**
   * A write of `key` at `version` passed (from any node): a held older value
   * is replaced by `value` (`undefined`: dropped — a delete, or a value
   * this node does not decode here), and a read in flight learns of it.
   */
  passed(key: string, version: Version, value: unknown, expiresAt: number, nowMs: number): void {
    const f = this.inFlight.get(key)
    if (f !== undefined && (f.newest === undefined || compareVersions(version, f.newest) > 0)) f.newest = version
    const held = this.lru?.peek(key)
    if (held === undefined || compareVersions(held.version, version) >= 0) return
    this.invalidations++
    this.lru!.delete(key)
    if (value !== undefined) this.put(key, value, version, expiresAt, nowMs)
  }

  /** The version of the value held for `key`, if any. */
  versionOf(key: string): Version | undefined {
    return this.lru?.peek(key)?.version
  }

  /** Drops `key` if its value is the one of `version` (this node's own write, handed off to its owners). */
  dropVersion(key: string, version: Version): void {
    const held = this.lru?.peek(key)
    if (held !== undefined && compareVersions(held.version, version) === 0) this.lru!.delete(key)
  }

  /** Drops `key` (a local delete). */
  drop(key: string): void {
    this.lru?.delete(key)
  }

  /** Drops every key starting with `prefix` (a clear); O(held). */
  dropPrefix(prefix: string): void {
    if (this.lru === undefined) return
    for (const key of [...this.lru.keys()]) if (key.startsWith(prefix)) this.lru.delete(key)
  }

  /** A read of `key` from an owner begins: writes that pass until {@link end} are remembered. */
  begin(key: string): void {
    const f = this.inFlight.get(key)
    if (f === undefined) this.inFlight.set(key, { newest: undefined, readers: 1 })
    else f.readers++
  }

  /** The newest version that passed since {@link begin}, if any. */
  passedSince(key: string): Version | undefined {
    return this.inFlight.get(key)?.newest
  }

  /** The read begun with {@link begin} ended. */
  end(key: string): void {
    const f = this.inFlight.get(key)
    if (f === undefined) return
    if (--f.readers === 0) this.inFlight.delete(key)
  }

  clear(): void {
    this.lru?.clear()
  }

  stats(): NearCacheStats {
    return { size: this.lru?.size ?? 0, hits: this.hits, misses: this.misses, invalidations: this.invalidations }
  }
}
