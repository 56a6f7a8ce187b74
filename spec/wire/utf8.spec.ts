import { expect } from 'chai'
import { isWellFormed, utf8Within } from '../../lib/wire/utf8.js'

describe('utf8', () => {
  const wellFormed: Array<[string, boolean]> = [
    ['', true], ['abc', true], ['é☃', true], ['𝄞', true], ['\uD834\uDD1E', true],
    ['\uD800', false], ['a\uDC00', false], ['\uDD1E\uD834', false], ['x'.repeat(100) + '\uD800', false]
  ]
  for (const [s, ok] of wellFormed) {
    it(`isWellFormed(${JSON.stringify(s).slice(0, 20)}) is ${ok}`, () => expect(isWellFormed(s)).to.equal(ok))
  }

  it('utf8Within counts UTF-8 bytes, not UTF-16 units', () => {
    expect(utf8Within('abc', 3)).to.equal(true)
    expect(utf8Within('abcd', 3)).to.equal(false)
    expect(utf8Within('☃', 3)).to.equal(true)
    expect(utf8Within('☃', 2)).to.equal(false)
    expect(utf8Within('𝄞', 4)).to.equal(true)
    expect(utf8Within('𝄞', 3)).to.equal(false)
  })
})
