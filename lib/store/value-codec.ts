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
 * arrays…), so {@link isValueBytes} first walks the bytes once with the
 * wire's scanner (`wire/msgpack-scan.ts`, under value rules) and admits only
 * what {@link encodeValue} produces: nil, booleans, integers,
 * floats, strings, bins, arrays, maps with string or integer keys, `undefined`
 * (fixext1 type 0) and timestamps (ext type -1), nesting at most
 * {@link MAX_VALUE_DEPTH} deep, with every length checked against the bytes
 * left and nothing after the value. {@link decodeValue} runs that check, then
 * msgpackr with `copyBuffers`, so a decoded Buffer never aliases the stored
 * bytes (mutating what `get` returned must not change what is gossiped).
 */
import { Packr, Unpackr } from 'msgpackr'
import { scanMsgpack, type ScanRules } from '../wire/msgpack-scan.js'

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

/** What cache value bytes may hold (see the file comment). */
const VALUE_RULES: ScanRules = { maxDepth: MAX_VALUE_DEPTH, maps: true, valueExts: true }

/**
 * Whether `b` holds exactly one msgpack value of the kinds {@link encodeValue}
 * produces (see the file comment). One iterative pass; never throws.
 */
export function isValueBytes(b: Uint8Array): boolean {
  try {
    return scanMsgpack(b, 0, VALUE_RULES) === b.length
  } catch {
    return false
  }
}
