/**
 * One pass over untrusted msgpack bytes that admits only a chosen subset,
 * before msgpackr sees a byte.
 *
 * msgpackr's `Unpackr` cannot be told to ignore its extensions (record
 * definitions, bundled strings, typed arrays, …), so every decoder of bytes
 * that came from the network walks them here first. Two callers, two rule
 * sets ({@link ScanRules}):
 *
 * - the wire (`safe-unpack.ts`): nil, booleans, integers, floats, strings,
 *   bins and arrays; a map is `shape`, any ext type `field`;
 * - cache values (`store/value-codec.ts`): the same, plus maps whose keys are
 *   strings or integers up to 32 bits, `undefined` (fixext1 type 0) and
 *   timestamps (ext type -1).
 *
 * Both reject the never-used byte 0xc1 and anything truncated (`msgpack`),
 * nesting deeper than `maxDepth` (`shape`, empty containers included). The
 * walk is iterative (no recursion, so no stack overflow on `[[[[...]]]]`) and
 * checks every length and element count against the bytes left before
 * anything is allocated. It costs one pass over the tokens (bins and strings
 * are skipped by length).
 */
import { DecodeError } from './decode-error.js'

/** What {@link scanMsgpack} admits besides nil, booleans, numbers, str, bin and arrays. */
export interface ScanRules {
  /** Deepest nesting of arrays (and maps) admitted; a container opened at this depth is rejected. */
  readonly maxDepth: number
  /** Admit maps with string or ≤ 32-bit integer keys (otherwise a map is `shape`). */
  readonly maps: boolean
  /** Admit `undefined` (fixext1 type 0) and timestamps (ext -1) (otherwise any ext is `field`). */
  readonly valueExts: boolean
}

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
export function readLength(b: Uint8Array, pos: number, size: number): number {
  if (pos + size > b.length) throw truncated()
  if (size === 1) return b[pos]!
  if (size === 2) return (b[pos]! << 8) | b[pos + 1]!
  return ((b[pos]! << 24) | (b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!) >>> 0
}

/** Whether token `t` may be a map key: a string or an integer of at most 32 bits. */
function isKeyToken(t: number): boolean {
  return t < 0x80 || t >= 0xe0 || (t >= 0xa0 && t < 0xc0) || (t >= 0xd9 && t <= 0xdb) ||
    (t >= 0xcc && t <= 0xce) || (t >= 0xd0 && t <= 0xd2)
}

/**
 * Bytes after an ext token at `pos` (just past `t`) when `rules.valueExts`
 * admits it: `undefined` and the three timestamp sizes. Throws `field` otherwise.
 */
function extSkip(b: Uint8Array, pos: number, t: number, rules: ScanRules): number {
  if (rules.valueExts) {
    if (t === 0xd4 && b[pos] === 0x00) return 2 // undefined: type, one data byte
    if (t === 0xd6 && b[pos] === 0xff) return 5 // timestamp 32
    if (t === 0xd7 && b[pos] === 0xff) return 9 // timestamp 64
    if (t === 0xc7 && b[pos] === 12 && b[pos + 1] === 0xff) return 14 // timestamp 96
  }
  throw new DecodeError('field', 'msgpack ext')
}

/** Skips a token 0xc0–0xdb other than a container header (`pos` is just past `t`); returns the offset after it. */
function skipScalar(b: Uint8Array, pos: number, t: number, rules: ScanRules): number {
  const skip = FIXED_SKIP[t - 0xc0]!
  if (skip >= 0) return pos + skip
  if (t === 0xc4 || t === 0xd9) return pos + 1 + readLength(b, pos, 1) // bin8, str8
  if (t === 0xc5 || t === 0xda) return pos + 2 + readLength(b, pos, 2) // bin16, str16
  if (t === 0xc6 || t === 0xdb) return pos + 4 + readLength(b, pos, 4) // bin32, str32
  if ((t >= 0xc7 && t <= 0xc9) || (t >= 0xd4 && t <= 0xd8)) return pos + extSkip(b, pos, t, rules)
  throw new DecodeError('msgpack', 'bad token') // 0xc1
}

/**
 * Walks one msgpack value starting at `start` under `rules` and returns the
 * offset just past it (the caller decides whether bytes may follow).
 * @throws {@link DecodeError} (`msgpack`, `shape`, `field`) on anything else.
 */
export function scanMsgpack(b: Uint8Array, start: number, rules: ScanRules): number {
  const end = b.length
  const outer: number[] = [] // `left` of each enclosing container
  const outerMap: boolean[] = [] // whether each enclosing container is a map
  let left = 1 // items still to read in the innermost open container (the top level holds one)
  let inMap = false // whether the innermost open container is a map (its items alternate key, value)
  let pos = start
  for (;;) {
    while (left === 0) {
      if (outer.length === 0) return pos
      left = outer.pop()!
      inMap = outerMap.pop()!
    }
    if (pos >= end) throw truncated()
    const t = b[pos++]!
    if (inMap && (left & 1) === 0 && !isKeyToken(t)) throw new DecodeError('shape', 'msgpack map key')
    left--
    let count = -1 // items when t opens a container
    let map = false
    if (t < 0x80 || t >= 0xe0) continue // positive / negative fixint
    if (t >= 0xa0 && t < 0xc0) {
      pos += t - 0xa0 // fixstr
    } else if (t >= 0x90 && t < 0xa0) {
      count = t - 0x90
    } else if (t < 0x90) {
      count = (t - 0x80) * 2
      map = true
    } else if (t >= 0xdc && t <= 0xdf) {
      map = t >= 0xde // map16, map32; else array16, array32
      if (map && !rules.maps) throw new DecodeError('shape', 'msgpack map')
      const size = (t & 1) === 0 ? 2 : 4
      count = readLength(b, pos, size) * (map ? 2 : 1)
      pos += size
    } else {
      pos = skipScalar(b, pos, t, rules)
    }
    if (pos > end) throw truncated()
    if (count >= 0) {
      if (map && !rules.maps) throw new DecodeError('shape', 'msgpack map')
      if (outer.length >= rules.maxDepth) throw new DecodeError('shape', 'nested too deep')
      // every item takes at least one byte
      if (count > end - pos) throw truncated()
      if (count > 0) {
        outer.push(left)
        outerMap.push(inMap)
        left = count
        inMap = map
      }
    }
  }
}
