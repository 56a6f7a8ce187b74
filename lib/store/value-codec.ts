/**
 * Cache values to msgpack bytes and back.
 *
 * A value is encoded once, when it is written; its bytes are stored with the
 * entry and reused for every send. Replicas decode lazily, on first read.
 *
 * What a value may be ("plain data"): `null`, booleans, numbers, strings
 * without lone surrogates, bigints that fit in 64 bits, `Buffer`/`Uint8Array`
 * (read back as `Buffer`), `Date` (not a subclass), dense arrays, and plain
 * objects (prototype `Object.prototype` or `null`, own enumerable string
 * keys). `undefined` may appear inside arrays and objects, not as the whole
 * value. Anything else — functions, symbols, Maps, Sets, class instances,
 * other typed arrays, holes in sparse arrays, circular structures, nesting
 * deeper than {@link MAX_VALUE_DEPTH} — makes {@link encodeValue} throw a
 * `TypeError` naming the offending path. The check is a walk over the value
 * before packing: msgpackr alone would silently turn a function into
 * `undefined`, a Map into an object or a class instance into a bag of fields,
 * so the writer would read back something other than its replicas.
 *
 * Round trips are exact (invariant 12: the writer reads what its peers
 * read): what {@link packValue} accepts decodes to a deep-strictly equal
 * value, with two documented exceptions: a null-prototype object decodes as
 * a plain object (`Object.prototype`), and a `Uint8Array` as a `Buffer`.
 * Cases msgpackr alone gets wrong, and what is done about them:
 *
 * - `-0`: msgpackr writes it as the integer 0. A value holding -0 is packed
 *   with a stand-in float in its place, whose float64 bytes are then
 *   overwritten with -0's (see {@link packValue}); it decodes as -0.
 * - an own `__proto__` key: msgpackr renames it `__proto_` on decode (so it
 *   cannot set a prototype). Bytes holding that key are decoded into `Map`s
 *   and rebuilt as objects with `__proto__` as an own property; the
 *   prototype is never set from data.
 * - holes in sparse arrays: refused (they would come back as `undefined`);
 *   fill them with `undefined` or `null`.
 * - lone surrogates in strings and keys: refused (UTF-8 turns them into
 *   U+FFFD); see `wire/utf8.ts`.
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
import { strHeaderBytes, writeStr } from '../wire/msgpack-str.js'
import { isWellFormed } from '../wire/utf8.js'

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
/** For bytes holding a `__proto__` key: maps come back as `Map`s, turned into objects by {@link asObjects}. */
const mapUnpackr = new Unpackr({ ...PACK_OPTIONS, mapsAsObjects: false })

const INT64_MIN = -(2n ** 63n)
const UINT64_MAX = 2n ** 64n - 1n

/** The key `__proto__` as msgpack writes it (fixstr of 9 bytes). */
const PROTO_KEY = Buffer.concat([Buffer.from([0xa0 | 9]), Buffer.from('__proto__')])

/**
 * Floats that stand in for -0 while msgpackr packs (it writes -0 as the
 * integer 0), each then overwritten with a float64 -0. Tried in turn: one
 * whose 9 bytes (`0xcb` + float64) occur anywhere else in the packed value
 * is skipped.
 */
const NEG_ZERO_STAND_INS = [1.2345678901234567e-287, -7.654321098765433e291, 3.0517578125e-201].map((f) => {
  const token = Buffer.alloc(9)
  token[0] = 0xcb
  token.writeDoubleBE(f, 1)
  return { f, token }
})

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
 *
 * Every value it accepts decodes ({@link decodeValue}) to a deep-strictly
 * equal value, -0 included, except that a null-prototype object comes back
 * with `Object.prototype` and a `Uint8Array` as a `Buffer`.
 * @throws TypeError naming the path of what is not plain data (a function, a
 *   hole in a sparse array, a string with a lone surrogate, …).
 */
