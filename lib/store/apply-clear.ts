/**
 * What applying a clear does to the rest of the store (clears.ts): one pass
 * over the live entries, the tombstones and the stale values, dropping those
 * of the clear's prefix whose version is below the clear's. Newer ones (a
 * write made after the clear, in version order) stay. The dropped writes'
 * seqs stay seen: the clear, held, supersedes them (coverage stays honest,
 * DESIGN.md invariant 9).
 */
import type { Entry } from './entry.js'
import type { KeyVersion, LiveEntries } from './live-entries.js'
import type { StaleValues } from './stale-values.js'
import type { Tombstones } from './tombstones.js'
import { compareVersions } from './version.js'

/** Drops what `clear` supersedes; returns how many live entries went. */
export function dropCleared(clear: Entry, live: LiveEntries, tombs: Tombstones, stale: StaleValues): number {
  const prefix = clear.key
  const covered = (e: KeyVersion): boolean => e.key.startsWith(prefix) && compareVersions(e.version, clear.version) < 0
  const gone: string[] = []
  for (const e of live.versions()) if (covered(e)) gone.push(e.key)
  for (const key of gone) live.drop(key)
  const buried: string[] = []
  for (const e of tombs.entries()) if (covered(e)) buried.push(e.key)
  for (const key of buried) tombs.delete(key)
  stale.forgetWhere(covered)
  return gone.length
}

/** The newest version held among the live entries, tombstones and clears covering `prefix` (local `clear` stamps above it). */
export function newestUnder(prefix: string, sources: ReadonlyArray<Iterable<KeyVersion>>, covering: Entry | undefined): Entry['version'] | undefined {
  let best = covering?.version
  for (const source of sources) {
    for (const e of source) {
      if (e.key.startsWith(prefix) && (best === undefined || compareVersions(e.version, best) > 0)) best = e.version
    }
  }
  return best
}
