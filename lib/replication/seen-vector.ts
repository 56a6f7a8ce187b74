/**
 * The anti-entropy digest: for every origin, the ranges of its write
 * sequence numbers this node has seen (applied or superseded), and whether
 * the node can vouch for them. Encoded as a msgpack array
 * `[[origin, [s1, e1, s2, e2, …], lossy?], …]` (ranges flattened; `lossy`
 * is 1 when present, see store/origin-index.ts; a node that does not know
 * the third field ignores it). Usually a handful of bytes per origin:
 * arrivals are mostly in order, so an origin's ranges collapse to one.
 */
import { Packr } from 'msgpackr'
import { SeqRanges } from '../store/seq-ranges.js'
import { DecodeError } from '../wire/decode-error.js'
import { safeUnpack } from '../wire/safe-unpack.js'

/** Most origins a digest may name. */
export const MAX_ORIGINS = 100_000
/** Most ranges per origin a digest may carry. */
export const MAX_RANGES_PER_ORIGIN = 65_536

const packr = new Packr({ useRecords: false, moreTypes: false })

/** One origin's coverage in a digest. */
export interface Coverage {
  readonly ranges: SeqRanges
  /** The sender dropped some of these writes by a local decision: do not adopt. */
  readonly lossy: boolean
}

export type SeenVector = ReadonlyMap<string, Coverage>

/** Encodes a snapshot of `seen`. */
export function encodeSeen(seen: SeenVector): Buffer {
  const rows: Array<[string, number[]] | [string, number[], number]> = []
  for (const [origin, { ranges, lossy }] of seen) {
    const flat: number[] = []
    for (const [s, e] of ranges.ranges()) flat.push(s, e)
    rows.push(lossy ? [origin, flat, 1] : [origin, flat])
  }
  return Buffer.from(packr.pack(rows))
}

/** The ranges of a digest, without the flags (what the peer need not be sent). */
export function rangesOf(seen: SeenVector): Map<string, SeqRanges> {
  const out = new Map<string, SeqRanges>()
  for (const [origin, c] of seen) out.set(origin, c.ranges)
  return out
}

/** Decodes and validates a digest. @throws DecodeError only. */
export function decodeSeen(data: Uint8Array): Map<string, Coverage> {
  const raw = safeUnpack(data, 0)
  if (!Array.isArray(raw) || raw.length > MAX_ORIGINS) throw new DecodeError('shape', 'seen vector')
  const out = new Map<string, Coverage>()
  for (const row of raw as unknown[]) {
    if (!Array.isArray(row) || row.length < 2) throw new DecodeError('shape', 'seen row')
    const [origin, flat, lossy] = row as [unknown, unknown, unknown]
    if (typeof origin !== 'string' || origin.length === 0 || origin.length > 256) throw new DecodeError('field', 'seen origin')
    if (!Array.isArray(flat) || flat.length % 2 !== 0 || flat.length > 2 * MAX_RANGES_PER_ORIGIN) throw new DecodeError('field', 'seen ranges')
    const pairs: Array<[number, number]> = []
    for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i] as number, flat[i + 1] as number])
    try {
      out.set(origin, { ranges: SeqRanges.fromRanges(pairs), lossy: lossy === 1 })
    } catch {
      throw new DecodeError('field', 'seen ranges')
    }
  }
  return out
}

/**
 * An anti-entropy digest as it travels: the sender's largest accepted value
 * (4 bytes, big-endian), then its seen vector. The peer sends it no entry
 * with a larger value (it would refuse it, and its frame limit might not
 * even carry it): it sends the entry's `(origin, seq)` as refused instead.
 */
export interface Digest {
  seen: Map<string, Coverage>
  /** The sender's `maxValueBytes`. */
  maxValueBytes: number
}

/** Encodes a digest of `seen` announcing `maxValueBytes`. */
export function encodeDigest(seen: SeenVector, maxValueBytes: number): Buffer {
  const rows = encodeSeen(seen)
  const out = Buffer.allocUnsafe(4 + rows.length)
  out.writeUInt32BE(Math.min(maxValueBytes, 0xffff_ffff), 0)
  rows.copy(out, 4)
  return out
}

/** Decodes and validates a digest. @throws DecodeError only. */
export function decodeDigest(data: Uint8Array): Digest {
  if (data.length < 5) throw new DecodeError('short', 'digest')
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  return { maxValueBytes: buf.readUInt32BE(0), seen: decodeSeen(buf.subarray(4)) }
}
