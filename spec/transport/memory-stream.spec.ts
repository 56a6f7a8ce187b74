import { expect } from 'chai'
import { ManualClock } from '../../lib/clock.js'
import { seededRandom } from '../../lib/random.js'
import { MemoryNetwork, type MemoryTransport } from '../../lib/transport/memory-network.js'
import type { MemoryStreamConn } from '../../lib/transport/memory-stream.js'

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

interface Pair {
  clock: ManualClock
  a: MemoryTransport
  b: MemoryTransport
  ca: MemoryStreamConn
  cb: MemoryStreamConn
  got: number[]
}

/** Two transports (b with `hwm`), a stream a -> b, and the sizes of frames b read. */
async function pair(hwm = 1000, delayMs = 1): Promise<Pair> {
  const clock = new ManualClock()
  const net = new MemoryNetwork({ clock, random: seededRandom(3) }, { minDelayMs: delayMs, maxDelayMs: delayMs })
  const a = net.bind(undefined, { streamHighWaterBytes: hwm })
  const b = net.bind(undefined, { streamHighWaterBytes: hwm })
  let cb: MemoryStreamConn | undefined
  b.onStream((conn) => { cb = conn as MemoryStreamConn })
  const dial = a.dialStream(b.address, 1000)
  clock.advance(delayMs)
  const ca = (await dial) as MemoryStreamConn
  const got: number[] = []
  cb!.onFrame((f) => got.push(f.length))
  return { clock, a, b, ca, cb: cb!, got }
}

function settled(p: Promise<void>): { done: boolean } {
  const s = { done: false }
  void p.then(() => { s.done = true })
  return s
}

describe('MemoryStreamConn backpressure', () => {
  it('send returns false at the high-water mark but still queues the frame', async () => {
    const { clock, ca, got } = await pair(1000)
    expect(ca.send(Buffer.alloc(600))).to.equal(true)
    expect(ca.send(Buffer.alloc(400))).to.equal(false)
    expect(ca.unreadBytes).to.equal(1000)
    clock.advance(1)
    expect(got).to.deep.equal([600, 400])
    expect(ca.unreadBytes).to.equal(0)
    expect(ca.peakUnreadBytes).to.equal(1000)
  })

  it('drain resolves at once below the mark, and once the reader consumed below it', async () => {
    const { clock, ca } = await pair(1000, 5)
    const early = settled(ca.drain())
    await flush()
    expect(early.done).to.equal(true)
    ca.send(Buffer.alloc(1500))
    const d = settled(ca.drain())
    clock.advance(4)
    await flush()
    expect(d.done).to.equal(false)
    clock.advance(1)
    await flush()
    expect(d.done).to.equal(true)
  })

  it('a paused reader keeps frames unread: the writer fills up and drain waits until resume', async () => {
    const { clock, ca, cb, got } = await pair(1000)
    cb.pauseReading()
    let sent = 0
    while (ca.send(Buffer.alloc(100))) sent++
    const d = settled(ca.drain())
    clock.advance(1000)
    await flush()
    expect(got).to.deep.equal([])
    expect(d.done).to.equal(false)
    expect(ca.unreadBytes).to.equal((sent + 1) * 100)
    cb.resumeReading()
    clock.advance(0)
    await flush()
    expect(got.length).to.equal(sent + 1)
    expect(d.done).to.equal(true)
  })

  it('a whole transport that stops reading stalls its streams, old and new, in order', async () => {
    const { clock, a, b, ca, got } = await pair(1000)
    b.pauseReading()
    ca.send(Buffer.alloc(10))
    ca.send(Buffer.alloc(20))
    ca.close() // the FIN waits behind the unread frames
    clock.advance(100)
    expect(got).to.deep.equal([])
    expect(ca.closed).to.equal(true)
    expect(a.bufferedBytes()).to.equal(30)
    b.resumeReading()
    clock.advance(10)
    expect(got).to.deep.equal([10, 20])
    expect(a.bufferedBytes()).to.equal(0)
    expect(a.peakStreamUnreadBytes()).to.equal(30)
  })

  it('a writer that ignores false shows in peakUnreadBytes; one that waits for drain stays at the mark', async () => {
    const { clock, ca, cb } = await pair(1000)
    cb.pauseReading()
    for (let i = 0; i < 50; i++) ca.send(Buffer.alloc(100))
    expect(ca.peakUnreadBytes).to.equal(5000)
    const polite = await pair(1000)
    polite.cb.pauseReading()
    let waiting = false
    const writer = async (): Promise<void> => {
      for (let i = 0; i < 50; i++) {
        if (!polite.ca.send(Buffer.alloc(100))) {
          waiting = true
          await polite.ca.drain()
          waiting = false
        }
      }
    }
    const done = settled(writer())
    polite.clock.advance(100)
    await flush()
    expect(waiting).to.equal(true)
    expect(polite.ca.peakUnreadBytes).to.equal(1000)
    polite.cb.resumeReading()
    for (let i = 0; i < 20 && !done.done; i++) {
      polite.clock.advance(1)
      await flush()
    }
    expect(done.done).to.equal(true)
    expect(polite.ca.peakUnreadBytes).to.equal(1000)
    clock.advance(1)
  })

  it('drain resolves when the stream finishes (destroy, reset or the reader closing)', async () => {
    const { clock, ca, cb } = await pair(100)
    cb.pauseReading()
    ca.send(Buffer.alloc(200))
    const d = settled(ca.drain())
    cb.destroy()
    await flush()
    expect(d.done).to.equal(true)
    expect(ca.unreadBytes).to.equal(0)
    clock.advance(10)
    expect(ca.closed).to.equal(true)
  })

  it('rejects a bad streamHighWaterBytes naming it', () => {
    const net = new MemoryNetwork({ clock: new ManualClock(), random: seededRandom(1) })
    expect(() => net.bind(undefined, { streamHighWaterBytes: 0 })).to.throw(RangeError, /streamHighWaterBytes/)
  })
})
