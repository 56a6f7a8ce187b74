import { expect } from 'chai'
import { type Broadcast, TransmitQueue, retransmitLimit } from '../../lib/gossip/transmit-queue.js'

/** An item whose bytes are `size` copies of a one-char label, for readable assertions. */
function item(label: string, size = 10, subject?: string, onDone?: (sent: boolean) => void): Broadcast {
  const bytes = new Uint8Array(size).fill(label.charCodeAt(0))
  return onDone === undefined ? { subject, bytes } : { subject, bytes, onDone }
}

function labels(out: Uint8Array[]): string {
  return out.map((b) => String.fromCharCode(b[0]!)).join('')
}

function queue(retransmitMult = 4, numNodes = 10, maxSkipsPerTake?: number) {
  return new TransmitQueue({
    retransmitMult,
    numNodes: () => numNodes,
    ...(maxSkipsPerTake === undefined ? {} : { maxSkipsPerTake })
  })
}

describe('retransmitLimit', () => {
  const table: Array<[mult: number, n: number, want: number]> = [
    [4, 0, 4], // no known nodes: as for 1, every item still sent
    [4, 1, 4],
    [4, 9, 4],
    [4, 10, 8],
    [4, 99, 8],
    [4, 100, 12],
    [4, 999, 12],
    [4, 1000, 16],
    [3, 10000, 15],
    [1, 1, 1],
    [0, 5, 1] // never below 1
  ]
  for (const [mult, n, want] of table) {
    it(`mult=${mult} n=${n} -> ${want}`, () => {
      expect(retransmitLimit(mult, n)).to.equal(want)
    })
  }
})

