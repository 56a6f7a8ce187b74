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
 * So before msgpackr sees a byte, {@link scanValue} walks the input once and
 * admits only the subset the protocol uses: nil, booleans, integers, floats,
 * strings, bins and arrays. It rejects maps (`shape`), ext types (`field`),
 * the never-used byte 0xc1 and anything truncated (`msgpack`), nesting deeper
 * than {@link MAX_DEPTH} (`shape`) and bytes after the one top-level value
 * (`trailing`). It is iterative (no recursion, so no stack overflow on
 * `[[[[...]]]]`) and checks every length against the bytes left before
 * anything is allocated. Only then does {@link safeUnpack} hand the range to
 * msgpackr, which on that subset yields plain arrays, numbers, strings,
 * booleans, `null` and zero-copy Buffer views; any failure it still raises is
 * mapped to `DecodeError('msgpack')`.
 *
 * The walk costs one pass over the tokens (bins and strings are skipped by
 * length), small next to msgpackr's own decode.
 */
import { Unpackr } from 'msgpackr'
import { DecodeError } from './decode-error.js'

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

/**
 * Fixed extra bytes after a token, for tokens 0xc0–0xdf that are scalars
 * without a length prefix; -1 for tokens handled elsewhere.
 */
const FIXED_SKIP: Int8Array = (() => {
  const t = new Int8Array(0x20).fill(-1)
  t[0xc0 - 0xc0] = 0 // nil
  t[0xc2 - 0xc0] = 0 // false
  t[0xc3 - 0xc0] = 0 // true
  t[0xca - 0xc0] = 4 // float32
  t[0xcb - 0xc0] = 8 // float64
  t[0xcc - 0xc0] = 1 // uint8
  t[0xcd - 0xc0] = 2 // uint16
  t[0xce - 0xc0] = 4 // uint32
  t[0xcf - 0xc0] = 8 // uint64
  t[0xd0 - 0xc0] = 1 // int8
  t[0xd1 - 0xc0] = 2 // int16
  t[0xd2 - 0xc0] = 4 // int32
  t[0xd3 - 0xc0] = 8 // int64
  return t
})()

function truncated(): DecodeError {
  return new DecodeError('msgpack', 'truncated')
}

/** Reads a big-endian length of `size` (1, 2 or 4) bytes at `pos`; throws if it does not fit. */
function readLength(b: Uint8Array, pos: number, size: number): number {
  if (pos + size > b.length) throw truncated()
  if (size === 1) return b[pos]!
  if (size === 2) return (b[pos]! << 8) | b[pos + 1]!
  return ((b[pos]! << 24) | (b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!) >>> 0
}

/**
 * Walks one msgpack value starting at `start` and returns the offset just
 * past it. Admits only nil, booleans, ints, floats, str, bin and arrays up to
 * {@link MAX_DEPTH} deep; throws {@link DecodeError} otherwise.
 */
export function scanValue(b: Uint8Array, start: number): number {
  const end = b.length
  const outer: number[] = [] // `left` of each enclosing array
  let left = 1 // values still to read in the innermost open array (the top level holds one)
  let pos = start
  for (;;) {
    while (left === 0) {
      if (outer.length === 0) return pos
      left = outer.pop()!
    }
    left--
    if (pos >= end) throw truncated()
    const t = b[pos++]!
    let count = -1 // array length when t opens an array
    if (t < 0x80 || t >= 0xe0) continue // positive / negative fixint
    if (t >= 0xa0 && t < 0xc0) {
      pos += t - 0xa0 // fixstr
    } else if (t >= 0x90 && t < 0xa0) {
      count = t - 0x90
    } else if (t < 0x90) {
      throw new DecodeError('shape', 'msgpack map')
    } else {
      const skip = FIXED_SKIP[t - 0xc0]!
      if (skip >= 0) {
        pos += skip
      } else if (t === 0xc4 || t === 0xd9) {
        pos += 1 + readLength(b, pos, 1) // bin8, str8
      } else if (t === 0xc5 || t === 0xda) {
        pos += 2 + readLength(b, pos, 2) // bin16, str16
      } else if (t === 0xc6 || t === 0xdb) {
        pos += 4 + readLength(b, pos, 4) // bin32, str32
      } else if (t === 0xdc) {
        count = readLength(b, pos, 2)
        pos += 2
      } else if (t === 0xdd) {
        count = readLength(b, pos, 4)
        pos += 4
      } else if (t === 0xde || t === 0xdf) {
        throw new DecodeError('shape', 'msgpack map')
      } else if ((t >= 0xc7 && t <= 0xc9) || (t >= 0xd4 && t <= 0xd8)) {
        throw new DecodeError('field', 'msgpack ext')
      } else {
        throw new DecodeError('msgpack', 'bad token') // 0xc1
      }
    }
    if (pos > end) throw truncated()
    if (count >= 0) {
      if (outer.length >= MAX_DEPTH) throw new DecodeError('shape', 'nested too deep')
      // every element takes at least one byte
      if (count > end - pos) throw truncated()
      if (count > 0) {
        outer.push(left)
        left = count
      }
    }
  }
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
