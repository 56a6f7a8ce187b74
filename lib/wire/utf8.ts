/**
 * Text checks shared by the API and the wire: one definition of "fits in
 * `maxBytes` UTF-8 bytes" and of "survives UTF-8 unchanged".
 */

/** Whether `s` encodes to at most `maxBytes` UTF-8 bytes. Skips the count when it cannot exceed. */
export function utf8Within(s: string, maxBytes: number): boolean {
  // a UTF-16 unit encodes to at most 3 UTF-8 bytes
  return s.length * 3 <= maxBytes || Buffer.byteLength(s, 'utf8') <= maxBytes
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Whether `s` round-trips through UTF-8 unchanged: no lone surrogate, which
 * UTF-8 would turn into U+FFFD (a key holding one would be another key on
 * every peer).
 */
export function isWellFormed(s: string): boolean {
  return nativeWellFormed !== undefined ? nativeWellFormed.call(s) : !LONE_SURROGATE.test(s)
}

// String.prototype.isWellFormed (V8 11.1+, so Node 20) when present: no regex pass
const nativeWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed
