/**
 * Turning a decoded msgpack array into a typed message, trusting nothing.
 *
 * A message on the wire is `[type, ...fields]` with the fields in the order
 * of its interface in `messages.ts`. {@link toMessage} checks that the value
 * is a non-empty array, that `type` is known and allowed in this context
 * (datagram or stream), that the array holds at least the schema's fields,
 * and then every field's type and range:
 *
 * - `seq`, `tag`: uint32 integers.
 * - `incarnation`: a non-negative safe integer.
 * - ids: non-empty strings of at most `maxIdBytes` UTF-8 bytes.
 * - addresses: `"host:port"` or `"[v6]:port"`, port 0–65535 without leading
 *   zeros, at most {@link MAX_ADDR_CHARS} characters ({@link isWireAddress}).
 * - `state`: a {@link MemberState} number; flags: real booleans.
 * - payloads: bins (Buffers, returned as zero-copy views) of at most
 *   `maxUserPayloadBytes`.
 * - tags (appended to Alive and push-pull rows): an array in that slot is a
 *   tag set and must be a flat array of string pairs within the bounds of
 *   `tags.ts` (else `field`); anything else there predates tags (a trailing
 *   field of some other version) and is ignored like any unknown field.
 *
 * **Forward compatibility:** fields after the schema's last one (in a message
 * or a push-pull row) are ignored, so a later version may append fields.
 * They must still be plain msgpack (no maps, no ext types: the safe-unpack
 * scan rejects those anywhere). An integer sent as a float with no fraction
 * (1.0) decodes to the same number and is accepted.
 */
import { DecodeError } from './decode-error.js'
import { tagsFromWire } from './tags.js'
import { utf8Within } from './utf8.js'
import {
  MemberState,
  MsgType,
  type AckMsg,
  type AliveMsg,
  type DeadMsg,
  type Msg,
  type NackMsg,
  type PingMsg,
  type PingReqMsg,
  type PushNodeState,
  type PushPullMsg,
  type SuspectMsg,
  type UserMsg,
  type UserStreamMsg
} from './messages.js'

/** Bounds applied while decoding untrusted input. */
export interface DecodeLimits {
  /**
   * Most messages one datagram may carry; more is rejected as `too-many`
   * before anything is decoded.
   * @default 256
   */
  maxMessagesPerPacket: number
  /**
   * Most member rows in one push-pull; more is rejected as `too-many`.
   * @default 100_000
   */
  maxPushPullNodes: number
  /**
   * Longest node id, in UTF-8 bytes; longer is rejected as `field`.
   * @default 256
   */
  maxIdBytes: number
  /**
   * Largest User / UserStream payload or push-pull user state, in bytes;
   * larger is rejected as `too-large`. A datagram cannot come near the
   * default, so for packets it is effectively "whatever fits".
   * @default 64 MiB
   */
  maxUserPayloadBytes: number
}

/** The defaults of {@link DecodeLimits}. */
export const DEFAULT_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze({
  maxMessagesPerPacket: 256,
  maxPushPullNodes: 100_000,
  maxIdBytes: 256,
  maxUserPayloadBytes: 64 * 1024 * 1024
})

/** Longest address string accepted on the wire. */
export const MAX_ADDR_CHARS = 300

/** Where a message was found: decides which types are allowed. */
export type MsgContext = 'packet' | 'stream'

// Indexed by MsgType. Ping and Ack are valid in both (Ping/Ack also serve the TCP fallback probe).
const PACKET_OK = [true, true, true, true, true, true, true, true, false, false, false]
const STREAM_OK = [true, false, true, false, false, false, false, false, true, true, true]

// host: a name or IPv4 literal; or a bracketed IPv6 literal with an optional zone
const ADDR_RE = /^(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+(?:%[A-Za-z0-9._-]+)?\]):(0|[1-9][0-9]{0,4})$/

