import { expect } from 'chai'
import { spawn } from 'node:child_process'
import * as dgram from 'node:dgram'
import * as net from 'node:net'
import { BindError, ClosedError, StreamError, TimeoutError } from '../../lib/errors.js'
import { DEFAULT_MAX_FRAME_BYTES, frameHeader } from '../../lib/transport/framing.js'
import type { StreamConn } from '../../lib/transport/transport.js'
import { formatAddress, parseAddress } from '../../lib/transport/transport.js'
import { UdpTcpTransport } from '../../lib/transport/udp-tcp-transport.js'
import { pollUntil } from '../../tools/wait.js'

const HOST = '127.0.0.1'

/** Polls `predicate` on the event loop until it holds; fails after `maxMs`. */
const eventually = (predicate: () => boolean, what: string | (() => string), maxMs = 3000): Promise<number> =>
  pollUntil(predicate, maxMs, () => `timed out waiting for ${typeof what === 'string' ? what : what()}`, 2)

/** Rejection of `p`, or a failure if it resolves. */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail('expected a rejection'),
    (err: unknown) => err
  )
}

function destroySocket(socket: net.Socket): Promise<void> {
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.destroy()
  return socket.closed ? Promise.resolve() : closed
}

function closeEvent(conn: StreamConn): Promise<Error | undefined> {
  return new Promise((resolve) => conn.onClose(resolve))
}

/** Counts of socket handles that are still open in this process. */
function socketHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => /TCP|UDP|Pipe/i.test(r)).length
}

/** The socket handle count once it stops changing (Node frees a closed handle a few loop turns later). */
async function settledSocketHandles(): Promise<number> {
  let last = socketHandles()
  for (let stable = 0; stable < 5; ) {
    await new Promise((resolve) => setTimeout(resolve, 2))
    const now = socketHandles()
    stable = now === last ? stable + 1 : 0
    last = now
  }
  return last
}