export function packValue(v: unknown): Buffer {
  if (typeof v === 'string') return packString(v)
  if (v === undefined) throw new TypeError('cache value must not be undefined (use delete to remove a key)')
  const walk: Walk = { path: [], ancestors: [], negZeros: 0 }
  if (typeof v === 'object' && v !== null) checkObject(v, walk)
  else checkScalar(v, walk)
  return walk.negZeros === 0 ? packOrThrow(v) : packWithNegZeros(v, walk.negZeros)
}

function packOrThrow(v: unknown): Buffer {
  try {
    return packr.pack(v)
  } catch (err) {
    throw new TypeError(`cache value cannot be encoded: ${(err as Error).message}`, { cause: err })
  }
}

/** Packs `v`, which holds `count` -0s, writing each as a float64 -0 (see {@link NEG_ZERO_STAND_INS}). */
function packWithNegZeros(v: unknown, count: number): Buffer {
  for (const { f, token } of NEG_ZERO_STAND_INS) {
    const packed = packOrThrow(standInForNegZero(v, f))
    const at: number[] = []
    for (let i = packed.indexOf(token); i >= 0; i = packed.indexOf(token, i + 1)) at.push(i)
    if (at.length !== count) continue // the stand-in's bytes occur elsewhere too
    for (const i of at) packed.writeDoubleBE(-0, i + 1)
    return packed
  }
  throw new TypeError('cache value holds -0 and also the bytes of every float that stands in for it while packing')
}

/** A copy of the (checked) value `v` with every -0 replaced by `f`. */
function standInForNegZero(v: unknown, f: number): unknown {
  if (typeof v === 'number') return Object.is(v, -0) ? f : v
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array || v instanceof Date) return v
  if (Array.isArray(v)) return v.map((x: unknown) => standInForNegZero(x, f))
  const out = Object.create(null) as Record<string, unknown> // a `__proto__` key stays an own key
  for (const k in v) out[k] = standInForNegZero((v as Record<string, unknown>)[k], f)
  return out
}

/**
 * Decodes bytes produced by {@link encodeValue}. Throws `TypeError` when the
 * bytes are not a well-formed value ({@link isValueBytes} is false). A
 * `__proto__` key comes back as an own property, never as the prototype.
 */
export function decodeValue(b: Buffer): unknown {
  if (!isValueBytes(b)) throw new TypeError('cache value bytes are malformed or use a type values may not have')
  // msgpackr renames a `__proto__` key to `__proto_`; such values take the slow path
  if (isScalarBytes(b) || b.indexOf(PROTO_KEY) < 0) return unpackr.unpack(b)
  return asObjects(mapUnpackr.unpack(b))
}

/** `v` with every `Map` (from {@link mapUnpackr}) turned into a plain object of own properties. */
function asObjects(v: unknown): unknown {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = asObjects(v[i])
    return v
  }
  if (!(v instanceof Map)) return v
  const o = {}
  for (const [k, x] of v as Map<unknown, unknown>) {
    Object.defineProperty(o, String(k), { value: asObjects(x), writable: true, enumerable: true, configurable: true })
  }
  return o
}

/**
 * The state of the check walk. `path` holds the keys and indices from the
 * root to the value being checked, turned into a string only for an error
 * message, so checking a valid value allocates nothing; `ancestors`, alongside
 * it, the objects on that path (the cycle check); `negZeros` counts the -0s
 * seen (they need the slow path of {@link packWithNegZeros}).
 */
interface Walk {
  path: Path
  ancestors: object[]
  negZeros: number
}

type Path = Array<string | number>

const LONE_SURROGATE = 'a string with a lone surrogate cannot be cached (UTF-8 would change it)'

function checkScalar(v: unknown, walk: Walk): void {
  switch (typeof v) {
    case 'string':
      if (!isWellFormed(v)) fail(walk.path, LONE_SURROGATE)
      return
    case 'number':
      if (v === 0 && 1 / v < 0) walk.negZeros++
      return
    case 'boolean':
    case 'undefined': // only reached nested; the top level is checked by encodeValue
      return
    case 'object': // null
      return
    case 'bigint':
      if (v < INT64_MIN || v > UINT64_MAX) fail(walk.path, `bigint ${v} does not fit in 64 bits`)
      return
    default:
      fail(walk.path, `a ${typeof v} cannot be cached`)
  }
}

