import { expect } from 'chai'
import { ManualClock } from '../../lib/clock.js'
import { DropCounts } from '../../lib/drop-counts.js'
import { silentLogger } from '../../lib/logger.js'
import { PushChannels } from '../../lib/replication/push-channels.js'
import { FakeStream } from '../support/fake-stream.js'

async function ticks(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve()
}

function setup(maxQueuedBytes: number, stallMs: number): { ch: PushChannels; conn: FakeStream; drops: DropCounts; clock: ManualClock; firsts: Buffer[] } {
  const clock = new ManualClock()
  const drops = new DropCounts()
  const conn = new FakeStream('peer:1')
  const firsts: Buffer[] = []
  const ch = new PushChannels({ open: async (_addr, first) => { firsts.push(first); return conn }, clock, logger: silentLogger, drops }, { maxQueuedBytes, stallMs })
  return { ch, conn, drops, clock, firsts }
}

const batch = (n: number, fill = 1): Buffer => Buffer.alloc(n, fill)

describe('PushChannels (fake stream)', () => {
  it('opens lazily with the first batch as first frame, then sends on the connection', async () => {
    const { ch, conn, firsts } = setup(1000, 1000)
    ch.send('peer:1', batch(10, 1))
    ch.send('peer:1', batch(10, 2)) // queued while opening
    await ticks()
    expect(firsts.map((b) => b[0])).to.deep.equal([1])
    expect(conn.sent.map((b) => b[0])).to.deep.equal([2])
    ch.send('peer:1', batch(10, 3))
    expect(conn.sent.map((b) => b[0])).to.deep.equal([2, 3])
    expect(ch.queuedBytes()).to.equal(0)
  })

  it('a congested peer: the queue stays within maxQueuedBytes, the excess is counted push-backlog, and it drains in order', async () => {
    const { ch, conn, drops } = setup(100, 1000)
    ch.send('peer:1', batch(1))
    await ticks()
    conn.congested = true
    ch.send('peer:1', batch(10, 1)) // goes to the conn, which reports congestion
    for (let i = 0; i < 20; i++) {
      ch.send('peer:1', batch(30, 2))
      expect(ch.queuedBytes()).to.be.at.most(100)
    }
    expect(ch.queuedBytes()).to.equal(90)
    expect(drops.snapshot()['push-backlog']).to.equal(17)
    conn.releaseDrain()
    await ticks()
    expect(ch.queuedBytes()).to.equal(0)
    expect(conn.sent.length).to.equal(1 + 3)
  })

  it('a channel congested for stallMs is destroyed with what it holds (push-stalled)', async () => {
    const { ch, conn, drops, clock } = setup(100, 500)
    ch.send('peer:1', batch(1))
    await ticks()
    conn.congested = true
    ch.send('peer:1', batch(10))
    ch.send('peer:1', batch(30))
    expect(ch.queuedBytes()).to.equal(30)
    clock.advance(499)
    expect(ch.size()).to.equal(1)
    clock.advance(1)
    expect(drops.snapshot()['push-stalled']).to.equal(1)
    expect(ch.queuedBytes()).to.equal(0)
    expect(ch.size()).to.equal(0)
    expect(conn.destroyCalls).to.equal(1)
  })

  it('forget (member left) destroys the channel and frees its queue', async () => {
    const { ch, conn } = setup(100, 500)
    ch.send('peer:1', batch(1))
    await ticks()
    conn.congested = true
    ch.send('peer:1', batch(10))
    ch.send('peer:1', batch(30))
    ch.forget('peer:1')
    expect(ch.queuedBytes()).to.equal(0)
    expect(conn.closed).to.equal(true)
  })
})
