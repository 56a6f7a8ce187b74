import { expect } from 'chai'
import { Packr } from 'msgpackr'
import { MAX_DEPTH, safeUnpack, scanValue } from '../../lib/wire/safe-unpack.js'
import { reasonOf } from './wire-fixtures.js'


const unsafe = (bytes: number[]): string => reasonOf(() => safeUnpack(Buffer.from(bytes), 0))
const nested = (depth: number): Buffer => Buffer.concat([Buffer.alloc(depth, 0x91), Buffer.from([1])])

describe('safeUnpack', () => {
  it('decodes the admitted subset', () => {
    const b = Buffer.from([0x97, 0xc0, 0xc2, 0xc3, 0xcd, 0x01, 0x00, 0xa1, 0x78, 0xc4, 0x01, 0xff, 0x90])
    expect(safeUnpack(b, 0)).to.deep.equal([null, false, true, 256, 'x', Buffer.from([0xff]), []])
  })

  it('decodes from an offset and returns the end of the value from scanValue', () => {
    const b = Buffer.from([0xee, 0xee, 0x92, 1, 2])
    expect(scanValue(b, 2)).to.equal(5)
    expect(safeUnpack(b, 2)).to.deep.equal([1, 2])
  })

  it('rejects msgpack ext types wherever they are (field)', () => {
    expect(unsafe([0xd6, 0xff, 0, 0, 0, 1])).to.equal('field') // timestamp -> Date
    expect(unsafe([0x92, 1, 0xd4, 0x00, 0x00])).to.equal('field') // fixext1 type 0 -> undefined
    expect(unsafe([0xc7, 0x01, 0x73, 0x90])).to.equal('field') // ext8 's' -> Set
    expect(unsafe([0x91, 0xc8, 0x00, 0x01, 0x78, 0x00])).to.equal('field') // ext16 'x' -> RegExp
    expect(unsafe([0xc9, 0, 0, 0, 1, 0x42, 0x01])).to.equal('field') // ext32 'B' -> BigInt
  })

  it('rejects msgpackr record definitions, which msgpackr decodes even with useRecords: false', () => {
    const withRecords = new Packr({ useRecords: true })
    const bytes = Buffer.from(withRecords.pack([{ a: 1 }, { a: 2 }, { a: 3 }, { a: 4 }]))
    expect(bytes.includes(0x72)).to.equal(true) // ext 0x72 ('r') record definition
    expect(reasonOf(() => safeUnpack(bytes, 0))).to.equal('field')
  })

  it('rejects maps, including __proto__ keys (shape)', () => {
    expect(unsafe([0x81, 0xa9, ...Buffer.from('__proto__'), 0x81, 0xa1, 0x78, 1])).to.equal('shape')
    expect(unsafe([0x91, 0xde, 0, 0])).to.equal('shape')
    expect(unsafe([0xdf, 0, 0, 0, 0])).to.equal('shape')
    expect(({} as Record<string, unknown>).x).to.equal(undefined)
  })

  it('rejects the never-used token 0xc1 and truncated values (msgpack)', () => {
    expect(unsafe([0xc1])).to.equal('msgpack')
    expect(unsafe([])).to.equal('msgpack')
    expect(unsafe([0x92, 1])).to.equal('msgpack')
    expect(unsafe([0xa3, 0x61])).to.equal('msgpack')
    expect(unsafe([0xc4, 0x05, 1])).to.equal('msgpack')
    expect(unsafe([0xc6, 0xff, 0xff, 0xff, 0xff, 1])).to.equal('msgpack')
    expect(unsafe([0xdb, 0x00])).to.equal('msgpack')
    expect(unsafe([0xcb, 0, 0, 0])).to.equal('msgpack')
    expect(unsafe([0xdd, 0xff, 0xff, 0xff, 0xff, 1, 2, 3])).to.equal('msgpack')
  })

  it('rejects bytes after the value (trailing)', () => {
    expect(unsafe([0x90, 0x90])).to.equal('trailing')
    expect(unsafe([1, 0])).to.equal('trailing')
  })

  it(`admits nesting up to MAX_DEPTH (${MAX_DEPTH}) and rejects deeper, without recursion`, () => {
    expect(safeUnpack(nested(MAX_DEPTH), 0)).to.be.an('array')
    expect(reasonOf(() => safeUnpack(nested(MAX_DEPTH + 1), 0))).to.equal('shape')
    expect(reasonOf(() => safeUnpack(nested(1_000_000), 0))).to.equal('shape')
    // an empty array one level too deep is rejected as well
    const emptyDeep = Buffer.concat([Buffer.alloc(MAX_DEPTH, 0x91), Buffer.from([0x90])])
    expect(reasonOf(() => safeUnpack(emptyDeep, 0))).to.equal('shape')
  })

  it('returns bins as views into the input, as Buffers even from a Uint8Array', () => {
    const u8 = new Uint8Array([0x91, 0xc4, 0x02, 7, 8])
    const [bin] = safeUnpack(u8, 0) as [Buffer]
    expect(Buffer.isBuffer(bin)).to.equal(true)
    expect(bin.buffer).to.equal(u8.buffer)
    expect(bin.byteOffset).to.equal(3)
  })
})
