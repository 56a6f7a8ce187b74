/**
 * The node-local replica: a last-writer-wins map of versioned entries.
 *
 * Its parts, keyed by cache key or origin:
 *
 * - {@link LiveEntries}: the entries that hold values — the LRU (recency,
 *   `maxKeys`, `maxBytes`), TTLs and byte accounting (live-entries.ts says
 *   how a hit stays one `lru-cache` lookup).
 * - {@link Tombstones}: deleted keys, each kept for `deletionDelayMs` so that
 *   an older write arriving late cannot resurrect the key, and expiry
 *   markers, kept as long for the same reason after a write expired.
 * - {@link OriginIndex}: per write origin, the {@link SeqRanges} of sequence
 *   numbers this node has seen (applied, or found superseded), whether it
 *   can vouch for them (`lossy`), and how many entries it holds from the
 *   origin (coverage and retirement). It recognises duplicate datagrams, and
 *   it is the digest anti-entropy compares ({@link entriesMissingFrom}).
 * - {@link Clears}: cluster-wide clears (a prefix, or every key), each kept
 *   for `deletionDelayMs` like a tombstone; clears.ts says how a clear
 *   drops older writes of its prefix and makes later-arriving ones stale.
 * - {@link StaleValues}: a small bounded LRU of recently expired values, only
 *   for stale reads (`getWithFiller`'s `allowStale`); stale-values.ts says
 *   why it is not the expiry marker. A live write or a delete of the key
 *   forgets its stale value.
 *
 * {@link VersionedStore.apply}, step by step, for an entry from `origin` with
 * sequence number `seq`:
 *
 * 1. `(origin, seq)` already seen → `'duplicate'`, nothing changes. This check
 *    comes first so that a replayed datagram for a key this node evicted or
 *    expired cannot bring the old value back.
 * 2. Mark `(origin, seq)` seen (from here on, whatever the outcome).
 * 3. Version not greater than the live entry's, the tombstone's, or a held
 *    clear's covering the key → `'stale'`. (A clear entry itself goes to
 *    {@link Clears} here instead: stale under a newer covering clear,
 *    otherwise it drops what it supersedes, apply-clear.ts.)
 * 4. A tombstone → the live entry (if any) is removed and the tombstone kept
 *    until `nowMs + deletionDelayMs`. A delete of a key never seen here is
 *    kept just the same: it must still beat older writes that arrive later.
 * 5. Already expired at `nowMs` → `'expired'`: not stored, and the live entry
 *    it supersedes is removed (the key is gone everywhere else too).
 * 6. Otherwise the entry replaces the live one (and any older tombstone) and
 *    becomes the most recently used key.
 *
 * Local decisions stay local (invariant 3): LRU eviction and TTL expiry remove
 * live entries, count them in {@link VersionedStore.stats} and report them to
 * `onEvict`, and never create deletes (an expiry leaves a local marker).
 * Their sequence numbers stay seen
 * (no peer re-sends them), and an eviction marks the origin lossy (no peer
 * adopts this node's coverage of it: invariant 9).
 *
 * Ownership: `apply` keeps the entry object it is given (no copy, it is the
 * hot path). Callers must not change it afterwards; the store itself only
 * ever fills in `value` on first read.
 */
import type { Entry } from './entry.js'
import { LiveEntries } from './live-entries.js'
import { dropCleared, newestUnder } from './apply-clear.js'
import { Clears } from './clears.js'
import { entriesMissingFrom } from './missing-entries.js'
import { OriginIndex, type OriginRecord } from './origin-index.js'
import { StaleValues } from './stale-values.js'
import type { SeqRanges, SeqRange } from './seq-ranges.js'
import { newStoreStats, type EvictReason, type StoreStats } from './store-stats.js'
import { Tombstones } from './tombstones.js'
import { compareVersions } from './version.js'

export { ENTRY_OVERHEAD_BYTES, NOT_DECODED, entrySize, type Entry } from './entry.js'
export { decodeValue, encodeValue, isValueBytes, packValue } from './value-codec.js'
export type { Version } from './version.js'
export type { OriginRecord } from './origin-index.js'
export type { EvictReason, StoreStats } from './store-stats.js'

/** Outcome of {@link VersionedStore.apply}. */
export type ApplyResult = 'applied' | 'stale' | 'duplicate' | 'expired'

