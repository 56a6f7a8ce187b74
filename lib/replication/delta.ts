/**
 * Cache deltas on the wire. A delta is one msgpack array
 * `[key, valueBytes | nil, wall, counter, origin, seq, expiresAt]`:
 * nil value bytes mark a tombstone (delete); `wall`/`counter`/`origin` are
 * the hybrid-logical-clock version (last writer wins), `seq` the write's
 * number at its origin (anti-entropy coverage), `expiresAt` the absolute TTL
 * expiry in ms (0 = none).
 *
 * A cluster-wide clear (store/clears.ts) is a delta with one more field,
 * `kind` = 1: `[prefix, nil, wall, counter, origin, seq, 0, 1]`, the prefix
 * possibly empty (every key). A decoder ignores fields past the ones it
 * knows, so an older node sees a clear as a delete of the key `prefix`
 * (and refuses the empty one). Any other `kind` is refused.
 *
 * Encoding is hand-written rather than msgpackr's `pack` because it runs on
 * every `set` (the hot path) and the layout is fixed: one exact-size
 * allocation, no intermediate array. Decoding goes through the wire layer's
 * safe unpacker (only plain msgpack admitted) and validates every field.
 *
 * A batch (for streams) is a msgpack array of deltas, built by concatenating
 * already-encoded deltas behind an array header, so each delta is encoded
 * once and reused for every send.
 */
import { DecodeError } from '../wire/decode-error.js'
import { safeUnpack } from '../wire/safe-unpack.js'
import { strHeaderBytes, writeStr } from '../wire/msgpack-str.js'
import { utf8Within } from '../wire/utf8.js'
import type { Entry } from '../store/versioned-store.js'
import type { Version } from '../store/version.js'

/** A delta as decoded: everything needed to build a store entry. */
export interface Delta {
  key: string
  /** Encoded value; undefined for a tombstone. */
  bytes: Buffer | undefined
  version: Version
  seq: number
  expiresAt: number
  /** A clear of every key starting with `key` (see the file comment); absent otherwise. */
  clear?: true
}

/** The `kind` field of a clear delta. */
export const KIND_CLEAR = 1

/** Largest key accepted from the wire, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024
const MAX_ORIGIN_BYTES = 256
/**
 * Largest `expiresAt` a delta may carry (ms since the epoch): every number
 * field must be a safe integer on the wire, so `set` refuses a TTL that
 * would land beyond it (a peer would refuse the delta, invariant 8).
 */
export const MAX_EXPIRES_AT = Number.MAX_SAFE_INTEGER
/**
 * Target size of one batch frame (push streams and anti-entropy). Small
 * enough that any node's frame limit carries it (`maxFrameBytes` is at least
 * 64 KiB + 1 on every node); a delta larger than this travels alone in its
 * frame.
 */
export const BATCH_TARGET_BYTES = 60 * 1024

function binHeaderBytes(n: number): number {
  return n < 0x100 ? 2 : n < 0x10000 ? 3 : 5
}

function writeNumber(buf: Buffer, pos: number, v: number): number {
  if (v < 128) { buf[pos] = v; return pos + 1 }
  if (v <= 0xffffffff) { buf[pos] = 0xce; buf.writeUInt32BE(v, pos + 1); return pos + 5 }
  buf[pos] = 0xcb
  buf.writeDoubleBE(v, pos + 1)
  return pos + 9
}

function numberBytes(v: number): number {
  return v < 128 ? 1 : v <= 0xffffffff ? 5 : 9
}

/** Encoded size of a delta, in bytes. */
export function deltaSize(key: string, bytes: Uint8Array | undefined, version: Version, seq: number, expiresAt: number, kind?: number): number {
  return sizeWith(Buffer.byteLength(key), Buffer.byteLength(version.origin), bytes, version, seq, expiresAt, kind)
}

function sizeWith(keyLen: number, originLen: number, bytes: Uint8Array | undefined, version: Version, seq: number, expiresAt: number, kind?: number): number {
  const valueLen = bytes === undefined ? 1 : binHeaderBytes(bytes.length) + bytes.length
  return 1 + strHeaderBytes(keyLen) + keyLen + valueLen + numberBytes(version.wall) + numberBytes(version.counter) +
    strHeaderBytes(originLen) + originLen + numberBytes(seq) + numberBytes(expiresAt) + (kind === undefined ? 0 : numberBytes(kind))
}

