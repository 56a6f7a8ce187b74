import { expect } from 'chai'
import { seededRandom } from '../../lib/random.js'
import { ORIGIN_CHARS, writeOrigin } from '../../lib/replication/write-origin.js'
import { encodeDelta } from '../../lib/replication/delta.js'

describe('writeOrigin', () => {
  it('is 48 bits in 8 base64url characters, distinct per node, start and draw', () => {
    const o = writeOrigin('a', 1_700_000_000_000, seededRandom(1))
    expect(o).to.match(/^[A-Za-z0-9_-]{8}$/)
    expect(ORIGIN_CHARS).to.equal(8)
    const seen = new Set<string>()
    for (let i = 0; i < 2000; i++) seen.add(writeOrigin(`n${i % 20}`, 1_700_000_000_000 + i, seededRandom(7)))
    expect(seen.size).to.equal(2000)
  })

  // Cost: the origin rides in every delta; 12 hex characters carried the same 48 bits in 4 bytes more.
  it('keeps a delta of a 100-byte value under 140 bytes', () => {
    const origin = writeOrigin('node-1', 1_700_000_000_000, seededRandom(3))
    const delta = encodeDelta('k:123456', Buffer.alloc(102), { wall: 1_764_000_000_000, counter: 3, origin }, 1_000_000, 0)
    expect(delta.length).to.be.at.most(140)
  })
})