/** Settings for {@link VersionedStore}. */
export interface VersionedStoreInit {
  /** Most live keys held; the least recently used goes first. */
  maxKeys: number
  /**
   * Most bytes of live entries held, as computed by {@link entrySize};
   * 0 or absent means unbounded (only `maxKeys` applies). An entry larger
   * than this on its own is accepted as a version but not stored (counted
   * as an eviction).
   * @default 0
   */
  maxBytes?: number
  /**
   * How long a tombstone is kept after it is applied. It must outlast the
   * time an older write can still be in flight (gossip retransmissions,
   * anti-entropy rounds); longer costs memory per deleted key.
   */
  deletionDelayMs: number
  /**
   * Called after a live entry is removed by LRU eviction (`'capacity'`) or
   * TTL expiry (`'expired'`). Never for replicated deletes or overwrites.
   */
  onEvict?: (key: string, reason: EvictReason) => void
}

/** Most items one {@link VersionedStore.purge} call reclaims by default (the caller calls again when it hit it). */
export const PURGE_BATCH = 50_000

/** See the file comment. */
export class VersionedStore {
  /** Counters since construction (read-only for callers). */
  readonly stats: StoreStats = newStoreStats()
  private readonly origins = new OriginIndex()
  private readonly live: LiveEntries
  /** Never holds a key that is also live. */
  private readonly tombs: Tombstones
  private readonly onEvict: ((key: string, reason: EvictReason) => void) | undefined
  /** Recently expired values, for stale reads only; never holds a key that is live or deleted. */
  private readonly stale = new StaleValues()
  /** Cluster-wide clears held (clears.ts). */
  private readonly clears: Clears

