import { expect } from 'chai'
import { decodeFrame, decodePacket, isWireAddress } from '../../lib/wire/codec.js'
import { MsgType } from '../../lib/wire/messages.js'
import { frameOf, mp, packetOf, rawPacket, reasonOf } from './wire-fixtures.js'


const pkt = (...messages: unknown[]): string => reasonOf(() => decodePacket(packetOf(...messages)))
const frm = (message: unknown): string => reasonOf(() => decodeFrame(frameOf(message)))

/** msgpack bytes with a hand-written scalar in place: `[type, <bytes>, ...rest]`. */
function withRaw(type: number, scalar: number[], rest: unknown[]): Buffer {
  const tail = Buffer.concat(rest.map(mp))
  const head = Buffer.from([0x91, 0x90 + 2 + rest.length, type, ...scalar])
  return rawPacket(Buffer.concat([head, tail]))
}

describe('message validation', () => {
  describe('type confusion in scalar fields (field)', () => {
    const cases: Array<[string, unknown[]]> = [
      ['string seq', [2, '1']],
      ['float seq', [2, 1.5]],
      ['negative seq', [2, -1]],
      ['seq 2^32', [2, 2 ** 32]],
      ['NaN seq', [2, NaN]],
      ['Infinity seq', [2, Infinity]],
      ['null seq', [2, null]],
      ['boolean seq', [3, true]],
      ['array seq', [2, [1]]],
      ['bin seq', [2, Buffer.from([1])]],
      ['negative incarnation', [5, -1, 'a', 'a:1']],
      ['fractional incarnation', [5, 0.5, 'a', 'a:1']],
      ['unsafe incarnation', [5, 2 ** 53, 'a', 'a:1']],
      ['huge incarnation', [4, 1e300, 'a', 'b']],
      ['number id', [4, 1, 7, 'b']],
      ['empty id', [6, 1, 'a', '']],
      ['bin id', [6, 1, Buffer.from('a'), 'b']],
      ['nested id', [6, 1, ['a'], 'b']],
      ['bad address', [5, 1, 'a', 'no-port']],
      ['number address', [5, 1, 'a', 7946]],
      ['numeric nack', [1, 1, 't', 't:1', 's', 's:1', 1]],
      ['null nack', [1, 1, 't', 't:1', 's', 's:1', null]],
      ['string payload', [7, 'hello']],
      ['array payload', [7, [1, 2]]],
      ['null payload', [7, null]]
    ]
    for (const [name, msg] of cases) it(name, () => expect(pkt(msg)).to.equal('field'))

    it('64-bit integers beyond 2^53 (uint64 / int64 encodings)', () => {
      const u64 = [0xcf, 0x00, 0x20, 0, 0, 0, 0, 0, 1] // 2^53 + 1
      expect(reasonOf(() => decodePacket(withRaw(MsgType.Alive, u64, ['a', 'a:1'])))).to.equal('field')
      const max = [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
      expect(reasonOf(() => decodePacket(withRaw(MsgType.Alive, max, ['a', 'a:1'])))).to.equal('field')
      const neg = [0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] // -1
      expect(reasonOf(() => decodePacket(withRaw(MsgType.Alive, neg, ['a', 'a:1'])))).to.equal('field')
      const ok = [0xcf, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] // 2^53 - 1
      expect(decodePacket(withRaw(MsgType.Alive, ok, ['a', 'a:1']))[0]).to.include({ incarnation: 2 ** 53 - 1 })
      const u64seq = [0xcf, 0, 0, 0, 0, 0, 0, 0, 7] // small value in a wide encoding is still a valid seq
      expect(decodePacket(withRaw(MsgType.Ack, u64seq, []))[0]).to.deep.equal({ type: MsgType.Ack, seq: 7 })
    })

    it('float encodings: integral floats are accepted, -0 is normalised to 0', () => {
      const f64 = (v: number): number[] => { const b = Buffer.alloc(8); b.writeDoubleBE(v); return [0xcb, ...b] }
      expect(decodePacket(withRaw(MsgType.Ack, f64(3), []))[0]).to.deep.equal({ type: MsgType.Ack, seq: 3 })
      const [ack] = decodePacket(withRaw(MsgType.Ack, f64(-0), [])) as Array<{ seq: number }>
      expect(Object.is(ack!.seq, 0)).to.equal(true)
      expect(reasonOf(() => decodePacket(withRaw(MsgType.Ack, f64(NaN), [])))).to.equal('field')
    })
  })

  describe('ids', () => {
    it('accepts up to maxIdBytes UTF-8 bytes and rejects one more', () => {
      expect(decodePacket(packetOf([4, 1, 'a'.repeat(256), 'b']))).to.have.length(1)
      expect(pkt([4, 1, 'a'.repeat(257), 'b'])).to.equal('field')
      expect(decodePacket(packetOf([4, 1, '€'.repeat(85), 'b']))).to.have.length(1) // 255 bytes
      expect(pkt([4, 1, '€'.repeat(86), 'b'])).to.equal('field') // 258 bytes
    })
  })

  describe('addresses', () => {
    const good = ['a:0', '127.0.0.1:65535', 'host.example-1.com:80', '[::1]:7946', '[fe80::1%eth0]:1',
      '[::ffff:1.2.3.4]:5', `${'h'.repeat(294)}:65535`]
    const bad = ['host', 'host:', ':80', 'host:65536', 'host:99999', 'host:-1', 'host:080', 'host:1 ', ' host:1',
      'ho st:1', '::1:80', '[::1:80', '[]:1', '[zz]:1', 'host:1:2', `${'h'.repeat(295)}:65535`, 'h\n:1', 'é:1']
    for (const a of good) it(`accepts ${a.slice(0, 40)}`, () => expect(isWireAddress(a)).to.equal(true))
    for (const a of bad) it(`rejects ${JSON.stringify(a.slice(0, 40))}`, () => expect(isWireAddress(a)).to.equal(false))
    it('rejects non-strings', () => {
      for (const v of [null, undefined, 80, ['a:1'], Buffer.from('a:1')]) expect(isWireAddress(v)).to.equal(false)
    })
  })

  describe('structure', () => {
    it('rejects messages shorter than their schema (shape)', () => {
      expect(pkt([0, 1, 'b', 'a'])).to.equal('shape')
      expect(pkt([1, 1, 't', 't:1', 's', 's:1'])).to.equal('shape')
      expect(pkt([7])).to.equal('shape')
      expect(frm([8, true, []])).to.equal('shape')
      expect(frm([10, 1])).to.equal('shape')
      expect(frm([8, true, [['a', 'a:1', 1]], Buffer.alloc(0)])).to.equal('shape')
    })

    it('rejects bad push-pull rows and node lists (field)', () => {
      expect(frm([8, true, 'nodes', Buffer.alloc(0)])).to.equal('field')
      expect(frm([8, true, ['a', 'a:1', 1, 0], Buffer.alloc(0)])).to.equal('field')
      expect(frm([8, true, [['a', 'a:1', 1, 4]], Buffer.alloc(0)])).to.equal('field')
      expect(frm([8, true, [['a', 'a:1', 1, 1.5]], Buffer.alloc(0)])).to.equal('field')
      expect(frm([8, true, [['a', 'a:1', 1, '0']], Buffer.alloc(0)])).to.equal('field')
      expect(frm([8, 1, [], Buffer.alloc(0)])).to.equal('field')
      expect(frm([8, true, [], 'state'])).to.equal('field')
      expect(frm([10, -1, Buffer.alloc(0)])).to.equal('field')
    })

    it('rejects unknown and non-numeric types (type)', () => {
      for (const t of [11, 255, -1, 1.5, '0', null, true, [0], Buffer.from([0])]) {
        expect(pkt([t, 1]), String(t)).to.equal('type')
        expect(frm([t, 1]), String(t)).to.equal('type')
      }
    })

    it('ignores extra trailing fields (forward compatibility), even nested ones', () => {
      const [p] = decodePacket(packetOf([0, 1, 'b', 'a', 'a:1', 'future', [1, [2, null]], 3.5]))
      expect(p).to.deep.equal({ type: MsgType.Ping, seq: 1, targetId: 'b', sourceId: 'a', sourceAddr: 'a:1' })
      // index 4 of a push-pull is its (appended) table digest; what follows it is ignored
      const f = decodeFrame(frameOf([9, false, [['a', 'a:1', 1, 0, 'extra']], Buffer.from([5]), 42, 'future']))
      expect(f).to.deep.equal({
        type: MsgType.PushPullReply, join: false,
        nodes: [{ nodeId: 'a', addr: 'a:1', incarnation: 1, state: 0 }], userState: Buffer.from([5]), digest: 42
      })
    })

    it('rejects a msgpack map even as an extra trailing field (shape)', () => {
      expect(pkt([2, 1, { a: 1 }])).to.equal('shape')
    })
  })
})
