import { expect } from 'chai'
import { ManualClock } from '../../lib/clock.js'
import { BindError, ClosedError, StreamError, TimeoutError } from '../../lib/errors.js'
import { seededRandom } from '../../lib/random.js'
import { MemoryNetwork, type LinkConditions, type MemoryTransport } from '../../lib/transport/memory-network.js'
import type { StreamConn } from '../../lib/transport/transport.js'

interface Tracked<T> {
  done: boolean
  value?: T
  error?: unknown
}

function track<T>(p: Promise<T>): Tracked<T> {
  const t: Tracked<T> = { done: false }
  p.then(
    (value) => Object.assign(t, { done: true, value }),
    (error: unknown) => Object.assign(t, { done: true, error })
  )
  return t
}

/** Lets pending promise callbacks run (no wall-clock wait). */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

function setup(init?: Partial<LinkConditions>, seed = 42): { clock: ManualClock; net: MemoryNetwork } {
  const clock = new ManualClock()
  return { clock, net: new MemoryNetwork({ clock, random: seededRandom(seed) }, init) }
}

function collect(t: MemoryTransport): Array<{ data: string; from: string }> {
  const got: Array<{ data: string; from: string }> = []
  t.onPacket((data, from) => got.push({ data: data.toString(), from }))
  return got
}

/** Dials b from a and returns both ends once connected. */
async function connect(clock: ManualClock, a: MemoryTransport, b: MemoryTransport, advanceMs = 0): Promise<[StreamConn, StreamConn]> {
  let accepted: StreamConn | undefined
  b.onStream((conn) => {
    accepted = conn
  })
  const dial = track(a.dialStream(b.address, 1000))
  clock.advance(advanceMs)
  await flush()
  expect(dial.error).to.equal(undefined)
  expect(dial.done).to.equal(true)
  return [dial.value!, accepted!]
}

function frames(conn: StreamConn): string[] {
  const got: string[] = []
  conn.onFrame((f) => got.push(f.toString()))
  return got
}

function onClose(conn: StreamConn): { called: number; err?: Error } {
  const state: { called: number; err?: Error } = { called: 0 }
  conn.onClose((err) => {
    state.called++
    state.err = err
  })
  return state
}