function checkObject(v: object, walk: Walk): void {
  if (v instanceof Uint8Array) return
  if (v instanceof Date) {
    if (Object.getPrototypeOf(v) !== Date.prototype) fail(walk.path, `a ${v.constructor.name} is not plain data (use a Date)`)
    if (Number.isNaN(v.getTime())) fail(walk.path, 'an invalid Date cannot be cached')
    return
  }
  const { path, ancestors } = walk
  if (ancestors.includes(v)) fail(path, 'circular reference')
  if (ancestors.length >= MAX_VALUE_DEPTH) fail(path, `nested deeper than ${MAX_VALUE_DEPTH}`)
  ancestors.push(v)
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      if (!(i in v)) fail([...path, i], 'a hole in a sparse array cannot be cached (fill it with undefined or null)')
      checkChild(v[i], i, walk)
    }
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
    for (const k in o) {
      if (!isWellFormed(k)) fail([...path, k], `a key: ${LONE_SURROGATE}`)
      checkChild(o[k], k, walk)
    }
  }
  ancestors.pop()
}

function checkChild(v: unknown, step: string | number, walk: Walk): void {
  walk.path.push(step)
  if (typeof v === 'object' && v !== null) checkObject(v, walk)
  else checkScalar(v, walk)
  walk.path.pop()
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

/**
 * Whether encoded value bytes hold a scalar — nil, a boolean, a number or a
 * string — judged by the first byte alone (msgpack's type byte; a malformed
 * scalar still fails {@link decodeValue}). Scalars decode to immutable
 * primitives that re-encode to the same value, so a store may keep the
 * decoded primitive instead of the bytes. Arrays, maps, bins (Buffers)
 * and extensions (Dates, `undefined`) are not scalars.
 */
export function isScalarBytes(b: Uint8Array): boolean {
  const t = b[0]
  if (t === undefined) return false
  return t <= 0x7f || (t >= 0xa0 && t <= 0xc3 && t !== 0xc1) || (t >= 0xca && t <= 0xd3) || (t >= 0xd9 && t <= 0xdb) || t >= 0xe0
}

/**
 * {@link encodeValue} for a scalar the store already holds (checked when it
 * was written): strings are written straight into an exact-size Buffer as
 * msgpack str (the format msgpackr writes and reads), without the check
 * walk or the encoder's scratch copy — anti-entropy encodes every scalar
 * it sends again (live-entries.ts keeps scalars decoded only). Anything
 * else goes through {@link encodeValue}.
 */
export function encodeHeldScalar(v: unknown): Buffer {
  if (typeof v !== 'string') return encodeValue(v)
  const n = Buffer.byteLength(v)
  const b = Buffer.allocUnsafe(strHeaderBytes(n) + n)
  writeStr(b, 0, v, n)
  return b
}

/** Scratch space of {@link packString}; grown on demand up to {@link MAX_STRING_SCRATCH}. */
let stringScratch = Buffer.allocUnsafe(4096)
const MAX_STRING_SCRATCH = 1 << 20

/**
 * {@link packValue} of a string: the lone-surrogate check, then msgpack str
 * written straight into a scratch buffer (valid until the next
 * `packValue`, as msgpackr's scratch is). Why not msgpackr: `set` of a string
 * is the common case, and the check walk's state, the encoder call and its
 * own scratch cost about as much as the rest of the write path's encoding.
 */
function packString(s: string): Buffer {
  if (!isWellFormed(s)) fail([], LONE_SURROGATE)
  const n = Buffer.byteLength(s)
  const total = strHeaderBytes(n) + n
  if (total > stringScratch.length) {
    if (total > MAX_STRING_SCRATCH) return encodeHeldScalar(s)
    stringScratch = Buffer.allocUnsafe(Math.min(MAX_STRING_SCRATCH, 2 ** Math.ceil(Math.log2(total))))
  }
  return stringScratch.subarray(0, writeStr(stringScratch, 0, s, n))
}
