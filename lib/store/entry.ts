/**
 * The unit the store keeps and replication ships: one versioned write to one
 * key, live or tombstone, with its value both as encoded bytes (encoded once,
 * reused for every send) and, once needed, decoded.
 */
import type { Version } from './version.js'

/** Marks {@link Entry.value} as not decoded yet (replicated values decode on first read). */
export const NOT_DECODED: unique symbol = Symbol('bcache.notDecoded')

/** One versioned cache entry, live or tombstone. */
export interface Entry {
  key: string
  /** Encoded value (msgpack bytes); reused for every send. Empty for tombstones. */
  bytes: Buffer
  /** Decoded value, or {@link NOT_DECODED} until first read (lazy decode of replicated values). */
  value: unknown
  version: Version
  /** Write sequence number at its origin (for anti-entropy coverage). */
  seq: number
  /** Absolute expiry in ms since epoch; 0 = never. */
  expiresAt: number
  tombstone: boolean
  /**
   * A cluster-wide clear (clears.ts): `key` is the prefix cleared (`''`:
   * every key), `tombstone` is true. Absent on ordinary writes and deletes.
   */
  clear?: boolean
}

/** Bytes counted per entry on top of its value bytes and key. */
export const ENTRY_OVERHEAD_BYTES = 64

/**
 * The size an entry counts against `maxBytes`: `bytes.length + 2 ×
 * key.length + 64`. The key term approximates a UTF-16 string; the constant
 * stands for the entry object, its version and the LRU's bookkeeping. An
 * estimate, not a measurement of the heap.
 */
export function entrySize(entry: Entry): number {
  return sizeOf(entry.key, entry.bytes.length)
}

/** {@link entrySize} of an entry of `key` with a `valueBytes`-byte encoded value. */
export function sizeOf(key: string, valueBytes: number): number {
  return valueBytes + key.length * 2 + ENTRY_OVERHEAD_BYTES
}
