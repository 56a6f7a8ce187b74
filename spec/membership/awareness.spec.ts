import { expect } from 'chai'
import { Awareness } from '../../lib/membership/awareness.js'

describe('Awareness', () => {
  it('starts healthy', () => {
    const a = new Awareness(8)
    expect(a.score()).to.equal(0)
    expect(a.scaleTimeout(500)).to.equal(500)
  })

  // [deltas applied in order, score after each]
  const table: Array<[max: number, deltas: number[], scores: number[]]> = [
    [8, [1, 1, -1], [1, 2, 1]],
    [8, [-1, -5], [0, 0]], // floor at 0
    [8, [3, 3, 3, -2], [3, 6, 7, 5]], // ceiling at max - 1
    [8, [100, -100], [7, 0]],
    [1, [1, 5], [0, 0]], // max 1: never degrades
    [2, [1, 1, -1], [1, 1, 0]],
    [8, [0], [0]]
  ]
  for (const [max, deltas, scores] of table) {
    it(`max=${max} deltas=${deltas.join(',')} -> ${scores.join(',')}`, () => {
      const a = new Awareness(max)
      deltas.forEach((d, i) => {
        a.applyDelta(d)
        expect(a.score()).to.equal(scores[i])
      })
    })
  }

  it('scales a timeout by score + 1', () => {
    const a = new Awareness(8)
    const table: Array<[delta: number, timeout: number, want: number]> = [
      [0, 500, 500],
      [1, 500, 1000],
      [2, 500, 2000],
      [10, 500, 4000], // clamped: at most max times
      [-7, 1000, 1000]
    ]
    for (const [delta, timeout, want] of table) {
      a.applyDelta(delta)
      expect(a.scaleTimeout(timeout)).to.equal(want)
    }
  })

  it('reports changes, and only changes', () => {
    const changes: Array<[number, number]> = []
    const a = new Awareness(3, (score, previous) => changes.push([score, previous]))
    a.applyDelta(-1)
    a.applyDelta(1)
    a.applyDelta(5)
    a.applyDelta(1)
    a.applyDelta(-1)
    expect(changes).to.deep.equal([
      [1, 0],
      [2, 1],
      [1, 2]
    ])
  })

  it('rejects a bad maxMultiplier', () => {
    expect(() => new Awareness(0)).to.throw(RangeError, /awarenessMaxMultiplier/)
    expect(() => new Awareness(2.5)).to.throw(RangeError)
  })
})
