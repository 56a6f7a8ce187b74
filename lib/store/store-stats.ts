/** The counters of a store and why entries leave it (shared by its parts). */

/** Why a live entry left the store by a local decision. */
export type EvictReason = 'capacity' | 'expired'

/** Counters since construction. */
export interface StoreStats {
  /** Live entries removed to respect `maxKeys` / `maxBytes`. */
  evictions: number
  /** Live entries dropped as expired (on read, purge or arrival). */
  expirations: number
  /** `apply` calls that changed the state. */
  applied: number
  /** `apply` calls that lost to a newer version. */
  stale: number
  /** `apply` calls whose `(origin, seq)` was already seen. */
  duplicates: number
  /** Entries removed because their bytes would not decode. */
  decodeErrors: number
  /** Full scans made by `VersionedStore.entriesMissingFrom`. */
  missingScans: number
  /** Origin records retired (`VersionedStore.retireOrigins`). */
  retiredOrigins: number
}

/** A fresh set of counters. */
export function newStoreStats(): StoreStats {
  return { evictions: 0, expirations: 0, applied: 0, stale: 0, duplicates: 0, decodeErrors: 0, missingScans: 0, retiredOrigins: 0 }
}
