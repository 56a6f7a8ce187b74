import { expect } from 'chai'
import {
  bool, closest, finiteIn, func, intIn, knownKeys, nonNegativeFinite, nonNegativeInt, object, oneOf,
  positiveFinite, positiveInt, str, underPath, withMethods
} from '../lib/option-checks.js'

describe('option checks', () => {
  // Wrong JavaScript type: TypeError. Right type, wrong value: RangeError.
  const cases: Array<[string, () => unknown, typeof Error | undefined]> = [
    ['positiveInt 1', () => positiveInt('p', 1), undefined],
    ['positiveInt 0', () => positiveInt('p', 0), RangeError],
    ['positiveInt 1.5', () => positiveInt('p', 1.5), RangeError],
    ['positiveInt 2**53', () => positiveInt('p', 2 ** 53), RangeError],
    ['positiveInt "1"', () => positiveInt('p', '1'), TypeError],
    ['nonNegativeInt 0', () => nonNegativeInt('p', 0), undefined],
    ['nonNegativeInt -1', () => nonNegativeInt('p', -1), RangeError],
    ['intIn 5 in 1..5', () => intIn('p', 5, 1, 5), undefined],
    ['intIn 6 in 1..5', () => intIn('p', 6, 1, 5), RangeError],
    ['intIn NaN', () => intIn('p', NaN, 1, 5), RangeError],
    ['finiteIn 0.5 in 0..1', () => finiteIn('p', 0.5, 0, 1), undefined],
    ['finiteIn Infinity', () => finiteIn('p', Infinity, 0, Infinity), RangeError],
    ['finiteIn NaN', () => finiteIn('p', NaN, 0, 1), RangeError],
    ['positiveFinite 0', () => positiveFinite('p', 0), RangeError],
    ['positiveFinite 0.1', () => positiveFinite('p', 0.1), undefined],
    ['nonNegativeFinite -0.1', () => nonNegativeFinite('p', -0.1), RangeError],
    ['nonNegativeFinite null', () => nonNegativeFinite('p', null), TypeError],
    ['oneOf a', () => oneOf('p', 'a', ['a', 'b']), undefined],
    ['oneOf c', () => oneOf('p', 'c', ['a', 'b']), RangeError],
    ['oneOf 1', () => oneOf('p', 1, ['a', 'b']), TypeError],
    ['bool false', () => bool('p', false), undefined],
    ['bool 0', () => bool('p', 0), TypeError],
    ['str ""', () => str('p', ''), undefined],
    ['str "" nonEmpty', () => str('p', '', { nonEmpty: true }), TypeError],
    ['str over maxBytes', () => str('p', 'é', { maxBytes: 1 }), RangeError],
    ['str 5', () => str('p', 5), TypeError],
    ['func', () => func('p', () => 1), undefined],
    ['func {}', () => func('p', {}), TypeError],
    ['object {}', () => object('p', {}), undefined],
    ['object []', () => object('p', []), TypeError],
    ['object null', () => object('p', null), TypeError],
    ['withMethods', () => withMethods('p', { a() {} }, ['a']), undefined],
    ['withMethods missing', () => withMethods('p', { a: 1 }, ['a']), TypeError]
  ]
  for (const [name, run, type] of cases) {
    it(`${name}: ${type === undefined ? 'passes' : type.name}`, () => {
      if (type === undefined) expect(run).not.to.throw()
      else expect(run).to.throw(type, /^option p: /)
    })
  }

  it('returns the value it checked', () => {
    expect(positiveInt('p', 7)).to.equal(7)
    expect(oneOf('p', 'b', ['a', 'b'])).to.equal('b')
  })

  it('suggests a close known name: case, one or two edits, never for short or distant names', () => {
    const known = ['secretKeys', 'maxKeys', 'maxBytes', 'peers', 'ttl']
    expect(closest('secretkeys', known)).to.equal('secretKeys')
    expect(closest('secretKey', known)).to.equal('secretKeys')
    expect(closest('maxKey', known)).to.equal('maxKeys')
    expect(closest('maxbytes', known)).to.equal('maxBytes')
    expect(closest('TTL', known)).to.equal('ttl')
    expect(closest('tt', known)).to.equal(undefined)
    expect(closest('colour', known)).to.equal(undefined)
  })

  it('refuses unknown keys with their path', () => {
    expect(() => knownKeys('fill', { a: 1, concurency: 1 }, ['a', 'concurrency'])).to.throw(TypeError, /^option fill\.concurency: unknown option \(did you mean fill\.concurrency\?\)$/)
    expect(() => knownKeys('', { a: 1 }, ['a'])).not.to.throw()
  })

  it('puts the path before a lower layer error, keeping its class and cause', () => {
    const inner = new RangeError('port out of range')
    let err: unknown
    try {
      underPath('peers[2]', () => { throw inner })
    } catch (e) {
      err = e
    }
    expect(err).to.be.instanceOf(RangeError)
    expect((err as Error).message).to.equal('option peers[2]: port out of range')
    expect((err as Error).cause).to.equal(inner)
    const named = new TypeError('option peers[2] must be a string')
    expect(() => underPath('peers[2]', () => { throw named })).to.throw(named)
    const other = new Error('boom')
    expect(() => underPath('x', () => { throw other })).to.throw(other)
    expect(underPath('x', () => 3)).to.equal(3)
  })
})
