import { expect } from 'chai'
import { rendezvousOwner, rendezvousScore } from '../../lib/fill/rendezvous.js'

const five = ['node-a', 'node-b', 'node-c', 'node-d', 'node-e']

describe('rendezvousOwner', () => {
  it('rejects an empty member list', () => {
    expect(() => rendezvousOwner('k', [])).to.throw(RangeError, /members/)
  })

  it('returns the only member', () => {
    expect(rendezvousOwner('anything', ['solo'])).to.equal('solo')
  })

  // Pinned: the owner is part of the protocol (every node must agree, across
  // versions). A change here is a breaking change for mixed clusters.
  const golden: Array<[key: string, owner: string]> = [
    ['a', 'node-a'],
    ['user:42', 'node-e'],
    ['session:1', 'node-e'],
    ['product/123', 'node-b'],
    ['ключ', 'node-b'],
    ['🔑', 'node-b'],
    ['x'.repeat(300), 'node-c'],
    ['key-0', 'node-d'],
    ['key-1', 'node-d'],
    ['key-2', 'node-c']
  ]
  for (const [key, owner] of golden) {
    it(`is stable: ${JSON.stringify(key.length > 20 ? `${key.slice(0, 20)}…` : key)} -> ${owner}`, () => {
      expect(rendezvousOwner(key, five)).to.equal(owner)
    })
  }

  it('does not depend on the order of the members', () => {
    const orders = [five, [...five].reverse(), ['node-c', 'node-a', 'node-e', 'node-b', 'node-d']]
    for (let i = 0; i < 500; i++) {
      const key = `user:${i}`
      const owners = orders.map((m) => rendezvousOwner(key, m))
      expect(new Set(owners).size, key).to.equal(1)
    }
  })

  it('is roughly balanced: 10,000 keys over 5 members within ±15%', () => {
    const counts = new Map<string, number>(five.map((m) => [m, 0]))
    for (let i = 0; i < 10_000; i++) {
      const owner = rendezvousOwner(`session:${i}`, five)
      counts.set(owner, counts.get(owner)! + 1)
    }
    for (const [m, n] of counts) {
      expect(n, m).to.be.within(1700, 2300)
    }
  })

  it('moves only the keys of a member that leaves', () => {
    const four = five.filter((m) => m !== 'node-c')
    let moved = 0
    for (let i = 0; i < 5_000; i++) {
      const key = `k${i}`
      const before = rendezvousOwner(key, five)
      const after = rendezvousOwner(key, four)
      if (before !== 'node-c') expect(after, key).to.equal(before)
      else moved++
    }
    expect(moved).to.be.within(800, 1200)
  })

  it('gives a joining member keys only from others, about 1/n of them', () => {
    const six = [...five, 'node-f']
    let taken = 0
    for (let i = 0; i < 6_000; i++) {
      const key = `k${i}`
      const after = rendezvousOwner(key, six)
      if (after === 'node-f') taken++
      else expect(after, key).to.equal(rendezvousOwner(key, five))
    }
    expect(taken).to.be.within(850, 1150)
  })

  it('breaks a score tie toward the smaller id, whatever the order', () => {
    // duplicate ids score the same: the result must still be deterministic
    expect(rendezvousOwner('k', ['b', 'b'])).to.equal('b')
    const owner = rendezvousOwner('k', ['x', 'y'])
    expect(rendezvousOwner('k', ['y', 'x', 'y'])).to.equal(owner)
  })
})

describe('rendezvousScore', () => {
  it('is an unsigned 32-bit integer', () => {
    for (const [k, m] of [['a', 'b'], ['', ''], ['ключ', 'узел'], ['🔑', '🖥️']] as const) {
      const s = rendezvousScore(k, m)
      expect(Number.isInteger(s) && s >= 0 && s < 2 ** 32, `${k}/${m}`).to.equal(true)
    }
  })

  const pinned: Array<[key: string, id: string, score: number]> = [
    ['a', 'node-a', 3736346339],
    ['user:42', 'node-e', 3529234492],
    ['', '', 2886220781],
    ['ключ', 'узел', 1373553739]
  ]
  for (const [key, id, score] of pinned) {
    it(`is stable: (${JSON.stringify(key)}, ${JSON.stringify(id)}) -> ${score}`, () => {
      expect(rendezvousScore(key, id)).to.equal(score)
    })
  }

  it('keeps the key and the id apart', () => {
    expect(rendezvousScore('ab', 'c')).to.not.equal(rendezvousScore('a', 'bc'))
  })

  it('hashes characters above U+00FF by both bytes', () => {
    expect(rendezvousScore('\u0141', 'n')).to.not.equal(rendezvousScore('\u0041', 'n'))
  })
})