describe('TransmitQueue', () => {
  it('takes newest first among items sent equally often', () => {
    const q = queue()
    q.enqueue(item('a'))
    q.enqueue(item('b'))
    q.enqueue(item('c'))
    expect(labels(q.take(0, 1000))).to.equal('cba')
    q.enqueue(item('d'))
    // d never sent; c, b, a sent once and kept their relative order
    expect(labels(q.take(0, 1000))).to.equal('dcba')
  })

  it('takes fewest transmits first', () => {
    const q = queue()
    q.enqueue(item('a'))
    q.enqueue(item('b'))
    expect(labels(q.take(0, 10))).to.equal('b') // b: 1
    expect(labels(q.take(0, 10))).to.equal('a') // a: 1
    q.enqueue(item('c'))
    expect(labels(q.take(0, 10))).to.equal('c') // c: 1
    expect(labels(q.take(0, 20))).to.equal('ca') // entered bucket 1 last, first out
    expect(labels(q.take(0, 10))).to.equal('b')
    expect(labels(q.take(0, 30))).to.equal('bca')
  })

  it('replaces an item with the same subject and reports the old one as not sent', () => {
    const q = queue()
    const done: string[] = []
    q.enqueue(item('a', 10, 'x', (sent) => done.push(`a:${sent}`)))
    q.enqueue(item('u', 10, undefined, (sent) => done.push(`u:${sent}`)))
    q.take(0, 1000) // both sent once
    q.enqueue(item('b', 20, 'x', (sent) => done.push(`b:${sent}`)))
    expect(done).to.deep.equal(['a:false'])
    expect(q.size()).to.equal(2)
    expect(q.bytesQueued()).to.equal(30)
    expect(labels(q.take(0, 1000))).to.equal('bu') // b starts over at 0 transmits
    q.enqueue(item('v', 10, undefined))
    expect(q.size()).to.equal(3) // undefined subjects are never replaced
  })

  it('removes an item after its last transmit and reports it sent', () => {
    const q = queue(2, 1) // limit 2
    const done: boolean[] = []
    q.enqueue(item('a', 10, 'x', (sent) => done.push(sent)))
    expect(labels(q.take(0, 100))).to.equal('a')
    expect(done).to.deep.equal([])
    expect(labels(q.take(0, 100))).to.equal('a')
    expect(done).to.deep.equal([true])
    expect(q.size()).to.equal(0)
    expect(q.bytesQueued()).to.equal(0)
    expect(q.take(0, 100)).to.deep.equal([])
    // the subject is free again
    q.enqueue(item('b', 10, 'x'))
    expect(labels(q.take(0, 100))).to.equal('b')
  })

  it('reads the limit from numNodes() as the cluster grows', () => {
    let n = 1
    const q = new TransmitQueue({ retransmitMult: 1, numNodes: () => n })
    q.enqueue(item('a'))
    q.take(0, 100)
    expect(q.size()).to.equal(0) // limit 1
    n = 10
    q.enqueue(item('b'))
    q.take(0, 100)
    expect(q.size()).to.equal(1) // limit 2
    n = 100
    q.take(0, 100)
    expect(q.size()).to.equal(1) // limit 3
    q.take(0, 100)
    expect(q.size()).to.equal(0)
  })

  it('fills the budget exactly and never beyond', () => {
    const q = queue()
    for (const l of 'abcd') q.enqueue(item(l, 10))
    expect(labels(q.take(2, 35))).to.equal('dc') // 3 * 12 = 36 > 35
    expect(labels(q.take(2, 36))).to.equal('bad') // 36 exactly
    expect(q.take(2, 11)).to.deep.equal([]) // overhead + bytes = 12
    expect(q.take(2, 0)).to.deep.equal([])
  })

  it('respects the budget with mixed sizes', () => {
    const q = queue(4, 100)
    let seed = 42
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
    for (let i = 0; i < 2000; i++) q.enqueue(item('x', 1 + Math.floor(rand() * 300), i % 3 === 0 ? `s${i % 500}` : undefined))
    for (let i = 0; i < 3000; i++) {
      const overhead = Math.floor(rand() * 8)
      const limit = Math.floor(rand() * 1400)
      const out = q.take(overhead, limit)
      const used = out.reduce((sum, b) => sum + b.length + overhead, 0)
      expect(used).to.be.at.most(limit)
    }
  })

  it('does not let a large item block smaller ones behind it', () => {
    const q = queue()
    q.enqueue(item('a', 100))
    q.enqueue(item('b', 100))
    q.enqueue(item('L', 5000)) // newest, never fits
    expect(labels(q.take(3, 1400))).to.equal('ba')
    expect(q.size()).to.equal(3)
  })

  it('caps the items skipped per take', () => {
    const q = queue(4, 10, 32)
    q.enqueue(item('s', 10)) // oldest
    for (let i = 0; i < 100; i++) q.enqueue(item('L', 2000))
    expect(q.take(0, 1400)).to.deep.equal([]) // gave up after 32 skips
    const patient = queue(4, 10, 200)
    patient.enqueue(item('s', 10))
    for (let i = 0; i < 100; i++) patient.enqueue(item('L', 2000))
    expect(labels(patient.take(0, 1400))).to.equal('s')
  })

  it('stops once nothing queued could fit', () => {
    const q = queue()
    const big = 'abcdefghij'
    for (const l of big) q.enqueue(item(l, 50))
    q.enqueue(item('s', 60)) // newest: taken first
    // after s: 40 left, smallest item is 50: stop without counting skips
    expect(labels(q.take(0, 100))).to.equal('s')
  })

  it('prune drops the most-sent, oldest items', () => {
    const q = queue()
    const done: string[] = []
    const track = (l: string) => item(l, 10, undefined, (sent) => done.push(`${l}:${sent}`))
    q.enqueue(track('a'))
    q.enqueue(track('b'))
    q.take(0, 20) // a, b: 1
    q.enqueue(track('c'))
    q.enqueue(track('d')) // c, d: 0
    q.prune(3)
    expect(done).to.deep.equal(['a:false'])
    q.prune(1)
    expect(done).to.deep.equal(['a:false', 'b:false', 'c:false'])
    expect(q.size()).to.equal(1)
    expect(labels(q.take(0, 100))).to.equal('d')
    q.prune(5) // no-op
    q.prune(0)
    expect(q.size()).to.equal(0)
    expect(done).to.have.length(4)
  })

  it('reset drops everything as not sent', () => {
    const q = queue()
    const done: boolean[] = []
    for (let i = 0; i < 5; i++) q.enqueue(item('a', 10, `s${i}`, (sent) => done.push(sent)))
    q.take(0, 25)
    q.reset()
    expect(done).to.deep.equal([false, false, false, false, false])
    expect(q.size()).to.equal(0)
    expect(q.bytesQueued()).to.equal(0)
    expect(q.take(0, 1000)).to.deep.equal([])
    q.enqueue(item('b', 10, 's0'))
    expect(done).to.have.length(5) // s0 was forgotten, nothing replaced
    expect(labels(q.take(0, 1000))).to.equal('b')
  })

  it('lets onDone enqueue', () => {
    const q = queue(1, 1) // limit 1
    q.enqueue(item('a', 10, 'x', () => q.enqueue(item('b', 10, 'x'))))
    expect(labels(q.take(0, 100))).to.equal('a')
    expect(labels(q.take(0, 100))).to.equal('b')
    expect(q.size()).to.equal(0)
  })

  it('rejects bad settings', () => {
    expect(() => queue(0)).to.throw(RangeError, /retransmitMult/)
    expect(() => queue(1.5)).to.throw(RangeError, /retransmitMult/)
    expect(() => queue(4, 10, -1)).to.throw(RangeError, /maxSkipsPerTake/)
  })

  it('handles 200k items in 1400-byte datagrams quickly', () => {
    const q = queue(2, 1) // limit 2, so the run drains the queue
    let sent = 0
    let dropped = 0
    const onDone = (s: boolean) => (s ? sent++ : dropped++)
    const t0 = performance.now()
    for (let i = 0; i < 200_000; i++) {
      q.enqueue({ subject: `key${i % 150_000}`, bytes: new Uint8Array(20 + (i % 60)), onDone })
    }
    expect(q.size()).to.equal(150_000)
    expect(dropped).to.equal(50_000)
    let datagrams = 0
    while (q.size() > 0) {
      const out = q.take(3, 1400)
      const used = out.reduce((sum, b) => sum + b.length + 3, 0)
      if (used > 1400 || out.length === 0) throw new Error(`bad take: ${used} bytes, ${out.length} items`)
      datagrams++
    }
    const elapsed = performance.now() - t0
    expect(sent).to.equal(150_000)
    expect(q.bytesQueued()).to.equal(0)
    // ~1400 / 53 = 26 items per datagram, 2 transmits each
    expect(datagrams).to.be.within(11_000, 12_500)
    expect(elapsed, `${elapsed.toFixed(0)} ms`).to.be.lessThan(1000)
  })
})
