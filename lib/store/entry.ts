/**
 * The unit the store keeps and replication ships: one versioned write to one
 * key, live or tombstone, with its value both as encoded bytes (encoded once,
 * reused for every send) and, once needed, decoded.
 */
import { isScalarBytes } from './value-codec.js'
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

/**
 * Bytes of memory a live key costs besides its key string and its value:
 * its index `Map` entry, three array cells and the typed-array columns of
 * slots.ts, with their growth slack (benchmarks/memory.ts: about 100 bytes
 * per key above a `Map` holding the same strings).
 */
export const ENTRY_OVERHEAD_BYTES = 104

/** V8's header of a string on the heap (map, hash, length). */
const STRING_HEADER_BYTES = 16

/** An object value's bytes are held in a `Map` by slot (slots.ts): its entry. */
const RAW_ENTRY_BYTES = 40

/**
 * Heap bytes a decoded object value takes per byte of its msgpack
 * encoding: a small plain object of short strings and numbers decodes to
 * about 3–4 times its encoded size (property slots, string headers, boxed
 * doubles; measured with benchmarks/memory.ts `objects`).
 */
export const DECODED_BYTES_PER_BYTE = 4

/**
 * The memory an entry counts against `maxBytes`: an estimate of what a
 * store really holds for it (slots.ts), not the encoded size.
 * - key: a string header and two bytes per UTF-16 unit (an upper bound: V8
 *   keeps ASCII in one byte per char);
 * - a scalar value (string, number, boolean, null) is kept decoded only: a
 *   header and at most one byte per UTF-8 byte (V8 needs at most that);
 * - an object value keeps its encoded bytes (one byte per char in a string,
 *   held in a map entry) and, once read, the decoded object, counted from the start
 *   ({@link DECODED_BYTES_PER_BYTE}) so that a read never changes the count.
 */
export function entrySize(entry: Entry): number {
  return sizeOf(entry.key, entry.bytes)
}

/** {@link entrySize} of an entry of `key` whose encoded value is `bytes`. */
export function sizeOf(key: string, bytes: Uint8Array): number {
  const n = bytes.length
  const value = isScalarBytes(bytes) ? STRING_HEADER_BYTES + n : RAW_ENTRY_BYTES + STRING_HEADER_BYTES + n + DECODED_BYTES_PER_BYTE * n
  return ENTRY_OVERHEAD_BYTES + STRING_HEADER_BYTES + 2 * key.length + value
}