/**
 * Writes a delta into `buf` at `pos` (the caller sized it with
 * {@link deltaSize}); returns the position after it.
 */
export function writeDelta(buf: Buffer, pos: number, key: string, bytes: Uint8Array | undefined, version: Version, seq: number, expiresAt: number, kind?: number): number {
  return writeWith(buf, pos, key, Buffer.byteLength(key), Buffer.byteLength(version.origin), bytes, version, seq, expiresAt, kind)
}

function writeWith(buf: Buffer, pos: number, key: string, keyLen: number, originLen: number, bytes: Uint8Array | undefined, version: Version, seq: number, expiresAt: number, kind?: number): number {
  buf[pos++] = kind === undefined ? 0x97 : 0x98
  pos = writeStr(buf, pos, key, keyLen)
  if (bytes === undefined) {
    buf[pos++] = 0xc0
  } else {
    const n = bytes.length
    if (n < 0x100) { buf[pos++] = 0xc4; buf[pos++] = n }
    else if (n < 0x10000) { buf[pos++] = 0xc5; buf.writeUInt16BE(n, pos); pos += 2 }
    else { buf[pos++] = 0xc6; buf.writeUInt32BE(n, pos); pos += 4 }
    buf.set(bytes, pos)
    pos += n
  }
  pos = writeNumber(buf, pos, version.wall)
  pos = writeNumber(buf, pos, version.counter)
  pos = writeStr(buf, pos, version.origin, originLen)
  pos = writeNumber(buf, pos, seq)
  pos = writeNumber(buf, pos, expiresAt)
  return kind === undefined ? pos : writeNumber(buf, pos, kind)
}

/** Encodes one delta for `key` (value `bytes`, or a tombstone when undefined; a clear of prefix `key` with `kind` {@link KIND_CLEAR}). */
export function encodeDelta(key: string, bytes: Uint8Array | undefined, version: Version, seq: number, expiresAt: number, kind?: number): Buffer {
  const keyLen = Buffer.byteLength(key), originLen = Buffer.byteLength(version.origin) // once, not once per pass
  const buf = Buffer.allocUnsafe(sizeWith(keyLen, originLen, bytes, version, seq, expiresAt, kind))
  writeWith(buf, 0, key, keyLen, originLen, bytes, version, seq, expiresAt, kind)
  return buf
}

/** The `kind` field of a store entry's delta (undefined: none, an ordinary write or delete). */
function kindOf(e: Entry): number | undefined {
  return e.clear === true ? KIND_CLEAR : undefined
}

/** Encodes the delta of a store entry. */
export function encodeEntry(e: Entry): Buffer {
  return encodeDelta(e.key, e.tombstone ? undefined : e.bytes, e.version, e.seq, e.expiresAt, kindOf(e))
}

/**
 * Encodes entries into batch frames of about `targetBytes` each (one leading
 * `prefix` byte, then a msgpack array of deltas), writing every delta
 * straight into its frame: one allocation per frame, not per entry.
 * Yields each frame as it fills.
 */
export function* encodeEntryFrames(entries: readonly Entry[], targetBytes: number, prefix: number): Generator<{ frame: Buffer; count: number }> {
  let i = 0
  while (i < entries.length) {
    // Size this frame: take entries until the target is reached.
    let size = 6
    let j = i
    while (j < entries.length) {
      const e = entries[j]!
      const n = deltaSize(e.key, e.tombstone ? undefined : e.bytes, e.version, e.seq, e.expiresAt, kindOf(e))
      // A delta that would take the frame past the target goes into the next
      // one (alone, if it is itself larger than the target).
      if (j > i && size + n > targetBytes) break
      size += n
      j++
    }
    const frame = Buffer.allocUnsafe(size)
    frame[0] = prefix
    frame[1] = 0xdd
    frame.writeUInt32BE(j - i, 2)
    let pos = 6
    for (let k = i; k < j; k++) {
      const e = entries[k]!
      pos = writeDelta(frame, pos, e.key, e.tombstone ? undefined : e.bytes, e.version, e.seq, e.expiresAt, kindOf(e))
    }
    yield { frame, count: j - i }
    i = j
  }
}

const isUint = (v: unknown, max = Number.MAX_SAFE_INTEGER): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max

function isId(v: unknown, maxBytes: number): v is string {
  return typeof v === 'string' && v.length > 0 && utf8Within(v, maxBytes)
}

