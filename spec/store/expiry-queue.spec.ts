import { expect } from 'chai'
import { ExpiryQueue } from '../../lib/store/expiry-queue.js'

/** A queue over a map of the current expiry of each key. */
function queueOver(current: Map<number, number>): ExpiryQueue {
  return new ExpiryQueue((key, at) => current.get(key) === at, () => current.size)
}

describe('ExpiryQueue', () => {
  it('pops due keys earliest first, within the budget, and leaves the rest', () => {
    const cur = new Map([[3, 30], [1, 10], [4, 40], [2, 20]])
    const q = queueOver(cur)
    for (const [k, at] of cur) q.push(k, at)
    const out: number[] = []
    expect(q.popDue(35, 2, (k) => out.push(k))).to.equal(2)
    expect(out).to.deep.equal([1, 2])
    expect(q.popDue(35, 10, (k) => out.push(k))).to.equal(1)
    expect(out).to.deep.equal([1, 2, 3])
    expect(q.popDue(35, 10, (k) => out.push(k))).to.equal(0)
    expect(q.size).to.equal(1)
  })

  it('deletes lazily: an overwritten or deleted key is skipped, not expired', () => {
    const cur = new Map([[1, 10], [2, 20]])
    const q = queueOver(cur)
    q.push(1, 10)
    q.push(2, 20)
    cur.set(1, 100) // overwritten with a later expiry
    q.push(1, 100)
    cur.delete(2) // deleted
    const out: number[] = []
    expect(q.popDue(50, 10, (k) => out.push(k))).to.equal(0)
    expect(out).to.deep.equal([])
    expect(q.popDue(100, 10, (k) => out.push(k))).to.equal(1)
    expect(out).to.deep.equal([1])
  })

  it('a key pushed twice with the same expiry expires once', () => {
    const cur = new Map([[1, 10]])
    const q = queueOver(cur)
    q.push(1, 10)
    q.push(1, 10)
    const out: number[] = []
    q.popDue(10, 10, (k) => {
      out.push(k)
      cur.delete(k)
    })
    expect(out).to.deep.equal([1])
  })

  it('compaction bounds the heap by twice the live keys plus a slack, whatever the overwrites', () => {
    const cur = new Map<number, number>()
    const q = queueOver(cur)
    for (let i = 0; i < 100_000; i++) {
      const key = i % 10
      cur.set(key, 1_000_000 + i)
      q.push(key, 1_000_000 + i)
      expect(q.size).to.be.at.most(2 * cur.size + 1024 + 1)
    }
    const out: number[] = []
    q.popDue(Infinity, 1000, (k) => out.push(k))
    expect(out.sort((a, b) => a - b)).to.deep.equal([...cur.keys()].sort((a, b) => a - b))
  })
})
