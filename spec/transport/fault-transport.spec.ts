import { expect } from 'chai'
import { ManualClock } from '../../lib/clock.js'
import { ClosedError, StreamError, TimeoutError } from '../../lib/errors.js'
import { seededRandom } from '../../lib/random.js'
import { FaultTransport } from '../../lib/transport/fault-transport.js'
import { MemoryNetwork } from '../../lib/transport/memory-network.js'
import type { StreamConn } from '../../lib/transport/transport.js'

/** Lets pending promise callbacks run (no wall-clock wait). */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

interface Pair {
  clock: ManualClock
  a: FaultTransport
  b: FaultTransport
  atB: string[]
  atA: string[]
}

function setup(seed = 7): Pair {
  const clock = new ManualClock()
  const net = new MemoryNetwork({ clock, random: seededRandom(1) })
  const a = new FaultTransport(net.bind(), { clock, random: seededRandom(seed) })
  const b = new FaultTransport(net.bind(), { clock, random: seededRandom(seed + 1) })
  const atB: string[] = []
  const atA: string[] = []
  b.onPacket((data, from) => atB.push(`${data.toString()}@${from}`))
  a.onPacket((data, from) => atA.push(`${data.toString()}@${from}`))
  return { clock, a, b, atB, atA }
}

function settle<T>(p: Promise<T>): { value?: T; error?: unknown; done: boolean } {
  const s: { value?: T; error?: unknown; done: boolean } = { done: false }
  p.then((value) => Object.assign(s, { value, done: true }), (error: unknown) => Object.assign(s, { error, done: true }))
  return s
}

