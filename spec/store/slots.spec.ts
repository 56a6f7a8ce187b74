import { expect } from 'chai'
import { NIL, Slots } from '../../lib/store/slots.js'

/** Keys most recent first, as the table orders them. */
const order = (s: Slots): string[] => [...s.byRecency()].map((slot) => s.keys[slot]!)

describe('Slots', () => {
  it('keeps recency order through add, touch and remove', () => {
    const s = new Slots(10)
    const a = s.add('a'), b = s.add('b'), c = s.add('c')
    for (const [k, slot] of [['a', a], ['b', b], ['c', c]] as const) s.setHandle(k, slot)
    expect(order(s)).to.deep.equal(['c', 'b', 'a'])
    s.touch(a)
    expect(order(s)).to.deep.equal(['a', 'c', 'b'])
    expect(s.keys[s.head]).to.equal('b')
    s.remove(c)
    expect(order(s)).to.deep.equal(['a', 'b'])
    expect(s.count).to.equal(2)
    s.remove(a)
    s.remove(b)
    expect(s.head).to.equal(NIL)
    expect(s.tail).to.equal(NIL)
    expect(order(s)).to.deep.equal([])
  })

  it('reuses freed slots and grows its columns past the first 1,024 without losing what they hold', () => {
    const s = new Slots(100_000)
    const slots: number[] = []
    for (let i = 0; i < 5000; i++) {
      const slot = s.add(`k${i}`)
      s.setHandle(`k${i}`, slot)
      s.wall[slot] = 1_700_000_000_000 + i
      s.seq[slot] = i + 1
      slots.push(slot)
    }
    for (let i = 0; i < 5000; i++) {
      expect(s.wall[slots[i]!]).to.equal(1_700_000_000_000 + i)
      expect(s.seq[slots[i]!]).to.equal(i + 1)
    }
    s.remove(slots[10]!)
    expect(s.add('again')).to.equal(slots[10]) // a freed slot comes back before the table grows
    expect(s.wall.length).to.be.at.least(5000)
  })

  it('never grows its columns past the key bound', () => {
    const s = new Slots(1500)
    for (let i = 0; i < 1500; i++) s.setHandle(`k${i}`, s.add(`k${i}`))
    expect(s.wall.length).to.equal(1500)
    expect(() => s.add('one too many')).to.throw(RangeError, /full/)
  })
})
