/**
 * Checks of the arguments of `set`, `setAcked`, `delete`, `clear` and `getWithFiller`, against
 * the same limits the wire and every receiver enforce (DESIGN.md invariant
 * 8): whatever they accept, every peer accepts and can carry.
 */
import { describeValue, finiteIn, knownKeys, object, oneOf, optionMessage, positiveInt } from './option-checks.js'
import { sizeOf } from './store/entry.js'
import { MAX_EXPIRES_AT } from './replication/delta.js'
import { isWellFormed, utf8Within } from './wire/utf8.js'
import { packValue } from './store/value-codec.js'

/** The limits a write is checked against (the resolved create options). */
export interface WriteLimits {
  maxKeyBytes: number
  /** Default TTL, ms (0: none). */
  ttl: number
  maxValueBytes: number
  maxBytes: number
}

/** A write as `set` checked it. */
export interface CheckedWrite {
  /** The encoded value: transient (a view into the encoder's scratch space, valid until the next encode). */
  bytes: Buffer
  expiresAt: number
  /** The value itself when it is a primitive (kept as given: immutable, exact round trip), else undefined (kept as its bytes). */
  primitive: unknown
}

/**
 * Checks and encodes a write of `value` to `key` at `nowMs` — one
 * definition for `set`, `setAcked` and a fill kept in invalidation mode.
 * Throws `TypeError`/`RangeError` before anything changes.
 */
export function checkedWrite(limits: WriteLimits, key: string, value: unknown, ttl: number | undefined, nowMs: number): CheckedWrite {
  checkKey(key, limits.maxKeyBytes)
  const expiresAt = expiryOf(ttl ?? limits.ttl, nowMs)
  const bytes = packValue(value)
  checkValueSize(key, bytes, limits.maxValueBytes, limits.maxBytes)
  return { bytes, expiresAt, primitive: typeof value === 'object' && value !== null ? undefined : value }
}

/** A cache key: a non-empty, well-formed string of at most `maxKeyBytes` UTF-8 bytes. */
export function checkKey(key: unknown, maxKeyBytes: number): asserts key is string {
  if (typeof key !== 'string') throw new TypeError(`key must be a string, got ${typeof key}`)
  if (key.length === 0) throw new TypeError('key must not be empty')
  if (!utf8Within(key, maxKeyBytes)) throw new RangeError(`key must be at most ${maxKeyBytes} UTF-8 bytes (maxKeyBytes)`)
  // UTF-8 would turn a lone surrogate into U+FFFD: another key on every peer.
  if (!isWellFormed(key)) throw new TypeError('key must be well-formed UTF-16 (it holds a lone surrogate, which UTF-8 cannot carry)')
}

/** Options of `Bcache.clear`. */
export interface ClearOptions {
  /**
   * Clear only the keys starting with this string (on every node). Absent
   * or `''`: every key.
   */
  prefix?: string
}

/**
 * The prefix `clear(options)` clears (`''`: every key). Throws `TypeError`
 * for options that are not an object or a prefix that is not a well-formed
 * string, `RangeError` for one longer than `maxKeyBytes`.
 */
export function clearPrefixOf(options: unknown, maxKeyBytes: number): string {
  if (options === undefined) return ''
  if (typeof options !== 'object' || options === null) throw new TypeError(`clear options must be an object, got ${options === null ? 'null' : typeof options}`)
  const prefix = (options as ClearOptions).prefix
  if (prefix === undefined) return ''
  if (typeof prefix !== 'string') throw new TypeError(`prefix must be a string, got ${typeof prefix}`)
  if (!utf8Within(prefix, maxKeyBytes)) throw new RangeError(`prefix must be at most ${maxKeyBytes} UTF-8 bytes (maxKeyBytes)`)
  if (!isWellFormed(prefix)) throw new TypeError('prefix must be well-formed UTF-16 (it holds a lone surrogate, which UTF-8 cannot carry)')
  return prefix
}

/**
 * The absolute expiry of a write with `ttl` ms at `nowMs` (0 = none).
 * Throws `TypeError`/`RangeError` for a TTL that is not a number of ms >= 0,
 * or that lands past what a delta can carry ({@link MAX_EXPIRES_AT}).
 */
export function expiryOf(ttl: unknown, nowMs: number): number {
  if (ttl === undefined || ttl === 0) return 0
  if (typeof ttl !== 'number') throw new TypeError(`ttl must be a number of ms, got ${typeof ttl}`)
  if (!Number.isFinite(ttl) || ttl < 0) throw new RangeError(`ttl must be a finite number of ms >= 0, got ${String(ttl)}`)
  const expiresAt = Math.ceil(nowMs + ttl)
  if (expiresAt > MAX_EXPIRES_AT) throw new RangeError(`ttl ${ttl} ms lands past the largest expiry a write can carry (${MAX_EXPIRES_AT} ms since the epoch); omit ttl for no expiry`)
  return expiresAt
}

/** Refuses an encoded value the node could not carry or hold (`maxValueBytes`, and `maxBytes` when set). */
export function checkValueSize(key: string, bytes: Buffer, maxValueBytes: number, maxBytes: number): void {
  if (bytes.length > maxValueBytes) {
    throw new RangeError(`value of ${key} is ${bytes.length} bytes encoded, over maxValueBytes (${maxValueBytes})`)
  }
  if (maxBytes > 0 && sizeOf(key, bytes) > maxBytes) {
    throw new RangeError(`value of ${key} (${bytes.length} bytes encoded) would not fit in maxBytes (${maxBytes}) on its own`)
  }
}


/** Default `timeoutMs` of `setAcked`. */
export const DEFAULT_ACK_TIMEOUT_MS = 5000

/** Longest `timeoutMs` of `setAcked` (what a timer can wait: 2^31 - 1 ms, about 24.8 days). */
export const MAX_ACK_TIMEOUT_MS = 2 ** 31 - 1

/** `setAcked`'s options, checked and defaulted. */
export interface AckedSetChecked {
  acks: 'all' | 'majority' | number
  timeoutMs: number
  ttl: number | undefined
}

/**
 * Checks the options of `setAcked` (before anything is written): `acks` is
 * `'all'`, `'majority'` or a positive integer (default `'majority'`),
 * `timeoutMs` a number in (0, {@link MAX_ACK_TIMEOUT_MS}] (default
 * {@link DEFAULT_ACK_TIMEOUT_MS}), `ttl` as for `set`; no other option.
 */
export function checkAckedSetOptions(options: unknown): AckedSetChecked {
  const o = options === undefined ? {} : object('options', options)
  knownKeys('', o, ['acks', 'timeoutMs', 'ttl'])
  const acks = o['acks'] === undefined ? 'majority' : o['acks']
  if (typeof acks === 'string') oneOf('acks', acks, ['all', 'majority'])
  else if (typeof acks === 'number') positiveInt('acks', acks)
  else throw new TypeError(optionMessage('acks', `must be 'all', 'majority' or a positive integer, got ${describeValue(acks)}`))
  const timeoutMs = o['timeoutMs'] === undefined ? DEFAULT_ACK_TIMEOUT_MS : finiteIn('timeoutMs', o['timeoutMs'], 0, MAX_ACK_TIMEOUT_MS, true)
  return { acks: acks as AckedSetChecked['acks'], timeoutMs, ttl: o['ttl'] as number | undefined }
}