  /** Throws `RangeError` naming the option for a bad setting. */
  constructor(init: VersionedStoreInit) {
    const { maxKeys, maxBytes = 0, deletionDelayMs } = init
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new RangeError(`maxKeys must be a positive integer, got ${maxKeys}`)
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`)
    if (!Number.isFinite(deletionDelayMs) || deletionDelayMs < 0) {
      throw new RangeError(`deletionDelayMs must be a finite number >= 0, got ${deletionDelayMs}`)
    }
    this.onEvict = init.onEvict
    this.tombs = new Tombstones(deletionDelayMs, this.origins)
    this.clears = new Clears(deletionDelayMs, this.origins)
    this.live = new LiveEntries({
      origins: this.origins, stats: this.stats, onEvict: init.onEvict,
      onExpired: (e, nowMs) => this.keepExpired(e, nowMs)
    }, maxKeys, maxBytes)
  }

  /**
   * **Hot path.** The decoded value for `key`, or `undefined` when it is
   * missing, deleted or expired at `now()`. An expired entry is removed
   * locally (never gossiped). Refreshes the key's recency. `now` is only
   * called for keys that have a TTL.
   */
  get(key: string, now: () => number): unknown {
    return this.live.get(key, now)
  }

  /** Whether `key` has a live, unexpired value. Does not refresh recency. */
  has(key: string, now: () => number): boolean {
    return this.live.has(key, now)
  }

  /** Like {@link get}, but does not refresh the key's recency. */
  peekValue(key: string, now: () => number): unknown {
    return this.live.peekValue(key, now)
  }

  /**
   * The live keys, most recently used first, as a snapshot array (it may
   * include keys expired but not yet noticed: check them with {@link peekValue}
   * or {@link remainingTtl}).
   */
  keysByRecency(): string[] {
    return this.live.keysByRecency()
  }

  /**
   * Ms left before `key` expires, as lru-cache's `getRemainingTTL`:
   * `Infinity` for a live key without a TTL, `0` for a missing, deleted or
   * expired one (never negative). Changes nothing.
   */
  remainingTtl(key: string, nowMs: number): number {
    const e = this.live.peek(key)
    if (e === undefined) return 0
    if (e.expiresAt === 0) return Infinity
    return Math.max(0, e.expiresAt - nowMs)
  }

  /**
   * The last value of `key` that expired here, if it is still kept (see
   * stale-values.ts) and the key has not been written or deleted since.
   * For stale reads only.
   */
  staleValue(key: string): unknown {
    return this.stale.get(key)
  }

  /** Recently expired values kept for stale reads. */
  staleCount(): number {
    return this.stale.size
  }

  /**
   * Merges an entry, a local write or a replicated one, by last writer wins.
   * See the file comment for the steps. Takes ownership of `entry`.
   * Throws `RangeError` if `entry.seq` is not a positive integer.
   */
  apply(entry: Entry, nowMs: number): ApplyResult {
    if (!this.origins.see(entry.version.origin, entry.seq, nowMs)) {
      this.stats.duplicates++
      return 'duplicate'
    }
    if (entry.clear === true) return this.applyClear(entry, nowMs)
    const key = entry.key
    const current = this.live.peek(key)
    const tomb = this.tombs.get(key)
    const cleared = this.clears.size === 0 ? undefined : this.clears.covering(key)
    if (
      (current !== undefined && compareVersions(entry.version, current.version) <= 0) ||
      (tomb !== undefined && compareVersions(entry.version, tomb.version) <= 0) ||
      (cleared !== undefined && compareVersions(entry.version, cleared.version) <= 0)
    ) {
      this.stats.stale++
      return 'stale'
    }
    if (entry.tombstone) {
      if (current !== undefined) this.live.drop(key, current)
      this.stale.forget(key)
      this.tombs.set(entry, nowMs)
      this.stats.applied++
      return 'applied'
    }
    if (entry.expiresAt !== 0 && nowMs >= entry.expiresAt) {
      this.stats.expirations++
      if (current !== undefined) {
        this.live.drop(key, current)
        this.onEvict?.(key, 'expired')
      }
      this.keepExpired(entry, nowMs)
      return 'expired'
    }
    if (tomb !== undefined) this.tombs.delete(key)
    this.stale.forget(key)
    this.live.put(key, entry, current, nowMs)
    this.stats.applied++
    return 'applied'
  }

  /**
   * Records `(origin, seq)` as seen without storing its entry (a peer's value
   * this node refuses for its size), and marks the origin lossy: no peer
   * re-sends the write, and none adopts this node's coverage of it.
   */
  refuse(origin: string, seq: number, nowMs: number): void {
    this.origins.see(origin, seq, nowMs)
    this.origins.markLossy(origin, nowMs)
  }

  /** The entry for `key`, live or tombstone, without touching recency or expiry. */
  peek(key: string): Entry | undefined {
    return this.live.peek(key) ?? this.tombs.get(key)
  }

  /**
   * The newest version that governs `key` here: its entry's (live or
   * tombstone) or a held clear's covering it. A local write stamps above it.
   */
  versionFloor(key: string): Entry['version'] | undefined {
    const own = this.peek(key)?.version
    const cleared = this.clears.size === 0 ? undefined : this.clears.covering(key)?.version
    if (cleared === undefined) return own
    return own === undefined || compareVersions(cleared, own) > 0 ? cleared : own
  }

  /**
   * The newest version held for any key starting with `prefix` (live,
   * tombstone, or clear): a local clear stamps above it, so it drops every
   * key of the prefix here at once. O(entries).
   */
  newestWithPrefix(prefix: string): Entry['version'] | undefined {
    return newestUnder(prefix, [this.live.values(), this.tombs.entries(), this.clears.entries()], this.clears.covering(prefix))
  }

  /** The clear held for exactly `prefix` (`''`: the clear of every key), if any. */
  clearOf(prefix: string): Entry | undefined {
    return this.clears.get(prefix)
  }

  /** Clears held (clears.ts). */
  clearRecords(): number {
    return this.clears.size
  }

  /**
   * Housekeeping: drops tombstones and clears whose delay has passed (both
   * counted in `tombstones`) and live entries
   * expired at `nowMs`, earliest first, at most `budget` in all. Both are
   * O(reclaimed): nothing is scanned. A caller that gets `budget` back
   * should call again soon (more may be due).
   * @param budget - most items reclaimed per call. @default {@link PURGE_BATCH}
   */
  purge(nowMs: number, budget = PURGE_BATCH): { tombstones: number; expired: number } {
    const tombstones = this.tombs.purge(nowMs, budget)
    const clears = this.clears.purge(nowMs, budget - tombstones)
    const expired = this.live.expireDue(nowMs, budget - tombstones - clears)
    return { tombstones: tombstones + clears, expired }
  }

  /**
   * Retires origin records nothing depends on: no entry held, not in
   * `keep` (this process's own origin), no new seq for `idleMs`
   * ({@link OriginIndex}). Returns how many went.
   */
  retireOrigins(nowMs: number, idleMs: number, keep: ReadonlySet<string>): number {
    const n = this.origins.retire(nowMs, idleMs, keep)
    this.stats.retiredOrigins += n
    return n
  }

  /** Per-origin coverage (seen ranges and `lossy`), for anti-entropy digests. A live view: do not modify. */
  coverage(): ReadonlyMap<string, OriginRecord> {
    return this.origins.view()
  }

  /** Origin records held. */
  originCount(): number {
    return this.origins.size
  }

  /** Per-origin seen ranges (a new map over the live ranges: do not modify them). */
  seen(): ReadonlyMap<string, SeqRanges> {
    const out = new Map<string, SeqRanges>()
    for (const [origin, r] of this.origins.view()) out.set(origin, r.ranges)
    return out
  }

  /**
   * Records every sequence number in `ranges` from `origin` as seen. For
   * anti-entropy: after merging a peer's missing entries, adopt its coverage
   * (what it has, or knows to be superseded, we now have or know too).
   * Throws `RangeError` for malformed ranges.
   */
  markSeen(origin: string, ranges: ReadonlyArray<SeqRange>, nowMs = 0): void {
    this.origins.seeRanges(origin, ranges, nowMs)
  }

  /**
   * Live entries, tombstones and clears whose `(origin, seq)` the peer has not seen,
   * as an array (a snapshot: safe to hold across later writes). Origins the
   * peer already covers are skipped; when it covers all of them, the result
   * is empty and no entry is looked at (counted in `stats.missingScans`
   * otherwise). Expired entries not yet purged may be included.
   */
  entriesMissingFrom(peerSeen: ReadonlyMap<string, SeqRanges>): Entry[] {
    return entriesMissingFrom(this.origins.view(), [this.live.values(), this.tombs.entries(), this.clears.entries()], peerSeen, this.stats)
  }

  /** The sequence number for the next write originated by `origin`: highest seen + 1. */
  nextSeq(origin: string): number {
    return this.origins.nextSeq(origin)
  }

  /** Live entries (possibly including expired ones not yet noticed). */
  size(): number {
    return this.live.size
  }

  /** Tombstones of deletes held (expiry markers not included). */
  tombstones(): number {
    return this.tombs.size - this.tombs.markers
  }

  /** Expiry markers held (see `keepExpired`): expired writes kept for `deletionDelayMs`. */
  expiryMarkers(): number {
    return this.tombs.markers
  }

  /** Sum of {@link entrySize} over live entries. */
  bytes(): number {
    return this.live.bytes
  }

  /** Forgets everything: live entries, tombstones and seen ranges (stats are kept). */
  clear(): void {
    this.live.clear()
    this.tombs.clear()
    this.clears.clear()
    this.origins.clear()
    this.stale.clear()
  }

  /** Step 3 for a clear entry (see the file comment and clears.ts). */
  private applyClear(entry: Entry, nowMs: number): ApplyResult {
    const newer = this.clears.covering(entry.key)
    if (newer !== undefined && compareVersions(entry.version, newer.version) <= 0) {
      this.stats.stale++
      return 'stale'
    }
    this.clears.set(entry, nowMs)
    dropCleared(entry, this.live, this.tombs, this.stale)
    this.stats.applied++
    return 'applied'
  }

  /**
   * An expired write still supersedes every older write of its key: kept as
   * a local marker among the tombstones for `deletionDelayMs` (the same
   * grace as a delete), so an older value arriving late, or sent by an
   * anti-entropy peer that never saw the newer write, cannot come back; a
   * peer lacking the write receives the marker (as a tombstone of the same
   * version) in anti-entropy. Never gossiped on its own (invariant 3).
   * Its value goes to the bounded stale map.
   */
  private keepExpired(e: Entry, nowMs: number): void {
    this.stale.keep(e)
    this.tombs.set({ key: e.key, bytes: EMPTY, value: undefined, version: e.version, seq: e.seq, expiresAt: e.expiresAt, tombstone: true }, nowMs)
  }
}

const EMPTY = Buffer.alloc(0)
