/**
 * Node tags: small string metadata a node announces about itself (zone,
 * version, role), carried in its alive messages and push-pull rows and
 * shown in `members()`.
 *
 * On the wire a tag set is one flat msgpack array `[k1, v1, k2, v2, …]`
 * (msgpack maps are not part of the protocol's subset), appended after the
 * last field of an alive message or a push-pull row, and only when the set
 * is not empty: a node without tags sends exactly what older versions sent,
 * and older decoders ignore the trailing field. Bounds, the same for the
 * option and the decoder: at most {@link MAX_TAGS} tags, keys non-empty and
 * distinct, at most {@link MAX_TAGS_BYTES} UTF-8 bytes of keys and values
 * together.
 */
import { DecodeError } from './decode-error.js'

/** A node's tags. */
export type Tags = Readonly<Record<string, string>>

/** Most tags one node may carry. */
export const MAX_TAGS = 16

/** Most UTF-8 bytes of all tag keys and values together. */
export const MAX_TAGS_BYTES = 512

/** The empty tag set (shared, frozen). */
export const NO_TAGS: Tags = Object.freeze({})

/**
 * Checks a tag set against the bounds; returns the problem, or undefined
 * when it is fine. Used by the option check and the decoder alike.
 */
export function tagsProblem(entries: ReadonlyArray<readonly [unknown, unknown]>): string | undefined {
  if (entries.length > MAX_TAGS) return `at most ${MAX_TAGS} tags, got ${entries.length}`
  let bytes = 0
  const seen = new Set<string>()
  for (const [k, v] of entries) {
    if (typeof k !== 'string' || k.length === 0) return 'a tag key must be a non-empty string'
    if (typeof v !== 'string') return `tag ${JSON.stringify(k)} must have a string value`
    if (seen.has(k)) return `tag ${JSON.stringify(k)} appears twice`
    seen.add(k)
    bytes += Buffer.byteLength(k) + Buffer.byteLength(v)
  }
  if (bytes > MAX_TAGS_BYTES) return `at most ${MAX_TAGS_BYTES} UTF-8 bytes of keys and values, got ${bytes}`
  return undefined
}

/** The flat wire form of `tags`. */
export function tagsToWire(tags: Tags): string[] {
  const out: string[] = []
  for (const [k, v] of Object.entries(tags)) out.push(k, v)
  return out
}

/** Whether `tags` holds any tag (only then is the field sent). */
export function hasTags(tags: Tags | undefined): tags is Tags {
  if (tags === undefined) return false
  for (const _ in tags) return true
  return false
}

/** Decodes and checks a wire tag field. @throws {@link DecodeError} `field` */
export function tagsFromWire(v: unknown, field: string): Tags {
  if (!Array.isArray(v) || v.length % 2 !== 0 || v.length > 2 * MAX_TAGS) throw new DecodeError('field', field)
  const entries: Array<[unknown, unknown]> = []
  for (let i = 0; i < v.length; i += 2) entries.push([v[i], v[i + 1]])
  if (tagsProblem(entries) !== undefined) throw new DecodeError('field', field)
  // fromEntries defines own properties: a key "__proto__" is just a key.
  return Object.freeze(Object.fromEntries(entries as Array<[string, string]>))
}

/** Whether two tag sets hold the same tags. */
export function sameTags(a: Tags, b: Tags): boolean {
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  return ka.every((k) => Object.hasOwn(b, k) && b[k] === a[k])
}

/**
 * Validates a tag set given by a user (an option, `setTags`) and returns a
 * frozen copy. @throws TypeError | RangeError whose message starts with `what`
 */
export function checkTags(v: unknown, what: string): Tags {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TypeError(`${what} must be an object of string values`)
  const entries = Object.entries(v)
  const problem = tagsProblem(entries)
  if (problem !== undefined) {
    const range = entries.length > MAX_TAGS || problem.startsWith('at most')
    throw new (range ? RangeError : TypeError)(`${what} ${problem}`)
  }
  return Object.freeze(Object.fromEntries(entries as Array<[string, string]>))
}
