/**
 * Decoding untrusted msgpack with msgpackr, safely.
 *
 * msgpackr's `Unpackr` has no option that turns its extensions off: whatever
 * `useRecords`, `moreTypes` or `structuredClone` say, it still decodes record
 * definitions (ext 0x72, which build object readers with `new Function` and
 * make later fixints 0x40–0x7f decode as objects), Dates, Sets, RegExps,
 * Errors, typed arrays, BigInts and its string-bundle extension (which moves
 * the read position around). None of that belongs on our wire, and some of it
 * costs CPU or touches module-global state.
 *
 * So before msgpackr sees a byte, {@link scanValue} walks the input once
 * (`msgpack-scan.ts`, the scanner cache values share) and admits only the
 * subset the protocol uses: nil, booleans, integers, floats, strings, bins
 * and arrays. It rejects maps (`shape`), ext types (`field`), the never-used
 * byte 0xc1 and anything truncated (`msgpack`), nesting deeper than
 * {@link MAX_DEPTH} (`shape`); {@link safeUnpack} also rejects bytes after
 * the one top-level value (`trailing`). Only then does it hand the range to
 * msgpackr, which on that subset yields plain arrays, numbers, strings,
 * booleans, `null` and zero-copy Buffer views; any failure it still raises is
 * mapped to `DecodeError('msgpack')`.
 */
import { Unpackr } from 'msgpackr'
import { DecodeError } from './decode-error.js'
import { scanMsgpack, type ScanRules } from './msgpack-scan.js'

/**
 * Deepest array nesting admitted. The protocol needs 3 (frame → push-pull
 * node list → row); the slack leaves room for nested trailing fields added by
 * later protocol versions.
 */
export const MAX_DEPTH = 8

const unpackr = new Unpackr({
  useRecords: false,
  moreTypes: false,
  structuredClone: false,
  mapsAsObjects: true,
  // uint64/int64 become numbers, never bigints; beyond 2^53 they are no longer
  // safe integers, so validation rejects them
  int64AsType: 'number'
})

/** What the wire admits: no maps, no ext types, {@link MAX_DEPTH} deep. */
const WIRE_RULES: ScanRules = { maxDepth: MAX_DEPTH, maps: false, valueExts: false }

/**
 * Walks one msgpack value starting at `start` and returns the offset just
 * past it. Admits only nil, booleans, ints, floats, str, bin and arrays up to
 * {@link MAX_DEPTH} deep; throws {@link DecodeError} otherwise.
 */
export function scanValue(b: Uint8Array, start: number): number {
  return scanMsgpack(b, start, WIRE_RULES)
}

/**
 * Decodes the single msgpack value that fills `b` from `start` to its end.
 * The value is built only from the safe subset (see the file comment):
 * arrays, numbers (64-bit ints too, possibly rounded), strings, booleans,
 * `null`, and Buffers that are views into `b`'s memory (zero copy).
 *
 * msgpackr caches a `dataView` property on the object it decodes, so it is
 * given a fresh Buffer over the same memory and the caller's object is left
 * untouched.
 *
 * @throws {@link DecodeError} and nothing else.
 */
export function safeUnpack(b: Uint8Array, start: number): unknown {
  const stop = scanValue(b, start)
  if (stop !== b.length) throw new DecodeError('trailing', `${b.length - stop} bytes`)
  try {
    return unpackr.unpack(Buffer.from(b.buffer, b.byteOffset, b.byteLength), { start, end: b.length })
  } catch (err) {
    // not expected after a successful scan; keep the promise "DecodeError only"
    throw new DecodeError('msgpack', err instanceof Error ? err.message.slice(0, 80) : 'unpack failed')
  }
}
