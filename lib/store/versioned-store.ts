/**
 * The node-local replica: a last-writer-wins map of versioned entries.
 *
 * Its parts, keyed by cache key or origin:
 *
 * - {@link LiveEntries}: the entries that hold values — the LRU (recency,
 *   `maxKeys`, `maxBytes`), TTLs and byte accounting (live-entries.ts says
 *   how a hit stays one lookup and an array load).
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
 * Ownership: `apply` copies what it keeps out of the entry it is given (the
 * live entries are columns, live-entries.ts; a tombstone keeps the object),
 * so callers must not change it afterwards. Entries the store hands out
 * (`peek`, `entriesMissingFrom`) are new objects.
 */
import type { Entry } from './entry.js'
import type { LiveEntries } from './live-entries.js'
import { dropCleared, newestUnder } from './apply-clear.js'
import type { Clears } from './clears.js'
import type { OriginIndex } from './origin-index.js'
import type { StaleValues } from './stale-values.js'
import type { SeqRanges } from './seq-ranges.js'
import type { Tombstones } from './tombstones.js'
import { compareVersions, type Version } from './version.js'

import { StoreParts } from './store-parts.js'

export { ENTRY_OVERHEAD_BYTES, NOT_DECODED, entrySize, type Entry } from './entry.js'
export { decodeValue, encodeValue, isValueBytes, packValue } from './value-codec.js'
export type { Version } from './version.js'
export type { OriginRecord } from './origin-index.js'
export type { EvictReason, StoreStats } from './store-stats.js'
export type { VersionedStoreInit } from './store-parts.js'

/** Outcome of {@link VersionedStore.apply}. */
export type ApplyResult = 'applied' | 'stale' | 'duplicate' | 'expired'

/** Most items one {@link VersionedStore.purge} call reclaims by default (the caller calls again when it hit it). */
export const PURGE_BATCH = 50_000

/** See the file comment. */
export class VersionedStore extends StoreParts {
  /**
   * Merges an entry, a local write or a replicated one, by last writer wins.
   * See the file comment for the steps. Keeps nothing of `entry` that
   * views a caller's buffer: its bytes may view a whole datagram or frame.
   * Throws `RangeError` if `entry.seq` is not a positive integer.
   */
  apply(entry: Entry, nowMs: number): ApplyResult {
    if (!this.origins.see(entry.version.origin, entry.seq, nowMs)) {
      this.stats.duplicates++
      return 'duplicate'
    }
    if (entry.clear === true) return this.applyClear(entry, nowMs)
    const key = entry.key
    const tomb = this.tombs.get(key)
    const cleared = this.clears.size === 0 ? undefined : this.clears.covering(key)
    if (
      !this.live.isNewer(key, entry.version) ||
      (tomb !== undefined && compareVersions(entry.version, tomb.version) <= 0) ||
      (cleared !== undefined && compareVersions(entry.version, cleared.version) <= 0)
    ) {
      this.stats.stale++
      return 'stale'
    }
    if (entry.tombstone) {
      this.live.drop(key)
      this.stale.forget(key)
      this.tombs.set(entry, nowMs)
      this.stats.applied++
      return 'applied'
    }
    if (entry.expiresAt !== 0 && nowMs >= entry.expiresAt) {
      this.stats.expirations++
      if (this.live.drop(key)) this.onEvict?.(key, 'expired')
      this.keepExpired(entry, nowMs)
      return 'expired'
    }
    if (tomb !== undefined) this.tombs.delete(key)
    this.stale.forget(key)
    this.live.put(entry, nowMs)
    this.stats.applied++
    return 'applied'
  }

  /**
   * Keeps a value this node loaded itself, which is not a write (a fill in
   * invalidation mode, replication/invalidation.ts): held only while
   * `floor`, the key's {@link versionFloor} when the load began, is still
   * the newest version this node has heard of for the key — an invalidation
   * that arrived meanwhile means the loaded value may be older than a write
   * somewhere. The value takes that version, and the seq of the entry that
   * carried it (its tombstone or expiry marker), so coverage stays honest:
   * the write it stands for is still offered to peers that lack it. With no
   * such entry (a key never heard of, or only a covering clear) it takes
   * seq 0, which is never sent nor counted. A key that holds a live value
   * keeps it. Returns whether the loaded value was kept.
   */
  putLocal(key: string, bytes: Buffer, value: unknown, expiresAt: number, floor: Version | undefined, origin: string, nowMs: number): boolean {
    const current = this.versionFloor(key)
    if (!sameVersion(current, floor) || (expiresAt !== 0 && nowMs >= expiresAt)) return false
    if (this.live.holds(key)) return false // a live value is there: it is the newest
    const tomb = this.tombs.get(key)
    const fromTomb = tomb !== undefined && current !== undefined && compareVersions(tomb.version, current) === 0
    if (tomb !== undefined) this.tombs.delete(key)
    this.stale.forget(key)
    const version = current ?? { wall: 0, counter: 0, origin }
    this.live.put({ key, bytes, value, version, seq: fromTomb ? tomb.seq : 0, expiresAt, tombstone: false }, nowMs)
    return true
  }

  /**
   * The newest version that governs `key` here: its entry's (live or
   * tombstone) or a held clear's covering it. A local write stamps above it.
   */
  versionFloor(key: string): Entry['version'] | undefined {
    const own = this.live.versionOf(key) ?? this.tombs.get(key)?.version
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
    return newestUnder(prefix, [this.live.versions(), this.tombs.entries(), this.clears.entries()], this.clears.covering(prefix))
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
}

function sameVersion(a: Version | undefined, b: Version | undefined): boolean {
  return a === undefined || b === undefined ? a === b : compareVersions(a, b) === 0
}
