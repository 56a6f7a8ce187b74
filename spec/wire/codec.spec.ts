import { expect } from 'chai'
import {
  buildPacket,
  decodeFrame,
  decodePacket,
  encodeFrame,
  encodeMessage,
  encodeUser,
  userOverhead
} from '../../lib/wire/codec.js'
import { MsgType, type PacketMsg, type StreamMsg } from '../../lib/wire/messages.js'
import { expectWellFormed, frameOf, packetSamples, streamSamples, reasonOf } from './wire-fixtures.js'


describe('wire codec', () => {
  describe('messages in datagrams', () => {
    for (const msg of packetSamples) {
      it(`round-trips ${MsgType[msg.type]} ${JSON.stringify(msg).slice(0, 60)}`, () => {
        const [back, ...rest] = decodePacket(buildPacket([encodeMessage(msg)]))
        expect(rest).to.have.length(0)
        expect(back).to.deep.equal(msg)
        expectWellFormed(back!, 'packet')
      })
    }

    it('encodes the documented array layout', () => {
      const ping = encodeMessage({ type: MsgType.Ping, seq: 5, targetId: 't', sourceId: 's', sourceAddr: 'h:1' })
      expect([...ping]).to.deep.equal([0x95, 0, 5, 0xa1, 0x74, 0xa1, 0x73, 0xa3, 0x68, 0x3a, 0x31])
      const ack = encodeMessage({ type: MsgType.Ack, seq: 300 })
      expect([...ack]).to.deep.equal([0x92, 2, 0xcd, 0x01, 0x2c])
    })

    it('returns exact-size buffers that do not share memory with later encodings', () => {
      const a = encodeMessage({ type: MsgType.Ack, seq: 1 })
      const b = encodeMessage({ type: MsgType.Ack, seq: 2 })
      expect(a.byteLength).to.equal(3)
      expect([...a]).to.deep.equal([0x92, 2, 1])
      expect([...b]).to.deep.equal([0x92, 2, 2])
    })

    it('decodes all of a packet holding every packet type, in order', () => {
      const msgs = decodePacket(buildPacket(packetSamples.map(encodeMessage)))
      expect(msgs).to.deep.equal(packetSamples)
    })

    it('returns payloads as zero-copy Buffer views, also from a plain Uint8Array', () => {
      const pkt = buildPacket([encodeUser(Buffer.from('abc'))])
      const u8 = new Uint8Array(pkt.buffer, pkt.byteOffset, pkt.byteLength)
      const [msg] = decodePacket(u8) as [PacketMsg]
      expect(msg.type).to.equal(MsgType.User)
      const payload = (msg as { payload: Buffer }).payload
      expect(Buffer.isBuffer(payload)).to.equal(true)
      expect(payload.buffer).to.equal(pkt.buffer)
      expect(payload.toString()).to.equal('abc')
    })

    it('leaves the caller\'s buffer object untouched', () => {
      const pkt = buildPacket([encodeMessage({ type: MsgType.Ack, seq: 1 })])
      const keysBefore = Object.keys(pkt)
      decodePacket(pkt)
      expect(Object.keys(pkt)).to.deep.equal(keysBefore)
    })
  })

  describe('encodeUser', () => {
    for (const n of [0, 1, 255, 256, 65535, 65536, 100_000]) {
      it(`matches encodeMessage and userOverhead for a ${n}-byte payload`, () => {
        const payload = Buffer.alloc(n, n & 0xff)
        const fast = encodeUser(payload)
        expect(fast.equals(encodeMessage({ type: MsgType.User, payload }))).to.equal(true)
        expect(fast.length - n).to.equal(userOverhead(n))
        const [back] = decodePacket(buildPacket([fast]))
        expect((back as { payload: Buffer }).payload.equals(payload)).to.equal(true)
      })
    }

    it('accepts a plain Uint8Array and a view with an offset', () => {
      const backing = new Uint8Array([9, 9, 1, 2, 3, 9])
      const view = backing.subarray(2, 5)
      expect([...encodeUser(view)]).to.deep.equal([0x92, 7, 0xc4, 3, 1, 2, 3])
      expect(encodeMessage({ type: MsgType.User, payload: view as Buffer }).equals(encodeUser(view))).to.equal(true)
    })

    it('userOverhead steps at the bin8/bin16/bin32 boundaries', () => {
      expect([0, 255, 256, 65535, 65536, 2 ** 31].map(userOverhead)).to.deep.equal([4, 4, 5, 5, 7, 7])
    })
  })

  describe('frames', () => {
    for (const msg of streamSamples) {
      it(`round-trips ${MsgType[msg.type]}`, () => {
        const frame = encodeFrame(msg)
        expect(frame[0]).to.equal(1)
        expect(frame.subarray(1).equals(encodeMessage(msg))).to.equal(true)
        const back = decodeFrame(frame)
        expect(back).to.deep.equal(msg)
        expectWellFormed(back, 'stream')
      })
    }

    it('rejects packet-only messages in a frame (type)', () => {
      for (const msg of packetSamples) {
        if (msg.type === MsgType.Ping || msg.type === MsgType.Ack) continue
        const frame = Buffer.concat([Buffer.from([1]), encodeMessage(msg)])
        expect(reasonOf(() => decodeFrame(frame)), MsgType[msg.type]).to.equal('type')
      }
    })

    it('refuses to encode a packet-only message as a frame', () => {
      const user = { type: MsgType.User, payload: Buffer.alloc(1) } as unknown as StreamMsg
      expect(() => encodeFrame(user)).to.throw(TypeError)
    })

    it('rejects short, wrong-version, trailing and malformed frames', () => {
      const good = encodeFrame({ type: MsgType.Ack, seq: 1 })
      expect(reasonOf(() => decodeFrame(Buffer.alloc(0)))).to.equal('short')
      expect(reasonOf(() => decodeFrame(Buffer.from([1])))).to.equal('short')
      expect(reasonOf(() => decodeFrame(Buffer.from([2, ...good.subarray(1)])))).to.equal('version')
      expect(reasonOf(() => decodeFrame(Buffer.concat([good, Buffer.from([0])])))).to.equal('trailing')
      expect(reasonOf(() => decodeFrame(good.subarray(0, good.length - 1)))).to.equal('msgpack')
      expect(reasonOf(() => decodeFrame(frameOf([11, 1])))).to.equal('type')
      expect(reasonOf(() => decodeFrame(frameOf('ack')))).to.equal('shape')
    })

    it('applies push-pull and payload limits', () => {
      const pp = encodeFrame(streamSamples[2]!)
      const limits = { maxMessagesPerPacket: 256, maxPushPullNodes: 3, maxIdBytes: 256, maxUserPayloadBytes: 1 << 20 }
      expect(reasonOf(() => decodeFrame(pp, limits))).to.equal('too-many')
      expect(decodeFrame(pp, { ...limits, maxPushPullNodes: 4 })).to.deep.equal(streamSamples[2])
      const big = encodeFrame(streamSamples[4]!)
      expect(reasonOf(() => decodeFrame(big, { ...limits, maxUserPayloadBytes: 69_999 }))).to.equal('too-large')
      expect(reasonOf(() => decodeFrame(pp, { ...limits, maxPushPullNodes: 4, maxUserPayloadBytes: 2 }))).to.equal('too-large')
    })

    it('decodes a push-pull with many rows', () => {
      const nodes = Array.from({ length: 5000 }, (_, i) => ({ nodeId: `n${i}`, addr: `10.0.${i >> 8}.${i & 255}:7946`, incarnation: i, state: i % 4 }))
      const msg: StreamMsg = { type: MsgType.PushPull, join: false, nodes, userState: Buffer.alloc(10) }
      expect(decodeFrame(encodeFrame(msg))).to.deep.equal(msg)
    })
  })

  describe('encoder checks', () => {
    const bad: Array<[string, unknown]> = [
      ['negative seq', { type: MsgType.Ack, seq: -1 }],
      ['float seq', { type: MsgType.Ack, seq: 1.5 }],
      ['empty id', { type: MsgType.Suspect, incarnation: 1, nodeId: '', fromId: 'a' }],
      ['bad address', { type: MsgType.Alive, incarnation: 1, nodeId: 'a', addr: 'nohost' }],
      ['unsafe incarnation', { type: MsgType.Alive, incarnation: 2 ** 53, nodeId: 'a', addr: 'a:1' }],
      ['bad state', { type: MsgType.PushPull, join: true, nodes: [{ nodeId: 'a', addr: 'a:1', incarnation: 0, state: 9 }], userState: Buffer.alloc(0) }],
      ['unknown type', { type: 42, seq: 1 }]
    ]
    for (const [name, msg] of bad) {
      it(`throws TypeError (not DecodeError) for ${name}`, () => {
        expect(() => encodeMessage(msg as PacketMsg)).to.throw(TypeError)
      })
    }
  })
})