describe('UdpTcpTransport (real sockets on 127.0.0.1)', function () {
  this.timeout(10_000)
  const open: UdpTcpTransport[] = []
  const extra: Array<() => Promise<void> | void> = []

  async function bind(init: Partial<Parameters<typeof UdpTcpTransport.bind>[0]> = {}): Promise<UdpTcpTransport> {
    const t = await UdpTcpTransport.bind({ host: HOST, port: 0, ...init })
    open.push(t)
    return t
  }

  /** Dials b from a; returns [dialed end, accepted end]. */
  async function connect(a: UdpTcpTransport, b: UdpTcpTransport): Promise<[StreamConn, StreamConn]> {
    const accepted = new Promise<StreamConn>((resolve) => b.onStream(resolve))
    const dialed = await a.dialStream(b.address, 2000)
    return [dialed, await accepted]
  }

  /**
   * An address whose SYNs go unanswered: a listener in a child process that
   * never accepts (its event loop spins), with its backlog filled by other
   * connections. Unroutable addresses are no good here: some sandboxes
   * answer for any address. Undefined if the kernel never starts dropping.
   */
  async function blackHole(): Promise<string | undefined> {
    const script = `const s = require('net').createServer().listen({ host: '${HOST}', port: 0, backlog: 1 }, () => {
      process.stdout.write(s.address().port + '\\n', () => { for (;;) {} })
    })`
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'ignore'] })
    const exited = new Promise((resolve) => child.once('close', resolve))
    extra.push(async () => {
      child.kill('SIGKILL')
      await exited
    })
    const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))))
    for (let i = 0; i < 16; i++) {
      const filler = net.connect({ host: HOST, port })
      extra.push(() => destroySocket(filler))
      filler.on('error', () => {})
      const connected = await new Promise<boolean>((resolve) => {
        filler.setTimeout(100, () => resolve(false))
        filler.once('connect', () => resolve(true))
      })
      if (!connected) return formatAddress(HOST, port)
    }
    return undefined
  }

  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()))
    for (const undo of extra.splice(0)) await undo()
  })

  it('binds a real port shared by UDP and TCP', async () => {
    const t = await bind()
    const { host, port } = parseAddress(t.address)
    expect(host).to.equal(HOST)
    expect(port).to.be.greaterThan(0)
    // TCP is listening on it
    await new Promise<void>((resolve, reject) => {
      const s = net.connect({ host, port }, () => {
        s.destroy()
        resolve()
      })
      s.on('error', reject)
    })
    // and UDP is bound to it
    const got = new Promise<string>((resolve) => t.onPacket((d) => resolve(d.toString())))
    const raw = dgram.createSocket('udp4')
    extra.push(() => new Promise<void>((resolve) => raw.close(() => resolve())))
    raw.send(Buffer.from('raw'), port, host)
    expect(await got).to.equal('raw')
  })

  it('defaults maxFrameBytes to DEFAULT_MAX_FRAME_BYTES (16 MiB)', async () => {
    const t = await bind()
    expect(t.maxFrameBytes).to.equal(DEFAULT_MAX_FRAME_BYTES)
    expect(DEFAULT_MAX_FRAME_BYTES).to.equal(16 * 1024 * 1024)
  })

  it('throws BindError when the port is taken', async () => {
    const t = await bind()
    const { port } = parseAddress(t.address)
    const err = await rejection(UdpTcpTransport.bind({ host: HOST, port }))
    expect(err).to.be.instanceOf(BindError)
  })

  it('rejects bad settings', async () => {
    expect(await rejection(UdpTcpTransport.bind({ host: HOST, port: 70000 }))).to.be.instanceOf(RangeError)
    expect(await rejection(UdpTcpTransport.bind({ host: HOST, port: 0, maxPacketBytes: 0 }))).to.be.instanceOf(RangeError)
  })

  it('exchanges datagrams both ways, reporting the sender address', async () => {
    const [a, b] = [await bind(), await bind()]
    const atA: Array<[string, string]> = []
    const atB: Array<[string, string]> = []
    a.onPacket((d, from) => atA.push([d.toString(), from]))
    b.onPacket((d, from) => atB.push([d.toString(), from]))
    a.sendPacket(b.address, Buffer.from('a>b'))
    b.sendPacket(a.address, Buffer.from('b>a'))
    await eventually(() => atA.length === 1 && atB.length === 1, 'datagrams')
    expect(atB).to.deep.equal([['a>b', a.address]])
    expect(atA).to.deep.equal([['b>a', b.address]])
    await eventually(() => a.stats().packetsOut === 1, 'send callback')
    expect(a.stats()).to.include({ packetsOut: 1, packetsIn: 1, bytesOut: 3, bytesIn: 3 })
  })

  it('survives a throwing packet handler and counts it', async () => {
    const [a, b] = [await bind(), await bind()]
    let calls = 0
    b.onPacket(() => {
      calls++
      throw new Error('boom')
    })
    a.sendPacket(b.address, Buffer.from('1'))
    a.sendPacket(b.address, Buffer.from('2'))
    await eventually(() => calls === 2, 'both datagrams')
    expect(b.stats().dropped['handler-error']).to.equal(2)
  })

  it('does not send datagrams above maxPacketBytes, and never throws on bad targets', async () => {
    const a = await bind({ maxPacketBytes: 100 })
    a.sendPacket('127.0.0.1:9', Buffer.alloc(101))
    a.sendPacket('not an address', Buffer.alloc(1))
    expect(a.stats().dropped).to.include({ 'packet-too-large': 1, 'bad-address': 1 })
  })

  it('carries stream frames in order: many small ones and a 1 MiB one, both ways', async () => {
    const [a, b] = await Promise.all([bind(), bind()])
    const [ca, cb] = await connect(a, b)
    expect(ca.remoteAddress).to.equal(b.address)
    expect(parseAddress(cb.remoteAddress).host).to.equal(HOST)
    const atB: Buffer[] = []
    cb.onFrame((f) => {
      atB.push(f)
      cb.send(f) // echo
    })
    const atA: Buffer[] = []
    ca.onFrame((f) => atA.push(f))
    const sent: Buffer[] = []
    for (let i = 0; i < 2000; i++) sent.push(Buffer.from(`frame-${i}`))
    sent.push(Buffer.alloc(0))
    const big = Buffer.alloc(1024 * 1024)
    for (let i = 0; i < big.length; i++) big[i] = i & 255
    sent.push(big, Buffer.from('after-big'))
    for (const f of sent) ca.send(f)
    await eventually(() => atA.length === sent.length, 'echoed frames')
    expect(atB.map((f) => f.toString('hex'))).to.deep.equal(sent.map((f) => f.toString('hex')))
    expect(atA.map((f) => f.toString('hex'))).to.deep.equal(sent.map((f) => f.toString('hex')))
    expect(a.stats().streamsOut).to.equal(1)
    expect(b.stats().streamsIn).to.equal(1)
  })

  it('buffers frames that arrive before a frame handler is set', async () => {
    const [a, b] = await Promise.all([bind(), bind()])
    const [ca, cb] = await connect(a, b)
    ca.send(Buffer.from('early-1'))
    ca.send(Buffer.from('early-2'))
    await new Promise((resolve) => setTimeout(resolve, 20)) // let the bytes land while no handler is set
    const got: string[] = []
    cb.onFrame((f) => got.push(f.toString()))
    await eventually(() => got.length === 2, 'buffered frames')
    expect(got).to.deep.equal(['early-1', 'early-2'])
  })

  it('reports backpressure and drains', async () => {
    const [a, b] = await Promise.all([bind(), bind()])
    const [ca, cb] = await connect(a, b)
    let received = 0
    cb.onFrame(() => received++)
    const chunk = Buffer.alloc(256 * 1024)
    let n = 0
    while (ca.send(chunk)) n++
    await ca.drain()
    expect(n).to.be.lessThan(1000)
    await eventually(() => received === n + 1, 'all frames')
  })

  it('close() flushes and both sides see a clean close', async () => {
    const [a, b] = await Promise.all([bind(), bind()])
    const [ca, cb] = await connect(a, b)
    const got: string[] = []
    cb.onFrame((f) => got.push(f.toString()))
    const [closedA, closedB] = [closeEvent(ca), closeEvent(cb)]
    ca.send(Buffer.from('last words'))
    ca.close()
    ca.close()
    expect(ca.closed).to.equal(true)
    expect(ca.send(Buffer.from('x'))).to.equal(false)
    expect(await closedB).to.equal(undefined)
    expect(await closedA).to.equal(undefined)
    expect(got).to.deep.equal(['last words'])
    expect(cb.closed).to.equal(true)
  })

  it('destroys a stream whose frame exceeds maxFrameBytes, and counts it', async () => {
    const a = await bind()
    const b = await bind({ maxFrameBytes: 1024 })
    const [ca, cb] = await connect(a, b)
    const got: number[] = []
    cb.onFrame((f) => got.push(f.length))
    const [closedA, closedB] = [closeEvent(ca), closeEvent(cb)]
    ca.send(Buffer.alloc(1024))
    ca.send(Buffer.alloc(1025))
    const err = await closedB
    expect(err).to.be.instanceOf(StreamError)
    expect(err!.message).to.match(/maxFrameBytes/)
    await closedA
    expect(got).to.deep.equal([1024])
    expect(b.stats().dropped['frame-too-large']).to.equal(1)
  })

  it('destroys the stream on an oversize header without waiting for the payload', async () => {
    const b = await bind({ maxFrameBytes: 10 })
    const accepted = new Promise<StreamConn>((resolve) => b.onStream(resolve))
    const { port } = parseAddress(b.address)
    const raw = net.connect({ host: HOST, port })
    extra.push(() => destroySocket(raw))
    raw.on('error', () => {})
    const conn = await accepted
    conn.onFrame(() => expect.fail('no frame expected'))
    const closed = closeEvent(conn)
    raw.write(frameHeader(0xffffffff))
    expect(await closed).to.be.instanceOf(StreamError)
  })

  it('a throwing frame handler destroys the stream and is counted', async () => {
    const [a, b] = await Promise.all([bind(), bind()])
    const [ca, cb] = await connect(a, b)
    cb.onFrame(() => {
      throw new Error('bad frame')
    })
    const [closedA, closedB] = [closeEvent(ca), closeEvent(cb)]
    ca.send(Buffer.from('1'))
    expect(await closedB).to.be.instanceOf(StreamError)
    await closedA
    expect(b.stats().dropped['frame-handler-error']).to.equal(1)
  })

  it('rejects a dial to a closed port with StreamError', async () => {
    const a = await bind()
    const gone = await UdpTcpTransport.bind({ host: HOST, port: 0 })
    await gone.close()
    const err = await rejection(a.dialStream(gone.address, 2000))
    expect(err).to.be.instanceOf(StreamError)
    expect((err as Error).message).to.match(/refused/)
  })

  it('rejects a dial that gets no answer with TimeoutError', async function () {
    const a = await bind()
    const target = await blackHole()
    if (target === undefined) this.skip()
    const started = Date.now()
    const err = await rejection(a.dialStream(target, 150))
    expect(err).to.be.instanceOf(TimeoutError)
    expect((err as Error).message).to.match(/timed out after 150 ms/)
    expect(Date.now() - started).to.be.within(100, 2000)
  })

  it('close() releases every socket, rejects pending and later dials, and is idempotent', async () => {
    const before = await settledSocketHandles()
    const [a, b] = [await bind(), await bind()]
    const [ca, cb] = await connect(a, b)
    const [, acceptedByA] = await connect(b, a)
    const [closedCa, closedCb, closedAcc] = [closeEvent(ca), closeEvent(cb), closeEvent(acceptedByA)]
    // still connecting when close() runs: 'connect' cannot fire before this turn ends
    const pending = rejection(a.dialStream(b.address, 5000))
    expect(socketHandles()).to.be.greaterThan(before)
    await Promise.all([a.close(), a.close()])
    await a.close()
    expect(await pending).to.be.instanceOf(ClosedError)
    expect(await closedCa).to.be.instanceOf(ClosedError)
    expect(await closedAcc).to.be.instanceOf(ClosedError)
    await closedCb
    expect(await rejection(a.dialStream(b.address, 100))).to.be.instanceOf(ClosedError)
    a.sendPacket(b.address, Buffer.from('x')) // no throw
    expect(a.stats().dropped['closed']).to.equal(1)
    await b.close()
    // Node lists a closed handle until a later loop turn frees it
    await eventually(() => socketHandles() === before, () => `no socket handles left (before ${before}): ${process.getActiveResourcesInfo().join()}`)
  })
})
