import { expect } from 'chai'
import fc from 'fast-check'
import { isDeepStrictEqual } from 'node:util'
import { decodeValue, encodeHeldScalar, encodeValue, isValueBytes, MAX_VALUE_DEPTH, packValue } from '../../lib/store/value-codec.js'
import { isWellFormed } from '../../lib/wire/utf8.js'

function nested(depth: number): unknown {
  let v: unknown = 1
  for (let i = 0; i < depth; i++) v = [v]
  return v
}

describe('value codec', () => {
  const roundTrips: Array<[why: string, value: unknown]> = [
    ['null', null],
    ['true', true],
    ['zero', 0],
    ['negative int', -123456],
    ['large safe int', 2 ** 53 - 1],
    ['float', 3.25],
    ['NaN', NaN],
    ['infinity', -Infinity],
    ['empty string', ''],
    ['unicode string', 'héllo ☃ 𝄞'],
    ['long string', 'x'.repeat(70_000)],
    ['bigint', 5n],
    ['bigint near int64 min', -(2n ** 63n)],
    ['bigint near uint64 max', 2n ** 64n - 1n],
    ['Buffer', Buffer.from([1, 2, 3])],
    ['empty Buffer', Buffer.alloc(0)],
    ['Date', new Date(1_700_000_000_123)],
    ['Date before 1970', new Date(-1)],
    ['Date far ahead', new Date(8.64e15)],
    ['array', [1, 'two', null, [3]]],
    ['empty object', {}],
    ['plain object', { a: 1, b: { c: [true, 'x'] }, 'key with spaces': 2 }],
    ['null-prototype object', Object.assign(Object.create(null) as object, { a: 1 })],
    ['nested undefined', { a: undefined, b: [undefined, 1] }],
    ['object with many keys', Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i]))],
    ['deep but allowed', nested(MAX_VALUE_DEPTH - 1)]
  ]
  for (const [why, value] of roundTrips) {
    it(`round-trips ${why}`, () => {
      const bytes = encodeValue(value)
      expect(isValueBytes(bytes)).to.equal(true)
      expect(decodeValue(bytes)).to.deep.equal(value)
    })
  }

  it('reads a Uint8Array back as a Buffer', () => {
    const out = decodeValue(encodeValue(new Uint8Array([9, 8])))
    expect(Buffer.isBuffer(out)).to.equal(true)
    expect([...(out as Buffer)]).to.deep.equal([9, 8])
  })

  it('returns a buffer of its own, not a view into msgpackr scratch space', () => {
    const small = encodeValue('a'.repeat(100))
    expect(small.buffer.byteLength).to.be.at.most(Buffer.poolSize) // Node's usual small-buffer pool
    const large = encodeValue('b'.repeat(10_000))
    expect(large.buffer.byteLength).to.equal(large.length)
    for (let i = 0; i < 1000; i++) encodeValue(`filler ${i}`)
    expect(decodeValue(small)).to.equal('a'.repeat(100))
  })

  it('decoded Buffers do not alias the stored bytes', () => {
    const bytes = encodeValue({ data: Buffer.from('abc') })
    const copy = Buffer.from(bytes)
    const out = decodeValue(bytes) as { data: Buffer }
    out.data.fill(0)
    expect(bytes.equals(copy)).to.equal(true)
  })

  const rejected: Array<[why: string, value: unknown, message: RegExp]> = [
    ['undefined', undefined, /undefined/],
    ['a function', () => 1, /function/],
    ['a nested function', { a: { f() {} } }, /\$\.a\.f.*function/],
    ['a symbol', Symbol('s'), /symbol/],
    ['a nested symbol', [1, Symbol('s')], /\$\[1\].*symbol/],
    ['a bigint beyond uint64', 2n ** 64n, /64 bits/],
    ['a bigint below int64', -(2n ** 63n) - 1n, /64 bits/],
    ['a Map', new Map([['a', 1]]), /Map/],
    ['a Set', new Set([1]), /Set/],
    ['a class instance', new (class Point { x = 1 })(), /Point/],
    ['a RegExp', /x/, /RegExp/],
    ['an Error', new Error('x'), /Error/],
    ['a Uint16Array', new Uint16Array(2), /Uint16Array/],
    ['an invalid Date', { when: new Date(NaN) }, /\$\.when.*invalid Date/],
    ['too deep', nested(MAX_VALUE_DEPTH + 1), /deeper/],
    ['a sparse array', [1, , 3], /\$\[1\].*sparse/], // eslint-disable-line no-sparse-arrays
    ['a nested sparse array', { a: new Array(3) }, /\$\.a\[0\].*sparse/],
    ['a lone surrogate in a string', ['a\uD800b'], /\$\[0\].*surrogate/],
    ['a lone surrogate in a key', { ['k\uDC00']: 1 }, /surrogate/],
    ['a Date subclass', new (class Stamp extends Date {})(0), /Stamp/]
  ]
  for (const [why, value, message] of rejected) {
    it(`rejects ${why} with a TypeError`, () => {
      expect(() => encodeValue(value)).to.throw(TypeError, message)
    })
  }

  it('rejects circular structures', () => {
    const a: Record<string, unknown> = { x: 1 }
    a['self'] = a
    expect(() => encodeValue(a)).to.throw(TypeError, /circular/)
    const arr: unknown[] = [1]
    arr.push([arr])
    expect(() => encodeValue(arr)).to.throw(TypeError, /circular/)
  })

  it('accepts a shared (non-circular) reference', () => {
    const shared = { n: 1 }
    expect(decodeValue(encodeValue({ a: shared, b: shared }))).to.deep.equal({ a: { n: 1 }, b: { n: 1 } })
  })

  describe('exact round trips', () => {
    const roundTrip = (v: unknown): unknown => decodeValue(encodeValue(v))

    it('keeps -0 (as a float64), at the top level and nested', () => {
      expect(Object.is(roundTrip(-0), -0)).to.equal(true)
      const out = roundTrip({ a: [-0, 0, 1], b: -0, c: 'x' }) as { a: number[]; b: number }
      expect(Object.is(out.a[0], -0)).to.equal(true)
      expect(Object.is(out.a[1], 0)).to.equal(true)
      expect(Object.is(out.b, -0)).to.equal(true)
      expect(Object.is(roundTrip(0), 0)).to.equal(true)
    })

    it('keeps -0 when the same float bytes also appear inside a string or a Buffer', () => {
      const v = { n: -0, bin: encodeValue(1.5), s: 'cb', m: 1.2345678901234567e-287 }
      expect(isDeepStrictEqual(roundTrip(v), v)).to.equal(true)
    })

    it('decodes an own __proto__ key as an own property, never as the prototype', () => {
      const v = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>
      const out = roundTrip(v) as Record<string, unknown>
      expect(Object.getPrototypeOf(out)).to.equal(Object.prototype)
      expect(Object.keys(out)).to.deep.equal(['__proto__', 'a'])
      expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).to.deep.equal({ polluted: true })
      expect(out['polluted']).to.equal(undefined)
      expect(isDeepStrictEqual(out, v)).to.equal(true)
      const nested = roundTrip([{ x: JSON.parse('{"__proto__": 2}') as unknown }]) as Array<{ x: object }>
      expect(Object.getOwnPropertyDescriptor(nested[0]!.x, '__proto__')?.value).to.equal(2)
    })

    it('decodes a null-prototype object as a plain object (documented)', () => {
      const v = Object.assign(Object.create(null) as object, { a: 1 })
      const out = roundTrip(v) as object
      expect(Object.getPrototypeOf(out)).to.equal(Object.prototype)
      expect({ ...out }).to.deep.equal({ a: 1 })
    })

    it('every value packValue accepts decodes to a deep-strictly equal value (property)', () => {
      const accepted = (v: unknown): boolean => {
        try {
          packValue(v)
          return true
        } catch {
          return false
        }
      }
      const values = fc
        .anything({ withBigInt: true, withDate: true, withSparseArray: true, withUnicodeString: true, maxDepth: 4 })
        .filter(accepted)
      fc.assert(
        fc.property(values, (v) => isDeepStrictEqual(decodeValue(encodeValue(v)), v)),
        { numRuns: 200, seed: 20261201 }
      )
    })
  })

  describe('isValueBytes', () => {
    const hex: Array<[why: string, bytes: string, ok: boolean]> = [
      ['empty', '', false],
      ['fixint', '05', true],
      ['nil', 'c0', true],
      ['never-used byte', 'c1', false],
      ['trailing bytes', '0505', false],
      ['truncated str', 'a3616263'.slice(0, 6), false],
      ['truncated float64', 'cb3ff8', false],
      ['array of two', '920102', true],
      ['array missing an item', '9201', false],
      ['array16 claiming more items than bytes', 'dc ffff 01'.replace(/ /g, ''), false],
      ['map with string key', '81a16101', true],
      ['map with int key', '810101', true],
      ['map with array key', '81900101'.slice(0, 6), false],
      ['map with nil key', '81c001', false],
      ['undefined (fixext1 type 0)', 'd40000', true],
      ['fixext1 other type', 'd40500', false],
      ['timestamp32', 'd6ff00000001', true],
      ['timestamp64', 'd7ff0000000400000001', true],
      ['fixext4 other type', 'd60100000001', false],
      ['ext8 (msgpackr record definition)', 'c70172' + '00', false],
      ['bin8', 'c4020102', true],
      ['bin8 truncated', 'c40201', false],
      ['nested maps', '81a16181a16290', true]
    ]
    for (const [why, h, ok] of hex) {
      it(`${why} → ${ok}`, () => expect(isValueBytes(Buffer.from(h, 'hex'))).to.equal(ok))
    }

    it('rejects nesting deeper than MAX_VALUE_DEPTH', () => {
      const deep = Buffer.concat([Buffer.alloc(MAX_VALUE_DEPTH + 1, 0x91), Buffer.from([0x01])])
      expect(isValueBytes(deep)).to.equal(false)
      const ok = Buffer.concat([Buffer.alloc(MAX_VALUE_DEPTH, 0x91), Buffer.from([0x01])])
      expect(isValueBytes(ok)).to.equal(true)
    })

    it('decodeValue throws TypeError on malformed bytes', () => {
      expect(() => decodeValue(Buffer.from('c1', 'hex'))).to.throw(TypeError)
    })

    it('never throws on random bytes', () => {
      let seed = 1
      const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) & 0xff
      for (let i = 0; i < 5000; i++) {
        const b = Buffer.alloc(1 + (next() % 24))
        for (let j = 0; j < b.length; j++) b[j] = next()
        const ok = isValueBytes(b)
        if (ok) decodeValue(b) // admitted bytes must decode
      }
    })
  })
})

describe('encodeHeldScalar', () => {
  it('encodes strings of every msgpack str size, ASCII or not, to bytes that decode to the same string', () => {
    for (const n of [0, 1, 31, 32, 255, 256, 65535, 65536, 70000]) {
      for (const unit of ['a', 'é', '日', '😀']) {
        const v = unit.repeat(Math.ceil(n / unit.length)).slice(0, n)
        if (!isWellFormed(v)) continue
        const b = encodeHeldScalar(v)
        expect(decodeValue(b), `${n} × ${unit}`).to.equal(v)
        expect(b.length).to.equal(encodeValue(v).length)
      }
    }
  })

  it('encodes other scalars as encodeValue does', () => {
    for (const v of [null, true, false, 0, -0, 1.5, -7, 2 ** 40, 10n ** 18n]) {
      expect(encodeHeldScalar(v)).to.deep.equal(encodeValue(v))
    }
  })
})