describe('FaultTransport', () => {
  it('passes datagrams and streams through unchanged when no fault is set', async () => {
    const { clock, a, b, atB } = setup()
    expect(a.address).to.equal(a.inner.address)
    a.sendPacket(b.address, Buffer.from('hello'))
    clock.advance(0)
    expect(atB).to.deep.equal([`hello@${a.address}`])
    let accepted: StreamConn | undefined
    b.onStream((c) => (accepted = c))
    const dial = settle(a.dialStream(b.address, 1000))
    clock.advance(0)
    await flush()
    expect(dial.value?.closed).to.equal(false)
    expect(accepted).to.not.equal(undefined)
    expect(a.faultStats()).to.deep.equal({ lost: 0, delayed: 0, duplicated: 0, blockedPackets: 0, blockedStreams: 0 })
  })

  it('drops about lossRate of the datagrams, and counts them in stats().dropped', () => {
    const { clock, a, b, atB } = setup()
    a.setFaults({ lossRate: 0.2 })
    for (let i = 0; i < 2000; i++) a.sendPacket(b.address, Buffer.from(String(i)))
    clock.advance(0)
    const lost = a.faultStats().lost
    expect(lost).to.be.within(320, 480)
    expect(atB).to.have.length(2000 - lost)
    expect(a.stats().dropped['fault-loss']).to.equal(lost)
    a.setFaults({ lossRate: 1 })
    a.sendPacket(b.address, Buffer.from('x'))
    clock.advance(0)
    expect(atB).to.have.length(2000 - lost)
  })

  it('delays datagrams on the injected clock, uniformly in [min, max], and reorders them', () => {
    const { clock, a, b, atB } = setup()
    a.setFaults({ minDelayMs: 10, maxDelayMs: 30 })
    for (let i = 0; i < 50; i++) a.sendPacket(b.address, Buffer.from(String(i)))
    clock.advance(9)
    expect(atB).to.have.length(0)
    clock.advance(21)
    expect(atB).to.have.length(50)
    const order = atB.map((s) => Number(s.split('@')[0]))
    expect(order).to.not.deep.equal([...order].sort((x, y) => x - y))
    expect(a.faultStats().delayed).to.equal(50)
  })

  it('sends a copy the bytes: the caller may reuse its buffer after a delayed send', () => {
    const { clock, a, b, atB } = setup()
    a.setFaults({ minDelayMs: 5, maxDelayMs: 5 })
    const buf = Buffer.from('abc')
    a.sendPacket(b.address, buf)
    buf.write('xyz')
    clock.advance(5)
    expect(atB).to.deep.equal([`abc@${a.address}`])
  })

  it('duplicates datagrams with duplicateRate', () => {
    const { clock, a, b, atB } = setup()
    a.setFaults({ duplicateRate: 1 })
    a.sendPacket(b.address, Buffer.from('d'))
    clock.advance(0)
    expect(atB).to.deep.equal([`d@${a.address}`, `d@${a.address}`])
    expect(a.faultStats().duplicated).to.equal(1)
    a.clearFaults()
    expect(a.getFaults()).to.deep.equal({ lossRate: 0, minDelayMs: 0, maxDelayMs: 0, duplicateRate: 0 })
  })

  it('rejects bad faults with RangeError naming the field, keeping the old ones', () => {
    const { a } = setup()
    a.setFaults({ lossRate: 0.5 })
    expect(() => a.setFaults({ lossRate: 1.5 })).to.throw(RangeError, 'lossRate')
    expect(() => a.setFaults({ duplicateRate: -1 })).to.throw(RangeError, 'duplicateRate')
    expect(() => a.setFaults({ minDelayMs: -1 })).to.throw(RangeError, 'minDelayMs')
    expect(() => a.setFaults({ minDelayMs: 10, maxDelayMs: 5 })).to.throw(RangeError, 'maxDelayMs')
    expect(a.getFaults().lossRate).to.equal(0.5)
  })

  it('block() drops datagrams both ways; unblock() restores them', () => {
    const { clock, a, b, atA, atB } = setup()
    a.block(b.address)
    a.sendPacket(b.address, Buffer.from('out'))
    b.sendPacket(a.address, Buffer.from('in'))
    clock.advance(0)
    expect(atB).to.deep.equal([])
    expect(atA).to.deep.equal([])
    expect(a.faultStats().blockedPackets).to.equal(2)
    expect(a.stats().dropped['fault-blocked']).to.equal(2)
    expect(a.blockedAddresses()).to.deep.equal([b.address])
    a.unblock(b.address)
    a.sendPacket(b.address, Buffer.from('out'))
    b.sendPacket(a.address, Buffer.from('in'))
    clock.advance(0)
    expect(atB).to.have.length(1)
    expect(atA).to.have.length(1)
  })

  it('a datagram delayed "on the wire" is dropped if the peer is blocked before it is due', () => {
    const { clock, a, b, atB } = setup()
    a.setFaults({ minDelayMs: 10, maxDelayMs: 10 })
    a.sendPacket(b.address, Buffer.from('late'))
    a.block(b.address)
    clock.advance(10)
    expect(atB).to.deep.equal([])
  })

  it('dials to a blocked address hang until their timeout; block() destroys streams dialed earlier', async () => {
    const { clock, a, b } = setup()
    b.onStream(() => {})
    const before = settle(a.dialStream(b.address, 1000))
    clock.advance(0)
    await flush()
    const conn = before.value!
    let closedWith: Error | undefined
    conn.onClose((err) => (closedWith = err))
    a.isolate([b.address])
    expect(conn.closed).to.equal(true)
    clock.advance(0)
    expect(closedWith).to.be.instanceOf(StreamError)
    const dial = settle(a.dialStream(b.address, 500))
    clock.advance(499)
    await flush()
    expect(dial.done).to.equal(false)
    clock.advance(1)
    await flush()
    expect(dial.error).to.be.instanceOf(TimeoutError)
    a.heal()
    const again = settle(a.dialStream(b.address, 500))
    clock.advance(0)
    await flush()
    expect(again.value?.closed).to.equal(false)
    expect(a.faultStats().blockedStreams).to.equal(2)
  })

  it('a dial in flight when the peer gets blocked is refused', async () => {
    const { clock, a, b } = setup()
    b.onStream(() => {})
    const dial = settle(a.dialStream(b.address, 1000))
    a.block(b.address)
    clock.advance(0)
    await flush()
    await flush()
    expect(dial.error).to.be.instanceOf(StreamError)
  })

  it('close() cancels delayed datagrams and rejects hanging dials with ClosedError', async () => {
    const { clock, a, b, atB } = setup()
    a.setFaults({ minDelayMs: 10, maxDelayMs: 10 })
    a.sendPacket(b.address, Buffer.from('never'))
    a.block('127.9.9.9:1')
    const dial = settle(a.dialStream('127.9.9.9:1', 1000))
    await a.close()
    await a.close()
    await flush()
    expect(dial.error).to.be.instanceOf(ClosedError)
    clock.advance(100)
    expect(atB).to.deep.equal([])
    a.sendPacket(b.address, Buffer.from('after'))
    clock.advance(100)
    expect(atB).to.deep.equal([])
  })
})