describe('MemoryNetwork', () => {
  describe('binding', () => {
    it('hands out distinct automatic addresses', () => {
      const { net } = setup()
      const addrs = Array.from({ length: 600 }, () => net.bind().address)
      expect(new Set(addrs).size).to.equal(600)
      expect(addrs[0]).to.equal('127.1.0.1:7946')
      expect(addrs.every((a) => /^127\.\d+\.\d+\.[1-9]\d*:7946$/.test(a))).to.equal(true)
    })

    it('throws BindError for a taken address and TypeError for a malformed one', () => {
      const { net } = setup()
      net.bind('10.0.0.1:1')
      expect(() => net.bind('10.0.0.1:1')).to.throw(BindError)
      expect(() => net.bind('nonsense')).to.throw(TypeError)
    })

    it('skips explicitly bound addresses when choosing one', () => {
      const { net } = setup()
      net.bind('127.1.0.1:7946')
      expect(net.bind().address).to.equal('127.1.0.2:7946')
    })

    it('close() unbinds: packets vanish, the address can be bound again, close is idempotent', async () => {
      const { clock, net } = setup()
      const a = net.bind()
      const b = net.bind()
      const got = collect(b)
      await b.close()
      await b.close()
      a.sendPacket(b.address, Buffer.from('x'))
      clock.advance(1)
      expect(got).to.deep.equal([])
      expect(net.stats().packetsDropped).to.equal(1)
      const b2 = net.bind(b.address)
      const got2 = collect(b2)
      a.sendPacket(b.address, Buffer.from('y'))
      clock.advance(1)
      expect(got2.map((p) => p.data)).to.deep.equal(['y'])
      b.sendPacket(a.address, Buffer.from('z')) // no throw after close
      expect(b.stats().dropped['closed']).to.equal(1)
      const dial = track(b.dialStream(a.address, 100))
      await flush()
      expect(dial.error).to.be.instanceOf(ClosedError)
    })

    it('validates conditions', () => {
      const { net } = setup()
      expect(() => net.setConditions({ lossRate: 1.5 })).to.throw(RangeError, /lossRate/)
      expect(() => net.setConditions({ duplicateRate: -0.1 })).to.throw(RangeError, /duplicateRate/)
      expect(() => net.setConditions({ minDelayMs: 10, maxDelayMs: 5 })).to.throw(RangeError, /maxDelayMs/)
      expect(() => new MemoryNetwork({ clock: new ManualClock(), random: seededRandom(1) }, { minDelayMs: -1 })).to.throw(RangeError)
    })
  })

  describe('datagrams', () => {
    it('delivers via the clock, never inside sendPacket, with the sender address', () => {
      const { clock, net } = setup()
      const a = net.bind()
      const b = net.bind()
      const got = collect(b)
      const buf = Buffer.from('hello')
      a.sendPacket(b.address, buf)
      buf.write('HELLO') // the network copied it
      expect(got).to.deep.equal([])
      clock.advance(0)
      expect(got).to.deep.equal([{ data: 'hello', from: a.address }])
      expect(a.stats()).to.include({ packetsOut: 1, bytesOut: 5 })
      expect(b.stats()).to.include({ packetsIn: 1, bytesIn: 5 })
      expect(net.stats()).to.include({ packetsSent: 1, packetsDelivered: 1, packetsDropped: 0 })
    })

    it('drops datagrams to an unbound address', () => {
      const { clock, net } = setup()
      net.bind().sendPacket('10.9.9.9:1', Buffer.from('x'))
      clock.advance(1)
      expect(net.stats()).to.include({ packetsSent: 1, packetsDelivered: 0, packetsDropped: 1 })
    })

    it('respects delay bounds', () => {
      const { clock, net } = setup({ minDelayMs: 20, maxDelayMs: 30 })
      const a = net.bind()
      const b = net.bind()
      const got = collect(b)
      for (let i = 0; i < 100; i++) a.sendPacket(b.address, Buffer.from(String(i)))
      clock.advance(19.999)
      expect(got).to.have.length(0)
      clock.advance(10.001)
      expect(got).to.have.length(100)
    })

    it('loses roughly lossRate of the packets', () => {
      const { clock, net } = setup({ lossRate: 0.3 })
      const a = net.bind()
      const b = net.bind()
      const got = collect(b)
      for (let i = 0; i < 10_000; i++) a.sendPacket(b.address, Buffer.from('x'))
      clock.advance(1)
      expect(got.length).to.be.within(6700, 7300)
      expect(net.stats().packetsDropped).to.equal(10_000 - got.length)
    })

    it('duplicates roughly duplicateRate of the packets', () => {
      const { clock, net } = setup({ duplicateRate: 0.2 })
      const a = net.bind()
      const b = net.bind()
      const got = collect(b)
      for (let i = 0; i < 10_000; i++) a.sendPacket(b.address, Buffer.from('x'))
      clock.advance(1)
      expect(got.length).to.be.within(11_700, 12_300)
      expect(net.stats().packetsDuplicated).to.equal(got.length - 10_000)
    })

    it('reorders packets when delays spread', () => {
      const { clock, net } = setup({ minDelayMs: 0, maxDelayMs: 50 })
      const a = net.bind()
      const b = net.bind()
      const got = collect(b)
      for (let i = 0; i < 200; i++) a.sendPacket(b.address, Buffer.from(String(i)))
      clock.advance(50)
      const order = got.map((p) => Number(p.data))
      expect([...order].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 200 }, (_, i) => i))
      expect(order).to.not.deep.equal([...order].sort((x, y) => x - y))
    })

    it('is deterministic for a given seed', () => {
      const run = (): string[] => {
        const { clock, net } = setup({ lossRate: 0.2, minDelayMs: 1, maxDelayMs: 40, duplicateRate: 0.1 }, 7)
        const a = net.bind()
        const b = net.bind()
        const got = collect(b)
        for (let i = 0; i < 500; i++) a.sendPacket(b.address, Buffer.from(String(i)))
        clock.advance(100)
        return got.map((p) => p.data)
      }
      expect(run()).to.deep.equal(run())
    })

    it('partition blocks traffic between groups; unnamed addresses reach everyone; heal restores', () => {
      const { clock, net } = setup()
      const [a, b, c] = [net.bind(), net.bind(), net.bind()]
      const [ga, gb, gc] = [collect(a), collect(b), collect(c)]
      net.partition([a.address], [b.address])
      a.sendPacket(b.address, Buffer.from('a>b'))
      b.sendPacket(a.address, Buffer.from('b>a'))
      c.sendPacket(a.address, Buffer.from('c>a'))
      a.sendPacket(c.address, Buffer.from('a>c'))
      c.sendPacket(b.address, Buffer.from('c>b'))
      clock.advance(1)
      expect(ga.map((p) => p.data)).to.deep.equal(['c>a'])
      expect(gb.map((p) => p.data)).to.deep.equal(['c>b'])
      expect(gc.map((p) => p.data)).to.deep.equal(['a>c'])
      expect(net.isReachable(a.address, b.address)).to.equal(false)
      net.heal()
      a.sendPacket(b.address, Buffer.from('a>b'))
      clock.advance(1)
      expect(gb.map((p) => p.data)).to.deep.equal(['c>b', 'a>b'])
    })

    it('block is one-directional and unblock undoes it', () => {
      const { clock, net } = setup()
      const [a, b] = [net.bind(), net.bind()]
      const [ga, gb] = [collect(a), collect(b)]
      net.block(a.address, b.address)
      a.sendPacket(b.address, Buffer.from('a>b'))
      b.sendPacket(a.address, Buffer.from('b>a'))
      clock.advance(1)
      expect(gb).to.have.length(0)
      expect(ga.map((p) => p.data)).to.deep.equal(['b>a'])
      net.unblock(a.address, b.address)
      a.sendPacket(b.address, Buffer.from('a>b'))
      clock.advance(1)
      expect(gb.map((p) => p.data)).to.deep.equal(['a>b'])
    })

    it('per-link conditions override the global ones in one direction', () => {
      const { clock, net } = setup()
      const [a, b] = [net.bind(), net.bind()]
      const [ga, gb] = [collect(a), collect(b)]
      net.setLinkConditions(a.address, b.address, { lossRate: 1 })
      for (let i = 0; i < 10; i++) {
        a.sendPacket(b.address, Buffer.from('a>b'))
        b.sendPacket(a.address, Buffer.from('b>a'))
      }
      clock.advance(1)
      expect(gb).to.have.length(0)
      expect(ga).to.have.length(10)
      net.setLinkConditions(a.address, b.address, undefined)
      a.sendPacket(b.address, Buffer.from('a>b'))
      clock.advance(1)
      expect(gb).to.have.length(1)
    })

    it('counts a throwing packet handler and keeps delivering', () => {
      const { clock, net } = setup()
      const [a, b] = [net.bind(), net.bind()]
      let calls = 0
      b.onPacket(() => {
        calls++
        throw new Error('boom')
      })
      a.sendPacket(b.address, Buffer.from('1'))
      a.sendPacket(b.address, Buffer.from('2'))
      clock.advance(1)
      expect(calls).to.equal(2)
      expect(b.stats().dropped['handler-error']).to.equal(2)
    })

    it('does not send datagrams above maxPacketBytes', () => {
      const { clock, net } = setup()
      const a = net.bind(undefined, { maxPacketBytes: 100 })
      const b = net.bind()
      const got = collect(b)
      a.sendPacket(b.address, Buffer.alloc(101))
      clock.advance(1)
      expect(got).to.have.length(0)
      expect(a.stats().dropped['packet-too-large']).to.equal(1)
    })
  })

  describe('streams', () => {
    it('connects after one delivery delay; remote addresses name the other side', async () => {
      const { clock, net } = setup({ minDelayMs: 5, maxDelayMs: 5 })
      const [a, b] = [net.bind(), net.bind()]
      let accepted: StreamConn | undefined
      b.onStream((conn) => {
        accepted = conn
      })
      const dial = track(a.dialStream(b.address, 1000))
      clock.advance(4)
      await flush()
      expect(dial.done).to.equal(false)
      clock.advance(1)
      await flush()
      expect(dial.value!.remoteAddress).to.equal(b.address)
      expect(accepted!.remoteAddress).to.equal(a.address)
      expect(a.stats().streamsOut).to.equal(1)
      expect(b.stats().streamsIn).to.equal(1)
      expect(net.stats().streamsOpened).to.equal(1)
    })

    it('delivers frames in order both ways despite spread delays, copying buffers', async () => {
      const { clock, net } = setup({ minDelayMs: 0, maxDelayMs: 50, lossRate: 0.5, duplicateRate: 0.5 })
      const [a, b] = [net.bind(), net.bind()]
      const [ca, cb] = await connect(clock, a, b, 50)
      const [fa, fb] = [frames(ca), frames(cb)]
      for (let i = 0; i < 1000; i++) {
        expect(ca.send(Buffer.from(String(i)))).to.equal(true)
        cb.send(Buffer.from(`r${i}`))
        clock.advance(Math.floor(i / 100) % 3)
      }
      clock.advance(50)
      expect(fb).to.deep.equal(Array.from({ length: 1000 }, (_, i) => String(i)))
      expect(fa).to.deep.equal(Array.from({ length: 1000 }, (_, i) => `r${i}`))
    })

    it('copies the frame on send', async () => {
      const { clock, net } = setup()
      const [ca, cb] = await connect(clock, net.bind(), net.bind())
      const got = frames(cb)
      const buf = Buffer.from('abc')
      ca.send(buf)
      buf.write('xyz')
      clock.advance(0)
      expect(got).to.deep.equal(['abc'])
    })

    it('buffers frames that arrive before a frame handler is set', async () => {
      const { clock, net } = setup()
      const [ca, cb] = await connect(clock, net.bind(), net.bind())
      ca.send(Buffer.from('1'))
      ca.send(Buffer.from('2'))
      ca.close()
      clock.advance(1)
      const closed = onClose(cb)
      const got = frames(cb)
      clock.advance(0)
      ca.send(Buffer.from('too late'))
      clock.advance(1)
      expect(got).to.deep.equal(['1', '2'])
      expect(closed).to.deep.equal({ called: 1, err: undefined })
    })

    it('close() flushes queued frames, then both sides close cleanly', async () => {
      const { clock, net } = setup({ minDelayMs: 1, maxDelayMs: 10 })
      const [a, b] = [net.bind(), net.bind()]
      const [ca, cb] = await connect(clock, a, b, 10)
      const got = frames(cb)
      const [closeA, closeB] = [onClose(ca), onClose(cb)]
      for (let i = 0; i < 10; i++) ca.send(Buffer.from(String(i)))
      ca.close()
      ca.close()
      expect(ca.closed).to.equal(true)
      expect(ca.send(Buffer.from('x'))).to.equal(false)
      clock.advance(30)
      expect(got).to.have.length(10)
      expect(closeA).to.deep.equal({ called: 1, err: undefined })
      expect(closeB).to.deep.equal({ called: 1, err: undefined })
      expect(cb.closed).to.equal(true)
    })

    it('onClose set after the close still runs once', async () => {
      const { clock, net } = setup()
      const [ca] = await connect(clock, net.bind(), net.bind())
      ca.destroy(new Error('bye'))
      clock.advance(1)
      const state = onClose(ca)
      clock.advance(0)
      expect(state.called).to.equal(1)
      expect(state.err!.message).to.equal('bye')
    })

    it('dial to an unbound address is refused with StreamError after a delay tick', async () => {
      const { clock, net } = setup()
      const dial = track(net.bind().dialStream('10.1.2.3:4', 1000))
      await flush()
      expect(dial.done).to.equal(false)
      clock.advance(0)
      await flush()
      expect(dial.error).to.be.instanceOf(StreamError)
    })

    it('dial across a partition times out after timeoutMs of clock time', async () => {
      const { clock, net } = setup()
      const [a, b] = [net.bind(), net.bind()]
      b.onStream(() => expect.fail('must not connect'))
      net.partition([a.address], [b.address])
      const dial = track(a.dialStream(b.address, 1000))
      clock.advance(999)
      await flush()
      expect(dial.done).to.equal(false)
      clock.advance(1)
      await flush()
      expect(dial.error).to.be.instanceOf(TimeoutError)
    })

    it('dial times out when only the return direction is blocked', async () => {
      const { clock, net } = setup()
      const [a, b] = [net.bind(), net.bind()]
      net.block(b.address, a.address)
      const dial = track(a.dialStream(b.address, 200))
      clock.advance(200)
      await flush()
      expect(dial.error).to.be.instanceOf(TimeoutError)
    })

    it('a partition resets an open stream on the next send, on both sides', async () => {
      const { clock, net } = setup()
      const [a, b] = [net.bind(), net.bind()]
      const [ca, cb] = await connect(clock, a, b)
      const [closeA, closeB] = [onClose(ca), onClose(cb)]
      net.partition([a.address], [b.address])
      expect(ca.send(Buffer.from('x'))).to.equal(false)
      expect(closeA.called).to.equal(0) // never inside send
      clock.advance(0)
      expect(closeA.err).to.be.instanceOf(StreamError)
      expect(closeB.err).to.be.instanceOf(StreamError)
      expect(ca.closed && cb.closed).to.equal(true)
    })

    it('an oversize frame resets the stream and is counted by the receiver', async () => {
      const { clock, net } = setup()
      const a = net.bind()
      const b = net.bind(undefined, { maxFrameBytes: 10 })
      const [ca, cb] = await connect(clock, a, b)
      const got = frames(cb)
      const [closeA, closeB] = [onClose(ca), onClose(cb)]
      ca.send(Buffer.alloc(10))
      ca.send(Buffer.alloc(11))
      clock.advance(1)
      expect(got).to.have.length(1)
      expect(closeA.err).to.be.instanceOf(StreamError)
      expect(closeB.err).to.be.instanceOf(StreamError)
      expect(b.stats().dropped['frame-too-large']).to.equal(1)
    })

    it('a throwing frame handler destroys the stream and is counted', async () => {
      const { clock, net } = setup()
      const [a, b] = [net.bind(), net.bind()]
      const [ca, cb] = await connect(clock, a, b)
      cb.onFrame(() => {
        throw new Error('bad frame')
      })
      const [closeA, closeB] = [onClose(ca), onClose(cb)]
      ca.send(Buffer.from('1'))
      ca.send(Buffer.from('2'))
      clock.advance(1)
      expect(b.stats().dropped['frame-handler-error']).to.equal(1)
      expect(closeB.err).to.be.instanceOf(StreamError)
      expect(closeA).to.deep.equal({ called: 1, err: undefined })
    })

    it('accepted streams are destroyed when no stream handler is set', async () => {
      const { clock, net } = setup()
      const [a, b] = [net.bind(), net.bind()]
      const dial = track(a.dialStream(b.address, 100))
      clock.advance(0)
      await flush()
      const state = onClose(dial.value!)
      clock.advance(1)
      expect(state.called).to.equal(1)
      expect(b.stats().dropped['no-stream-handler']).to.equal(1)
    })

    it('closing a transport destroys its streams and rejects its pending dials', async () => {
      const { clock, net } = setup({ minDelayMs: 10, maxDelayMs: 10 })
      const [a, b, c] = [net.bind(), net.bind(), net.bind()]
      const [ca, cb] = await connect(clock, a, b, 10)
      const [closeA, closeB] = [onClose(ca), onClose(cb)]
      c.onStream(() => expect.fail('must not connect'))
      const pending = track(a.dialStream(c.address, 1000))
      await a.close()
      await flush()
      expect(pending.error).to.be.instanceOf(ClosedError)
      clock.advance(20)
      expect(closeA.err).to.be.instanceOf(ClosedError)
      expect(closeB).to.deep.equal({ called: 1, err: undefined })
    })
  })
})
