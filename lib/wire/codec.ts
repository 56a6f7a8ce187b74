/**
 * The wire codec: messages to bytes and back.
 *
 * A message is a msgpack array `[type, ...fields]`, fields in the order of
 * its interface in `messages.ts` (Ping = `[0, seq, targetId, sourceId,
 * sourceAddr]`, PushPull = `[8, join, [[nodeId, addr, incarnation, state],
 * ...], userState, digest?]`, User = `[7, payload]`); Buffers travel as msgpack bin.
 * Tags (tags.ts) are appended to Alive and push-pull rows only when present.
 *
 * - Datagrams (`packet.ts`): a 4-byte header and one msgpack array of
 *   pre-encoded messages; built by {@link buildPacket}, read by
 *   {@link decodePacket}.
 * - Stream frames: 1 version byte + one encoded message; the transport adds
 *   the length prefix. {@link encodeFrame} / {@link decodeFrame}.
 *
 * Encoding uses a msgpackr `Packr` without records or extra types, and checks
 * the message against the same validation the receiver applies (a bug shows
 * up as a `TypeError` here, not as silent drops on every peer).
 * {@link encodeUser}, on the hot path of cache deltas, writes its three header
 * bytes by hand into a single allocation. Every encoder returns an exact-size
 * Buffer of its own (from Node's usual small-buffer pool), never a view into
 * msgpackr's 8 KiB scratch buffer, so encodings can be kept and reused without
 * pinning scratch memory.
 *
 * Decoding goes through `safe-unpack.ts` (a scan that admits only the msgpack
 * subset the protocol uses, then msgpackr) and `validate.ts` (strict per-field
 * checks). Decoders throw {@link DecodeError} and nothing else.
 */
import { Packr } from 'msgpackr'
import { DecodeError } from './decode-error.js'
import { MsgType, type Msg, type PacketMsg, type StreamMsg } from './messages.js'
import { PROTOCOL_VERSION } from './packet.js'
import { safeUnpack } from './safe-unpack.js'
import { hasTags, tagsToWire } from './tags.js'
import { DEFAULT_DECODE_LIMITS, toMessage, type DecodeLimits, type MsgContext } from './validate.js'

export { DROP_REASONS, DecodeError, type DropReason } from './decode-error.js'
export {
  FLAG_ENCRYPTED,
  PACKET_HEADER_BYTES,
  PACKET_MAGIC,
  PROTOCOL_VERSION,
  arrayHeaderBytes,
  buildPacket,
  decodePacket,
  packetBytes
} from './packet.js'
export { DEFAULT_DECODE_LIMITS, MAX_ADDR_CHARS, isWireAddress, type DecodeLimits } from './validate.js'

const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false })

/**
 * Bytes a stream frame carries in front of the encoded message: the version
 * byte. (The transport adds its own length prefix around the whole frame.)
 */
export const FRAME_VERSION_BYTES = 1

/** Largest payload {@link encodeUser} can frame (bin32). */
const MAX_BIN = 0xffffffff

/** The msgpack array for `msg`, fields in wire order. */
function toArray(msg: Msg): unknown[] {
  switch (msg.type) {
    case MsgType.Ping: return [msg.type, msg.seq, msg.targetId, msg.sourceId, msg.sourceAddr]
    case MsgType.PingReq:
      return [msg.type, msg.seq, msg.targetId, msg.targetAddr, msg.sourceId, msg.sourceAddr, msg.nack]
    case MsgType.Ack:
    case MsgType.Nack: return [msg.type, msg.seq]
    case MsgType.Suspect:
    case MsgType.Dead: return [msg.type, msg.incarnation, msg.nodeId, msg.fromId]
    case MsgType.Alive:
      return hasTags(msg.tags) ? [msg.type, msg.incarnation, msg.nodeId, msg.addr, tagsToWire(msg.tags)] : [msg.type, msg.incarnation, msg.nodeId, msg.addr]
    case MsgType.User: return [msg.type, msg.payload]
    case MsgType.PushPull:
    case MsgType.PushPullReply: {
      const rows = msg.nodes.map((n) => hasTags(n.tags) ? [n.nodeId, n.addr, n.incarnation, n.state, tagsToWire(n.tags)] : [n.nodeId, n.addr, n.incarnation, n.state])
      return msg.digest === undefined ? [msg.type, msg.join, rows, msg.userState] : [msg.type, msg.join, rows, msg.userState, msg.digest]
    }
    case MsgType.UserStream: return [msg.type, msg.tag, msg.payload]
    default: throw new TypeError(`unknown message type: ${String((msg as { type: unknown }).type)}`)
  }
}

