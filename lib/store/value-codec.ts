/**
 * Cache values to msgpack bytes and back.
 *
 * A value is encoded once, when it is written; its bytes are stored with the
 * entry and reused for every send. Replicas decode lazily, on first read.
 *
 * What a value may be ("plain data"): `null`, booleans, numbers, strings,
 * bigints that fit in 64 bits, `Buffer`/`Uint8Array` (read back as `Buffer`),
 * `Date`, arrays, and plain objects (prototype `Object.prototype` or `null`,
 * own enumerable string keys). `undefined` may appear inside arrays and
 * objects, not as the whole value. Anything else — functions, symbols, Maps,
 * Sets, class instances, other typed arrays, circular structures, nesting
 * deeper than {@link MAX_VALUE_DEPTH} — makes {@link encodeValue} throw a
 * `TypeError` naming the offending path. The check is a walk over the value
 * before packing: msgpackr alone would silently turn a function into
 * `undefined`, a Map into an object or a class instance into a bag of fields,
 * so the writer would read back something other than its replicas.
 *
 * Decoding bytes that came from the network: msgpackr's `Unpackr` cannot be
 * told to ignore its extensions (record definitions, bundled strings, typed
 * arrays…), so {@link isValueBytes} first walks the bytes once, iteratively,
 * and admits only what {@link encodeValue} produces: nil, booleans, integers,
 * floats, strings, bins, arrays, maps with string or integer keys, `undefined`
 * (fixext1 type 0) and timestamps (ext type -1), nesting at most
 * {@link MAX_VALUE_DEPTH} deep, with every length checked against the bytes
 * left and nothing after the value. {@link decodeValue} runs that check, then
 * msgpackr with `copyBuffers`, so a decoded Buffer never aliases the stored
 * bytes (mutating what `get` returned must not change what is gossiped).
 */
import { Packr, Unpackr } from 'msgpackr'

/** Deepest nesting of arrays and objects a value may have. */
export const MAX_VALUE_DEPTH = 100

const PACK_OPTIONS = {
  useRecords: false,
  moreTypes: false,
  structuredClone: false,
  mapsAsObjects: true,
  variableMapSize: true,
  bundleStrings: false,
  copyBuffers: true
} as const

const packr = new Packr(PACK_OPTIONS)
const unpackr = new Unpackr(PACK_OPTIONS)

const INT64_MIN = -(2n ** 63n)
const UINT64_MAX = 2n ** 64n - 1n

/**
 * Encodes a cache value as msgpack into an exact-size Buffer of its own (not
 * a view into msgpackr's scratch space, so it can be kept indefinitely).
 * Throws `TypeError` for a value that is not plain data (see the file
 * comment for what is admitted).
 */
export function encodeValue(v: unknown): Buffer {
  return Buffer.from(packValue(v)) // copy out of the shared scratch buffer
}

/**
 * Like {@link encodeValue}, but returns a view into msgpackr's scratch
 * buffer, valid only until the next encode: for a caller that copies the
 * bytes at once (the write path copies them into the delta), saving an
 * allocation and a copy.
 */
export function packValue(v: unknown): Buffer {
  if (v === undefined) throw new TypeError('cache value must not be undefined (use delete to remove a key)')
  if (typeof v === 'object' && v !== null) checkObject(v, [], [])
  else checkScalar(v, [])
  let packed: Buffer
  try {
    packed = packr.pack(v)
  } catch (err) {
    throw new TypeError(`cache value cannot be encoded: ${(err as Error).message}`, { cause: err })
  }
  return packed
}

/**
 * Decodes bytes produced by {@link encodeValue}. Throws `TypeError` when the
 * bytes are not a well-formed value ({@link isValueBytes} is false).
 */
export function decodeValue(b: Buffer): unknown {
  if (!isValueBytes(b)) throw new TypeError('cache value bytes are malformed or use a type values may not have')
  return unpackr.unpack(b)
}

/**
 * Keys and indices from the root to the value being checked. Turned into a
 * string only for an error message, so checking a valid value allocates
 * nothing. `ancestors`, alongside it, holds the objects on that path (the
 * cycle check).
 */
type Path = Array<string | number>

function checkScalar(v: unknown, path: Path): void {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined': // only reached nested; the top level is checked by encodeValue
      return
    case 'object': // null
      return
    case 'bigint':
      if (v < INT64_MIN || v > UINT64_MAX) fail(path, `bigint ${v} does not fit in 64 bits`)
      return
    default:
      fail(path, `a ${typeof v} cannot be cached`)
  }
}

function checkObject(v: object, path: Path, ancestors: object[]): void {
  if (v instanceof Uint8Array) return
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) fail(path, 'an invalid Date cannot be cached')
    return
  }
  if (ancestors.includes(v)) fail(path, 'circular reference')
  if (ancestors.length >= MAX_VALUE_DEPTH) fail(path, `nested deeper than ${MAX_VALUE_DEPTH}`)
  ancestors.push(v)
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) checkChild(v[i], i, path, ancestors)
  } else {
    const proto: unknown = Object.getPrototypeOf(v)
    if (proto !== Object.prototype && proto !== null) {
      const name = (v as { constructor?: { name?: string } }).constructor?.name ?? 'object'
      fail(path, `a ${name} is not plain data (use plain objects and arrays)`)
    }
    // for-in + o[k] takes V8's enum-cache fast path; the prototype is
    // Object.prototype or null, so only own keys are visited (unless someone
    // added an enumerable property to Object.prototype, then also checked)
    const o = v as Record<string, unknown>
    for (const k in o) checkChild(o[k], k, path, ancestors)
  }
  ancestors.pop()
}

