/**
 * Compound datagrams: many messages in one UDP packet.
 *
 * Layout:
 *
 * ```
 * 0xbc 0xac  version  flags   msgpack array header   message 1 ... message n
 * `------ 4-byte header -----' `- fixarray/array16/32 -' `- pre-encoded bytes -'
 * ```
 *
 * The body is one msgpack array whose elements are the messages. Because a
 * msgpack array is just a header followed by its elements, {@link buildPacket}
 * concatenates an array header with message bytes that were encoded earlier:
 * a message (a cache delta wrapped in a User message, an Alive broadcast) is
 * encoded once and copied into as many packets as need it, and the size of a
 * packet is known exactly before it is built ({@link packetBytes}).
 *
 * The header is the transport's (`transport/header.ts`, shared with the
 * security envelope). Here `flags` is 0: a datagram with a flag bit set
 * ({@link FLAG_ENCRYPTED}, a label) is an envelope that `SecureTransport`
 * opens before it reaches this decoder; one that gets here anyway (this node
 * has no envelope configured) is rejected (`flags`), so a node never
 * misreads a format it does not handle.
 *
 * {@link decodePacket} is all-or-nothing: if any message in the datagram is
 * invalid, or the datagram has more than `maxMessagesPerPacket` messages,
 * the whole datagram is rejected and nothing in it is delivered.
 */
import { HEADER_BYTES, HEADER_MAGIC, PROTOCOL_VERSION, writeHeader } from '../transport/header.js'
import { DecodeError } from './decode-error.js'
import type { PacketMsg } from './messages.js'
import { readLength } from './msgpack-scan.js'
import { safeUnpack } from './safe-unpack.js'
import { DEFAULT_DECODE_LIMITS, toMessage, type DecodeLimits } from './validate.js'

export { FLAG_ENCRYPTED, PROTOCOL_VERSION } from '../transport/header.js'

/** Bytes before the msgpack body of a datagram: the transport header (magic, version, flags). */
export const PACKET_HEADER_BYTES = HEADER_BYTES

/** First two bytes of every datagram (the transport header's magic). */
export const PACKET_MAGIC = HEADER_MAGIC

/**
 * Flag bits this decoder accepts: none. Encrypted or labelled datagrams are
 * opened by `SecureTransport` before they get here.
 */
const KNOWN_FLAGS = 0

/**
 * Size of the msgpack array header for `count` elements: 1 (fixarray, up to
 * 15), 3 (array16, up to 65535) or 5 (array32).
 * @throws RangeError if `count` is not an integer in [0, 2^32).
 */
export function arrayHeaderBytes(count: number): number {
  if (count >>> 0 !== count) throw new RangeError(`array count out of range: ${count}`)
  return count < 16 ? 1 : count < 0x10000 ? 3 : 5
}

/**
 * Exact size of a datagram carrying `count` messages whose encodings total
 * `encodedBytes`: header + array header + `encodedBytes`.
 */
export function packetBytes(count: number, encodedBytes: number): number {
  return PACKET_HEADER_BYTES + arrayHeaderBytes(count) + encodedBytes
}

function writeArrayHeader(out: Buffer, pos: number, count: number): number {
  if (count < 16) {
    out[pos] = 0x90 | count
    return pos + 1
  }
  if (count < 0x10000) {
    out[pos] = 0xdc
    out.writeUInt16BE(count, pos + 1)
    return pos + 3
  }
  out[pos] = 0xdd
  out.writeUInt32BE(count, pos + 1)
  return pos + 5
}

/**
 * Builds a datagram from already-encoded messages (from `encodeMessage` /
 * `encodeUser`). The result is exactly
 * `packetBytes(encoded.length, sum of lengths)` bytes; the inputs are copied,
 * not kept. No size budget is applied here: that is the caller's job.
 */
export function buildPacket(encoded: readonly Uint8Array[]): Buffer {
  let body = 0
  for (const e of encoded) body += e.length
  const out = Buffer.allocUnsafe(packetBytes(encoded.length, body))
  writeHeader(out, PROTOCOL_VERSION, 0)
  let pos = writeArrayHeader(out, PACKET_HEADER_BYTES, encoded.length)
  for (const e of encoded) {
    out.set(e, pos)
    pos += e.length
  }
  return out
}

/** Reads the message count from the array header at the start of the body, before decoding. */
function peekCount(b: Uint8Array): number {
  const i = PACKET_HEADER_BYTES
  const t = b[i]!
  if (t >= 0x90 && t <= 0x9f) return t - 0x90
  if (t === 0xdc) return readLength(b, i + 1, 2)
  if (t === 0xdd) return readLength(b, i + 1, 4)
  throw new DecodeError('shape', 'packet body is not an array')
}

/**
 * Decodes and validates a datagram. All or nothing: one bad message rejects
 * the whole datagram. Payloads in the result (User messages) are zero-copy
 * views into `data`; do not reuse `data` while they are in use.
 *
 * @throws {@link DecodeError} and nothing else, with `reason` one of `short`,
 *   `magic`, `version`, `flags`, `msgpack`, `trailing`, `shape`, `type`,
 *   `field`, `too-many`, `too-large`.
 */
export function decodePacket(data: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): PacketMsg[] {
  if (data.length < PACKET_HEADER_BYTES + 1) throw new DecodeError('short', `${data.length} bytes`)
  if (data[0] !== PACKET_MAGIC[0] || data[1] !== PACKET_MAGIC[1]) throw new DecodeError('magic')
  if (data[2] !== PROTOCOL_VERSION) throw new DecodeError('version', String(data[2]))
  if ((data[3]! & ~KNOWN_FLAGS) !== 0) throw new DecodeError('flags', String(data[3]))
  const count = peekCount(data)
  if (count > limits.maxMessagesPerPacket) throw new DecodeError('too-many', `${count} messages`)
  const raw = safeUnpack(data, PACKET_HEADER_BYTES) as unknown[]
  const out: PacketMsg[] = new Array(raw.length)
  for (let i = 0; i < raw.length; i++) out[i] = toMessage(raw[i], limits, 'packet') as PacketMsg
  return out
}
