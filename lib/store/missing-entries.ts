/**
 * What a peer lacks, by digest: the entries (live and tombstones) whose
 * `(origin, seq)` the peer's seen ranges do not cover. Origins the peer
 * already covers are skipped without looking at a single entry, so two
 * nodes in sync cost no scan at all; otherwise one pass over the entries.
 */
import type { Entry } from './entry.js'
import type { LiveEntries } from './live-entries.js'
import type { OriginRecord } from './origin-index.js'
import type { SeqRanges } from './seq-ranges.js'
import type { StoreStats } from './store-stats.js'

/**
 * The entries of `live` and of `sources` the peer has not seen, as a new array (a
 * snapshot: safe to hold across later writes). Counts a full scan in
 * `stats.missingScans`.
 */
export function entriesMissingFrom(
  origins: ReadonlyMap<string, OriginRecord>,
  live: LiveEntries,
  sources: ReadonlyArray<Iterable<Entry>>,
  peerSeen: ReadonlyMap<string, SeqRanges>,
  stats: StoreStats
): Entry[] {
  // origin → the peer's ranges (undefined: the peer knows nothing from it)
  const behind = new Map<string, SeqRanges | undefined>()
  for (const [origin, { ranges: ours }] of origins) {
    const theirs = peerSeen.get(origin)
    if (theirs === undefined ? ours.count() > 0 : theirs.missingFrom(ours)) behind.set(origin, theirs)
  }
  const out: Entry[] = []
  if (behind.size === 0) return out
  stats.missingScans++
  live.collectMissing(behind, out)
  for (const source of sources) {
    for (const e of source) {
      const origin = e.version.origin
      if (!behind.has(origin)) continue
      const theirs = behind.get(origin)
      if (theirs === undefined || !theirs.has(e.seq)) out.push(e)
    }
  }
  return out
}
