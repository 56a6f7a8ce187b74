import { DecodeError } from '../../lib/wire/decode-error.js'
/**
 * Shared fixtures for the wire specs: one sample of every message type,
 * helpers that build raw (possibly invalid) datagrams and frames from plain
 * arrays, and an independent well-formedness check for decoded messages.
 */
import { expect } from 'chai'
import { Packr } from 'msgpackr'
import { MemberState, MsgType, type Msg, type PacketMsg, type StreamMsg } from '../../lib/wire/messages.js'

/** A permissive packer for hand-made (often invalid) messages. */
const raw = new Packr({ useRecords: false, moreTypes: false })

/** msgpack bytes of any value, copied out of msgpackr's scratch buffer. */
export function mp(value: unknown): Buffer {
  return Buffer.from(raw.pack(value))
}

/** A datagram with header `[0xbc, 0xac, 1, 0]` around a hand-made body (any bytes). */
export function rawPacket(body: Uint8Array, header: number[] = [0xbc, 0xac, 1, 0]): Buffer {
  return Buffer.concat([Buffer.from(header), body])
}

/** A datagram whose messages are the given plain arrays (or any values). */
export function packetOf(...messages: unknown[]): Buffer {
  return rawPacket(mp(messages))
}

/** A stream frame holding one plain value. */
export function frameOf(message: unknown): Buffer {
  return Buffer.concat([Buffer.from([1]), mp(message)])
}

export const packetSamples: PacketMsg[] = [
  { type: MsgType.Ping, seq: 0, targetId: 'node-b', sourceId: 'node-a', sourceAddr: '10.0.0.1:7946' },
  { type: MsgType.Ping, seq: 0xffffffff, targetId: 'ü€😀', sourceId: 'x', sourceAddr: '[::1]:0' },
  {
    type: MsgType.PingReq, seq: 77, targetId: 'c', targetAddr: 'host-c.example:65535',
    sourceId: 'a', sourceAddr: '[fe80::1%eth0]:7946', nack: true
  },
  { type: MsgType.PingReq, seq: 1, targetId: 'c', targetAddr: 'c:1', sourceId: 'a', sourceAddr: 'a:2', nack: false },
  { type: MsgType.Ack, seq: 12345 },
  { type: MsgType.Nack, seq: 65536 },
  { type: MsgType.Suspect, incarnation: 0, nodeId: 'b', fromId: 'a' },
  { type: MsgType.Alive, incarnation: Number.MAX_SAFE_INTEGER, nodeId: 'b', addr: '127.0.0.1:1' },
  { type: MsgType.Dead, incarnation: 2 ** 32 + 5, nodeId: 'b', fromId: 'b' },
  { type: MsgType.User, payload: Buffer.alloc(0) },
  { type: MsgType.User, payload: Buffer.from('hello delta') },
  { type: MsgType.User, payload: Buffer.alloc(300, 0xab) }
]

export const streamSamples: StreamMsg[] = [
  { type: MsgType.Ping, seq: 9, targetId: 'b', sourceId: 'a', sourceAddr: 'a.local:7946' },
  { type: MsgType.Ack, seq: 9 },
  {
    type: MsgType.PushPull, join: true,
    nodes: [
      { nodeId: 'a', addr: '10.0.0.1:7946', incarnation: 3, state: MemberState.Alive },
      { nodeId: 'b', addr: '[2001:db8::2]:7946', incarnation: 0, state: MemberState.Suspect },
      { nodeId: 'c', addr: 'c:1', incarnation: 7, state: MemberState.Dead },
      { nodeId: 'd', addr: 'd:2', incarnation: 1, state: MemberState.Left }
    ],
    userState: Buffer.from([1, 2, 3])
  },
  { type: MsgType.PushPullReply, join: false, nodes: [], userState: Buffer.alloc(0) },
  { type: MsgType.UserStream, tag: 0, payload: Buffer.alloc(70_000, 1) },
  { type: MsgType.UserStream, tag: 0xffffffff, payload: Buffer.from('sync') }
]

const isId = (v: unknown): boolean => typeof v === 'string' && v.length > 0 && Buffer.byteLength(v) <= 256
const isAddr = (v: unknown): boolean => typeof v === 'string' && /:\d+$/.test(v) && v.length <= 300
const isU32 = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff
const isInc = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
const isBuf = (v: unknown): boolean => Buffer.isBuffer(v)

/**
 * Asserts, independently of the codec's own validation, that a decoded
 * message has exactly the fields of its type with sane values. (Plain
 * checks, not chai, so the fuzz loops stay fast.)
 */
export function expectWellFormed(m: Msg, context: 'packet' | 'stream'): void {
  const allowed = context === 'packet' ? [0, 1, 2, 3, 4, 5, 6, 7] : [0, 2, 8, 9, 10]
  const keys = Object.keys(m).sort().join(',')
  const ok = (fields: string, ...checks: boolean[]): void => {
    if (!allowed.includes(m.type) || keys !== fields || !checks.every(Boolean)) {
      expect.fail(`malformed ${context} message: ${JSON.stringify(m)}`)
    }
  }
  switch (m.type) {
    case MsgType.Ping:
      return ok('seq,sourceAddr,sourceId,targetId,type', isU32(m.seq), isId(m.targetId), isId(m.sourceId), isAddr(m.sourceAddr))
    case MsgType.PingReq:
      return ok('nack,seq,sourceAddr,sourceId,targetAddr,targetId,type', isU32(m.seq), isId(m.targetId),
        isAddr(m.targetAddr), isId(m.sourceId), isAddr(m.sourceAddr), typeof m.nack === 'boolean')
    case MsgType.Ack:
    case MsgType.Nack:
      return ok('seq,type', isU32(m.seq))
    case MsgType.Suspect:
    case MsgType.Dead:
      return ok('fromId,incarnation,nodeId,type', isInc(m.incarnation), isId(m.nodeId), isId(m.fromId))
    case MsgType.Alive:
      return ok('addr,incarnation,nodeId,type', isInc(m.incarnation), isId(m.nodeId), isAddr(m.addr))
    case MsgType.User:
      return ok('payload,type', isBuf(m.payload))
    case MsgType.PushPull:
    case MsgType.PushPullReply:
      return ok('join,nodes,type,userState', typeof m.join === 'boolean', Array.isArray(m.nodes), isBuf(m.userState),
        ...m.nodes.map((n) => isId(n.nodeId) && isAddr(n.addr) && isInc(n.incarnation) && [0, 1, 2, 3].includes(n.state)))
    case MsgType.UserStream:
      return ok('payload,tag,type', isU32(m.tag), isBuf(m.payload))
    default:
      expect.fail(`unknown message type: ${JSON.stringify(m)}`)
  }
}

/** Runs `fn`, expects a DecodeError, and returns its reason. */
export function reasonOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).to.be.instanceOf(DecodeError)
    return (err as DecodeError).reason
  }
  throw new Error('expected a DecodeError')
}