/** True if `addr` is a well-formed wire address (see the file comment). */
export function isWireAddress(addr: unknown): addr is string {
  if (typeof addr !== 'string' || addr.length > MAX_ADDR_CHARS) return false
  const m = ADDR_RE.exec(addr)
  return m !== null && Number(m[1]) <= 65535
}

function bad(field: string): DecodeError {
  return new DecodeError('field', field)
}

function uint32(v: unknown, field: string): number {
  if (typeof v !== 'number' || v >>> 0 !== v) throw bad(field)
  return v >>> 0 // normalizes -0
}

function incarnation(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(field)
  return v + 0 // normalizes -0
}

function id(v: unknown, maxBytes: number, field: string): string {
  if (typeof v !== 'string' || v.length === 0) throw bad(field)
  if (!utf8Within(v, maxBytes)) throw bad(field)
  return v
}

function addr(v: unknown, field: string): string {
  if (!isWireAddress(v)) throw bad(field)
  return v
}

function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') throw bad(field)
  return v
}

function bin(v: unknown, maxBytes: number, field: string): Buffer {
  if (!(v instanceof Uint8Array)) throw bad(field)
  if (v.length > maxBytes) throw new DecodeError('too-large', field)
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)
}

function memberState(v: unknown, field: string): MemberState {
  if (v !== MemberState.Alive && v !== MemberState.Suspect && v !== MemberState.Dead && v !== MemberState.Left) {
    throw bad(field)
  }
  return v
}

function need(a: unknown[], fields: number, what: string): void {
  if (a.length < fields + 1) throw new DecodeError('shape', `${what}: ${a.length - 1} of ${fields} fields`)
}

/**
 * Validates one decoded message (`raw`, straight from msgpack) and returns it
 * as a typed object.
 *
 * @param context - `'packet'` rejects stream-only types, `'stream'` rejects
 *   packet-only types (reason `type`).
 * @throws {@link DecodeError}
 */
export function toMessage(raw: unknown, limits: DecodeLimits, context: MsgContext): Msg {
  if (!Array.isArray(raw) || raw.length === 0) throw new DecodeError('shape', 'message is not a non-empty array')
  const type: unknown = raw[0]
  const allowed = context === 'packet' ? PACKET_OK : STREAM_OK
  if (typeof type !== 'number' || allowed[type] !== true) throw new DecodeError('type', `${String(type)} in ${context}`)
  switch (type as MsgType) {
    case MsgType.Ping: return ping(raw, limits)
    case MsgType.PingReq: return pingReq(raw, limits)
    case MsgType.Ack: need(raw, 1, 'Ack'); return { type: MsgType.Ack, seq: uint32(raw[1], 'Ack.seq') } satisfies AckMsg
    case MsgType.Nack: need(raw, 1, 'Nack'); return { type: MsgType.Nack, seq: uint32(raw[1], 'Nack.seq') } satisfies NackMsg
    case MsgType.Suspect: return suspectOrDead(raw, limits, MsgType.Suspect)
    case MsgType.Alive: return alive(raw, limits)
    case MsgType.Dead: return suspectOrDead(raw, limits, MsgType.Dead)
    case MsgType.User:
      need(raw, 1, 'User')
      return { type: MsgType.User, payload: bin(raw[1], limits.maxUserPayloadBytes, 'User.payload') } satisfies UserMsg
    case MsgType.PushPull: return pushPull(raw, limits, MsgType.PushPull)
    case MsgType.PushPullReply: return pushPull(raw, limits, MsgType.PushPullReply)
    case MsgType.UserStream: return userStream(raw, limits)
  }
}

function ping(a: unknown[], limits: DecodeLimits): PingMsg {
  need(a, 4, 'Ping')
  return {
    type: MsgType.Ping,
    seq: uint32(a[1], 'Ping.seq'),
    targetId: id(a[2], limits.maxIdBytes, 'Ping.targetId'),
    sourceId: id(a[3], limits.maxIdBytes, 'Ping.sourceId'),
    sourceAddr: addr(a[4], 'Ping.sourceAddr')
  }
}

