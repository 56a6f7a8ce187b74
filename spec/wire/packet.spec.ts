import { expect } from 'chai'
import {
  DROP_REASONS,
  PACKET_HEADER_BYTES,
  arrayHeaderBytes,
  buildPacket,
  decodePacket,
  encodeMessage,
  encodeUser,
  packetBytes,
  type DecodeLimits
} from '../../lib/wire/codec.js'
import { MsgType } from '../../lib/wire/messages.js'
import { NonceSequence, openEnvelope, sealEnvelope } from '../../lib/transport/envelope.js'
import { HEADER_BYTES, PROTOCOL_VERSION, hasHeader } from '../../lib/transport/header.js'
import { mp, packetOf, rawPacket, streamSamples, reasonOf } from './wire-fixtures.js'


const limits = (over: Partial<DecodeLimits>): DecodeLimits => ({
  maxMessagesPerPacket: 256, maxPushPullNodes: 100_000, maxIdBytes: 256, maxUserPayloadBytes: 64 << 20, ...over
})

const ping = [0, 1, 'b', 'a', 'a:1']

describe('datagrams', () => {
  it('start with the transport header the envelope reads (one definition)', () => {
    const pkt = buildPacket([encodeMessage({ type: MsgType.Ping, seq: 1, targetId: 'b', sourceId: 'a', sourceAddr: 'a:1' })])
    expect(PACKET_HEADER_BYTES).to.equal(HEADER_BYTES)
    expect(hasHeader(pkt, PROTOCOL_VERSION)).to.equal(true)
    expect(pkt[3]).to.equal(0)
    // a labelled envelope around the body opens to the same body, and the packet decodes after it
    const label = Buffer.from('c1')
    const sealed = sealEnvelope(pkt.subarray(HEADER_BYTES), PROTOCOL_VERSION, label, undefined, new NonceSequence())
    const opened = openEnvelope(sealed, { keys: [], label, allowPlaintext: false })
    expect(typeof opened).to.equal('object')
    expect(Buffer.concat([pkt.subarray(0, HEADER_BYTES), (opened as { payload: Buffer }).payload]).equals(pkt)).to.equal(true)
  })

  describe('arrayHeaderBytes / packetBytes', () => {
    const table: Array<[number, number]> = [[0, 1], [1, 1], [15, 1], [16, 3], [65535, 3], [65536, 5], [2 ** 32 - 1, 5]]
    for (const [count, bytes] of table) {
      it(`${count} elements -> ${bytes} header bytes`, () => expect(arrayHeaderBytes(count)).to.equal(bytes))
    }
    it('rejects counts that are negative, fractional or above 2^32 - 1', () => {
      for (const c of [-1, 1.5, 2 ** 32, NaN]) expect(() => arrayHeaderBytes(c), String(c)).to.throw(RangeError)
    })
    it('packetBytes = header + array header + body', () => {
      expect(packetBytes(3, 100)).to.equal(PACKET_HEADER_BYTES + 1 + 100)
      expect(packetBytes(16, 100)).to.equal(PACKET_HEADER_BYTES + 3 + 100)
    })
  })

  describe('buildPacket', () => {
    for (const count of [0, 1, 15, 16, 17, 300, 65535, 65536]) {
      it(`has exactly the predicted size with ${count} messages, and decodes`, () => {
        const encoded = Array.from({ length: count }, (_, i) =>
          i % 3 === 0 ? encodeUser(Buffer.alloc(i % 7)) : encodeMessage({ type: MsgType.Ack, seq: i }))
        const sum = encoded.reduce((s, e) => s + e.length, 0)
        const pkt = buildPacket(encoded)
        expect(pkt.length).to.equal(sum + PACKET_HEADER_BYTES + arrayHeaderBytes(count))
        expect(pkt.length).to.equal(packetBytes(count, sum))
        expect([...pkt.subarray(0, 4)]).to.deep.equal([0xbc, 0xac, 1, 0])
        const msgs = decodePacket(pkt, limits({ maxMessagesPerPacket: 70_000 }))
        expect(msgs).to.have.length(count)
        if (count > 1) expect(msgs[1]).to.deep.equal({ type: MsgType.Ack, seq: 1 })
      })
    }

    it('reuses one encoding in many packets without re-encoding', () => {
      const delta = encodeUser(Buffer.from('k=v'))
      const a = buildPacket([delta, encodeMessage({ type: MsgType.Ack, seq: 1 })])
      const b = buildPacket([encodeMessage({ type: MsgType.Nack, seq: 2 }), delta])
      expect(decodePacket(a)[0]).to.deep.equal({ type: MsgType.User, payload: Buffer.from('k=v') })
      expect(decodePacket(b)[1]).to.deep.equal({ type: MsgType.User, payload: Buffer.from('k=v') })
    })
  })

  describe('rejections (one hand-made input per reason)', () => {
    const good = buildPacket([encodeMessage({ type: MsgType.Ack, seq: 1 })])
    const cases: Array<[string, () => unknown]> = [
      ['short', () => decodePacket(Buffer.alloc(0))],
      ['short', () => decodePacket(good.subarray(0, 4))],
      ['magic', () => decodePacket(rawPacket(mp([[2, 1]]), [0xbc, 0xad, 1, 0]))],
      ['magic', () => decodePacket(rawPacket(mp([[2, 1]]), [0, 0xac, 1, 0]))],
      ['version', () => decodePacket(rawPacket(mp([[2, 1]]), [0xbc, 0xac, 2, 0]))],
      ['version', () => decodePacket(rawPacket(mp([[2, 1]]), [0xbc, 0xac, 0, 0]))],
      ['flags', () => decodePacket(rawPacket(mp([[2, 1]]), [0xbc, 0xac, 1, 1]))],
      ['flags', () => decodePacket(rawPacket(mp([[2, 1]]), [0xbc, 0xac, 1, 0x80]))],
      ['msgpack', () => decodePacket(good.subarray(0, good.length - 1))],
      ['msgpack', () => decodePacket(rawPacket(Buffer.from([0x91, 0x92, 2, 0xc1])))],
      ['msgpack', () => decodePacket(rawPacket(Buffer.from([0xdc, 0])))],
      ['trailing', () => decodePacket(Buffer.concat([good, Buffer.from([0xc0])]))],
      ['shape', () => decodePacket(rawPacket(mp(5)))],
      ['shape', () => decodePacket(rawPacket(Buffer.from([0x81, 0xa1, 0x61, 1])))],
      ['shape', () => decodePacket(packetOf([]))],
      ['shape', () => decodePacket(packetOf(2))],
      ['shape', () => decodePacket(packetOf([2]))],
      ['shape', () => decodePacket(packetOf([0, 1, 'b', 'a']))],
      ['type', () => decodePacket(packetOf([11, 1]))],
      ['field', () => decodePacket(packetOf([2, 'one']))],
      ['too-many', () => decodePacket(packetOf(...Array.from({ length: 257 }, () => [2, 1])))],
      ['too-many', () => decodePacket(rawPacket(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff])))],
      ['too-large', () => decodePacket(buildPacket([encodeUser(Buffer.alloc(11))]), limits({ maxUserPayloadBytes: 10 }))]
    ]
    for (const [reason, fn] of cases) {
      it(`${reason}: ${fn.toString().slice(6, 90)}`, () => expect(reasonOf(fn)).to.equal(reason))
    }

    it('covers every documented reason', () => {
      const covered = new Set(cases.map(([r]) => r))
      expect([...DROP_REASONS].filter((r) => !covered.has(r))).to.deep.equal([])
    })

    it('a packet at the message limit decodes; a huge declared count is cut off by the scan when limits allow it', () => {
      expect(decodePacket(packetOf(...Array.from({ length: 256 }, () => [2, 1])))).to.have.length(256)
      const lying = rawPacket(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0x92, 2, 1]))
      expect(reasonOf(() => decodePacket(lying, limits({ maxMessagesPerPacket: Infinity })))).to.equal('msgpack')
    })

    it('rejects the whole datagram when one message is bad', () => {
      expect(reasonOf(() => decodePacket(packetOf([2, 1], [2, 2], [2, -2], [2, 3])))).to.equal('field')
    })

    it('rejects stream-only messages in a datagram (type)', () => {
      for (const msg of streamSamples) {
        if (msg.type === MsgType.Ping || msg.type === MsgType.Ack) continue
        const pkt = buildPacket([encodeMessage({ type: MsgType.Ack, seq: 1 }), encodeMessage(msg)])
        expect(reasonOf(() => decodePacket(pkt)), MsgType[msg.type]).to.equal('type')
      }
    })

    it('accepts Ping and Ack both in datagrams and in frames', () => {
      expect(decodePacket(packetOf(ping, [2, 1]))).to.have.length(2)
    })
  })
})