function checkChild(v: unknown, step: string | number, path: Path, ancestors: object[]): void {
  path.push(step)
  if (typeof v === 'object' && v !== null) checkObject(v, path, ancestors)
  else checkScalar(v, path)
  path.pop()
}

function fail(path: Path, problem: string): never {
  const where = path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')
  throw new TypeError(`cache value at $${where}: ${problem}`)
}

/** Per container on the scan stack: items left, and whether it is a map. */
interface Frame {
  left: number
  map: boolean
}

/**
 * Whether `b` holds exactly one msgpack value of the kinds {@link encodeValue}
 * produces (see the file comment). One iterative pass; never throws.
 */
export function isValueBytes(b: Uint8Array): boolean {
  const stack: Frame[] = []
  let pos = 0
  for (;;) {
    if (pos >= b.length) return false
    const top = stack[stack.length - 1]
    const isKey = top !== undefined && top.map && top.left % 2 === 0
    const t = b[pos]!
    const step = isKey ? keyToken(b, pos, t) : valueToken(b, pos, t)
    if (step === undefined) return false
    pos = step.next
    if (pos > b.length) return false
    if (top !== undefined) top.left--
    if (step.items > 0) {
      if (stack.length >= MAX_VALUE_DEPTH) return false
      stack.push({ left: step.items, map: step.map })
    }
    while (stack.length > 0 && stack[stack.length - 1]!.left === 0) stack.pop()
    if (stack.length === 0) return pos === b.length
  }
}

/** A scanned token: where the next token starts, and the children it opens. */
interface Step {
  next: number
  items: number
  map: boolean
}

const SCALAR = (next: number): Step => ({ next, items: 0, map: false })

/** Map keys: strings and integers up to 32 bits (what `mapsAsObjects` turns into names). */
function keyToken(b: Uint8Array, pos: number, t: number): Step | undefined {
  if (t <= 0x7f || t >= 0xe0) return SCALAR(pos + 1)
  const str = (t >= 0xa0 && t <= 0xbf) || (t >= 0xd9 && t <= 0xdb)
  const int32 = (t >= 0xcc && t <= 0xce) || (t >= 0xd0 && t <= 0xd2)
  if (str || int32) return valueToken(b, pos, t)
  return undefined
}

function valueToken(b: Uint8Array, pos: number, t: number): Step | undefined {
  if (t <= 0x7f || t >= 0xe0) return SCALAR(pos + 1) // fixints
  if (t <= 0x8f) return { next: pos + 1, items: (t & 0x0f) * 2, map: true } // fixmap
  if (t <= 0x9f) return { next: pos + 1, items: t & 0x0f, map: false } // fixarray
  if (t <= 0xbf) return SCALAR(pos + 1 + (t & 0x1f)) // fixstr
  switch (t) {
    case 0xc0: case 0xc2: case 0xc3: return SCALAR(pos + 1)
    case 0xc4: case 0xd9: return sized(b, pos, 1)
    case 0xc5: case 0xda: return sized(b, pos, 2)
    case 0xc6: case 0xdb: return sized(b, pos, 4)
    case 0xca: return SCALAR(pos + 5)
    case 0xcb: return SCALAR(pos + 9)
    case 0xcc: case 0xd0: return SCALAR(pos + 2)
    case 0xcd: case 0xd1: return SCALAR(pos + 3)
    case 0xce: case 0xd2: return SCALAR(pos + 5)
    case 0xcf: case 0xd3: return SCALAR(pos + 9)
    case 0xd4: return b[pos + 1] === 0x00 ? SCALAR(pos + 3) : undefined // undefined
    case 0xd6: return b[pos + 1] === 0xff ? SCALAR(pos + 6) : undefined // timestamp 32
    case 0xd7: return b[pos + 1] === 0xff ? SCALAR(pos + 10) : undefined // timestamp 64
    case 0xc7: return b[pos + 1] === 12 && b[pos + 2] === 0xff ? SCALAR(pos + 15) : undefined // timestamp 96
    case 0xdc: return container(b, pos, 2, false)
    case 0xdd: return container(b, pos, 4, false)
    case 0xde: return container(b, pos, 2, true)
    case 0xdf: return container(b, pos, 4, true)
    default: return undefined // 0xc1, other ext types
  }
}

/** A str or bin with a `width`-byte big-endian length. */
function sized(b: Uint8Array, pos: number, width: number): Step | undefined {
  const n = readLength(b, pos + 1, width)
  return n === undefined ? undefined : SCALAR(pos + 1 + width + n)
}

function container(b: Uint8Array, pos: number, width: number, map: boolean): Step | undefined {
  const n = readLength(b, pos + 1, width)
  if (n === undefined) return undefined
  // each item takes at least one byte: a count beyond the bytes left is a lie
  const items = map ? n * 2 : n
  if (items > b.length - pos) return undefined
  return { next: pos + 1 + width, items, map }
}

function readLength(b: Uint8Array, at: number, width: number): number | undefined {
  if (at + width > b.length) return undefined
  let n = 0
  for (let i = 0; i < width; i++) n = n * 256 + b[at + i]!
  return n
}
