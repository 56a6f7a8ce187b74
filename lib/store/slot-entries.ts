/**
 * Entries in and out of slots (slots.ts), for live-entries.ts: what a slot
 * keeps of an entry's value, and the entry (or just the version) a slot
 * stands for, made on demand. live-entries.ts says what a slot holds and why.
 */
import { NOT_DECODED, type Entry } from './entry.js'
import type { OriginIndex } from './origin-index.js'
import type { Slots } from './slots.js'
import { decodeValue, encodeHeldScalar, isScalarBytes } from './value-codec.js'
import type { Version } from './version.js'

/**
 * `vals` of an object value not decoded yet. Shared only by this module and
 * live-entries.ts, so a cached value can never be mistaken for it; an
 * object, so the hot path's comparison is a plain pointer comparison.
 */
export const NOT_YET: object = Object.freeze({ notDecoded: true })

/** Keeps `value` (or its `bytes`) in `slot`: a scalar decoded only, an object as its bytes (latin1) until read. */
export function storeValue(s: Slots, slot: number, value: unknown, bytes: Buffer): void {
  if (value !== NOT_DECODED && (typeof value !== 'object' || value === null)) {
    s.vals[slot] = value // a primitive as the writer gave it
    if (s.raws.size !== 0) s.raws.delete(slot)
    return
  }
  if (value === NOT_DECODED && isScalarBytes(bytes)) {
    try {
      s.vals[slot] = decodeValue(bytes)
      if (s.raws.size !== 0) s.raws.delete(slot)
      return
    } catch {
      // malformed: kept as bytes, dropped and counted on first read like any undecodable value
    }
  }
  s.vals[slot] = value === NOT_DECODED ? NOT_YET : value
  s.raws.set(slot, bytes.toString('latin1'))
}

/** The version of the entry in `slot` (a new object). */
export function versionAt(s: Slots, origins: OriginIndex, slot: number): Version {
  return { wall: s.wall[slot]!, counter: s.counter[slot]!, origin: origins.byNumber(s.origin[slot]!).origin }
}

/** The entry in `slot` as a new object (bytes encoded again for a scalar). */
export function entryAt(s: Slots, origins: OriginIndex, slot: number): Entry {
  const raw = s.raws.get(slot)
  const v = s.vals[slot]
  return {
    key: s.keys[slot]!,
    bytes: raw !== undefined ? Buffer.from(raw, 'latin1') : encodeHeldScalar(v),
    value: v === NOT_YET ? NOT_DECODED : v,
    version: versionAt(s, origins, slot),
    seq: s.seq[slot]!,
    expiresAt: s.expiresAt[slot]!,
    tombstone: false
  }
}