function pingReq(a: unknown[], limits: DecodeLimits): PingReqMsg {
  need(a, 6, 'PingReq')
  return {
    type: MsgType.PingReq,
    seq: uint32(a[1], 'PingReq.seq'),
    targetId: id(a[2], limits.maxIdBytes, 'PingReq.targetId'),
    targetAddr: addr(a[3], 'PingReq.targetAddr'),
    sourceId: id(a[4], limits.maxIdBytes, 'PingReq.sourceId'),
    sourceAddr: addr(a[5], 'PingReq.sourceAddr'),
    nack: bool(a[6], 'PingReq.nack')
  }
}

function suspectOrDead<T extends MsgType.Suspect | MsgType.Dead>(
  a: unknown[], limits: DecodeLimits, type: T
): SuspectMsg | DeadMsg {
  const name = type === MsgType.Suspect ? 'Suspect' : 'Dead'
  need(a, 3, name)
  return {
    type,
    incarnation: incarnation(a[1], `${name}.incarnation`),
    nodeId: id(a[2], limits.maxIdBytes, `${name}.nodeId`),
    fromId: id(a[3], limits.maxIdBytes, `${name}.fromId`)
  } as SuspectMsg | DeadMsg
}

function alive(a: unknown[], limits: DecodeLimits): AliveMsg {
  need(a, 3, 'Alive')
  const msg: AliveMsg = {
    type: MsgType.Alive,
    incarnation: incarnation(a[1], 'Alive.incarnation'),
    nodeId: id(a[2], limits.maxIdBytes, 'Alive.nodeId'),
    addr: addr(a[3], 'Alive.addr')
  }
  if (Array.isArray(a[4])) msg.tags = tagsFromWire(a[4], 'Alive.tags')
  return msg
}

function pushPull(a: unknown[], limits: DecodeLimits, type: PushPullMsg['type']): PushPullMsg {
  need(a, 3, 'PushPull')
  const join = bool(a[1], 'PushPull.join')
  const rows = a[2]
  if (!Array.isArray(rows)) throw bad('PushPull.nodes')
  if (rows.length > limits.maxPushPullNodes) throw new DecodeError('too-many', `${rows.length} push-pull nodes`)
  const nodes: PushNodeState[] = new Array(rows.length)
  for (let i = 0; i < rows.length; i++) nodes[i] = nodeRow(rows[i], limits)
  const userState = bin(a[3], limits.maxUserPayloadBytes, 'PushPull.userState')
  if (a[4] === undefined) return { type, join, nodes, userState }
  if (typeof a[4] !== 'number' || !Number.isSafeInteger(a[4]) || a[4] < 0) throw bad('PushPull.digest')
  return { type, join, nodes, userState, digest: a[4] }
}

function nodeRow(row: unknown, limits: DecodeLimits): PushNodeState {
  if (!Array.isArray(row)) throw bad('PushPull.nodes[]')
  if (row.length < 4) throw new DecodeError('shape', `PushPull row: ${row.length} of 4 fields`)
  const node: PushNodeState = {
    nodeId: id(row[0], limits.maxIdBytes, 'PushPull.nodes[].nodeId'),
    addr: addr(row[1], 'PushPull.nodes[].addr'),
    incarnation: incarnation(row[2], 'PushPull.nodes[].incarnation'),
    state: memberState(row[3], 'PushPull.nodes[].state')
  }
  if (Array.isArray(row[4])) node.tags = tagsFromWire(row[4], 'PushPull.nodes[].tags')
  return node
}

function userStream(a: unknown[], limits: DecodeLimits): UserStreamMsg {
  need(a, 2, 'UserStream')
  return {
    type: MsgType.UserStream,
    tag: uint32(a[1], 'UserStream.tag'),
    payload: bin(a[2], limits.maxUserPayloadBytes, 'UserStream.payload')
  }
}