/**
 * Packs `msg` into a fresh exact-size Buffer, preceded by `prefix` bytes that
 * the caller fills. Validates first, with the receiver's default limits.
 */
function pack(msg: Msg, context: MsgContext, prefix: number): Buffer {
  const arr = toArray(msg)
  try {
    toMessage(arr, DEFAULT_DECODE_LIMITS, context)
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err
    throw new TypeError(`cannot encode ${MsgType[msg.type] ?? 'message'}: ${err.message}`, { cause: err })
  }
  const packed = packr.pack(arr)
  const out = Buffer.allocUnsafe(prefix + packed.length)
  out.set(packed, prefix)
  return out
}

const STREAM_TYPES: ReadonlySet<MsgType> = new Set([
  MsgType.Ping, MsgType.Ack, MsgType.PushPull, MsgType.PushPullReply, MsgType.UserStream
])
const STREAM_ONLY: ReadonlySet<MsgType> = new Set([MsgType.PushPull, MsgType.PushPullReply, MsgType.UserStream])

/**
 * Encodes one message (datagram or stream kind) to its msgpack bytes, for
 * {@link buildPacket} or a frame. Encode a message once and reuse the bytes.
 * @throws TypeError if a field would be rejected by the receiver (bad id,
 *   address, range, or payload above the default limits).
 */
export function encodeMessage(msg: PacketMsg | StreamMsg): Buffer {
  return pack(msg, STREAM_ONLY.has(msg.type) ? 'stream' : 'packet', 0)
}

/**
 * `encodeUser(p).length - p.length`: 2 bytes of array header and type, plus
 * the bin header (2 bytes up to 255 payload bytes, 3 up to 65535, else 5).
 */
export function userOverhead(payloadBytes: number): number {
  return 2 + (payloadBytes < 0x100 ? 2 : payloadBytes < 0x10000 ? 3 : 5)
}

/**
 * Encodes `[7, payload]` (a User message) by hand: one allocation, no msgpackr.
 * Byte-for-byte what {@link encodeMessage} produces for a User message.
 * @throws RangeError if the payload is 4 GiB or larger.
 */
export function encodeUser(payload: Uint8Array): Buffer {
  const n = payload.length
  if (n > MAX_BIN) throw new RangeError(`User payload too large: ${n} bytes`)
  const head = userOverhead(n)
  const out = Buffer.allocUnsafe(head + n)
  out[0] = 0x92 // fixarray(2)
  out[1] = MsgType.User
  if (n < 0x100) {
    out[2] = 0xc4
    out[3] = n
  } else if (n < 0x10000) {
    out[2] = 0xc5
    out.writeUInt16BE(n, 3)
  } else {
    out[2] = 0xc6
    out.writeUInt32BE(n, 3)
  }
  out.set(payload, head)
  return out
}

/**
 * Encodes a stream frame: the version byte, then the message. The transport
 * adds the length prefix.
 * @throws TypeError for a packet-only message or an invalid field.
 */
export function encodeFrame(msg: StreamMsg): Buffer {
  if (!STREAM_TYPES.has(msg.type)) throw new TypeError(`${MsgType[msg.type] ?? msg.type} cannot travel on a stream`)
  const out = pack(msg, 'stream', FRAME_VERSION_BYTES)
  out[0] = PROTOCOL_VERSION
  return out
}

/**
 * Decodes and validates one stream frame (without the transport's length
 * prefix). Packet-only types are rejected (`type`). Buffers in the result
 * are zero-copy views into `data`.
 * @throws {@link DecodeError} and nothing else.
 */
export function decodeFrame(data: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): StreamMsg {
  if (data.length < FRAME_VERSION_BYTES + 1) throw new DecodeError('short', `${data.length} bytes`)
  if (data[0] !== PROTOCOL_VERSION) throw new DecodeError('version', String(data[0]))
  return toMessage(safeUnpack(data, FRAME_VERSION_BYTES), limits, 'stream') as StreamMsg
}