/** Validates a decoded delta array. @throws DecodeError('field' | 'shape') */
export function toDelta(raw: unknown): Delta {
  if (!Array.isArray(raw) || raw.length < 7) throw new DecodeError('shape', 'delta is not a 7-element array')
  const [key, bytes, wall, counter, origin, seq, expiresAt, kind] = raw as unknown[]
  if (kind !== undefined && kind !== KIND_CLEAR) throw new DecodeError('field', 'delta kind')
  if (kind === KIND_CLEAR) return toClear(key, bytes, wall, counter, origin, seq, expiresAt)
  if (!isId(key, MAX_KEY_BYTES)) throw new DecodeError('field', 'delta key')
  if (bytes !== null && !Buffer.isBuffer(bytes)) throw new DecodeError('field', 'delta value')
  if (!isUint(wall) || !isUint(counter, 0xffff) || !isUint(seq) || seq === 0 || !isUint(expiresAt)) throw new DecodeError('field', 'delta number')
  if (!isId(origin, MAX_ORIGIN_BYTES)) throw new DecodeError('field', 'delta origin')
  return { key, bytes: bytes === null ? undefined : (bytes as Buffer), version: { wall, counter, origin }, seq, expiresAt }
}

/** A clear delta's fields (see the file comment): the prefix may be empty, no value, no expiry. */
function toClear(prefix: unknown, bytes: unknown, wall: unknown, counter: unknown, origin: unknown, seq: unknown, expiresAt: unknown): Delta {
  if (typeof prefix !== 'string' || !utf8Within(prefix, MAX_KEY_BYTES)) throw new DecodeError('field', 'delta key')
  if (bytes !== null || expiresAt !== 0) throw new DecodeError('field', 'clear value')
  if (!isUint(wall) || !isUint(counter, 0xffff) || !isUint(seq) || seq === 0) throw new DecodeError('field', 'delta number')
  if (!isId(origin, MAX_ORIGIN_BYTES)) throw new DecodeError('field', 'delta origin')
  return { key: prefix, bytes: undefined, version: { wall, counter, origin }, seq, expiresAt: 0, clear: true }
}

/** Decodes one delta (a datagram payload). @throws DecodeError only. */
export function decodeDelta(payload: Uint8Array): Delta {
  return toDelta(safeUnpack(payload, 0))
}

/**
 * Splits encoded deltas into groups whose batches stay near `targetBytes`
 * (a delta larger than the target is a group of its own).
 */
export function splitBatches(encoded: readonly Buffer[], targetBytes = BATCH_TARGET_BYTES): Buffer[][] {
  const out: Buffer[][] = []
  let group: Buffer[] = []
  let size = 5
  for (const d of encoded) {
    if (group.length > 0 && size + d.length > targetBytes) {
      out.push(group)
      group = []
      size = 5
    }
    group.push(d)
    size += d.length
  }
  if (group.length > 0) out.push(group)
  return out
}

/**
 * Concatenates encoded deltas behind a msgpack array32 header, optionally
 * after one leading `prefix` byte (a frame kind).
 */
export function encodeBatch(encoded: readonly Uint8Array[], prefix?: number): Buffer {
  const skip = prefix === undefined ? 0 : 1
  let size = skip + 5
  for (const e of encoded) size += e.length
  const buf = Buffer.allocUnsafe(size)
  if (prefix !== undefined) buf[0] = prefix
  buf[skip] = 0xdd
  buf.writeUInt32BE(encoded.length, skip + 1)
  let pos = skip + 5
  for (const e of encoded) {
    buf.set(e, pos)
    pos += e.length
  }
  return buf
}

/**
 * Decodes a batch starting at `start`. A delta that does not validate is
 * skipped and reported to `onReject` (by reason); the others are returned.
 * @throws DecodeError when the batch itself is not a well-formed msgpack array.
 */
export function decodeBatch(data: Uint8Array, start = 0, onReject?: (reason: string) => void): Delta[] {
  const raw = safeUnpack(data, start)
  if (!Array.isArray(raw)) throw new DecodeError('shape', 'batch is not an array')
  const out: Delta[] = []
  for (const r of raw as unknown[]) {
    try {
      out.push(toDelta(r))
    } catch (err) {
      if (!(err instanceof DecodeError) || onReject === undefined) throw err
      onReject(err.reason)
    }
  }
  return out
}
