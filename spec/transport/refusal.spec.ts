/**
 * Refusal frames (transport/refusal.ts, secure-stream-conn.ts): the format,
 * who sends one, who reads one, and that an unauthenticated refusal can do
 * nothing but end the dialled stream it arrived on with a better error.
 */
import { expect } from 'chai'
import { seededRandom } from '../../lib/random.js'
import { MemoryNetwork } from '../../lib/transport/memory-network.js'
import { Keyring } from '../../lib/transport/keyring.js'
import { FLAG_REFUSAL, REFUSAL_REASONS, StreamRefusedError, decodeRefusal, encodeRefusal } from '../../lib/transport/refusal.js'
import { SecureTransport, type SecureTransportInit } from '../../lib/transport/secure-transport.js'
import type { StreamConn, Transport } from '../../lib/transport/transport.js'
import { VirtualTime } from '../support/virtual-time.js'

const k1 = Buffer.alloc(32, 0x11)
const k2 = Buffer.alloc(32, 0x22)
/** A frame as the wire layer writes it: the protocol version byte, then msgpack. */
const protocolFrame = Buffer.from([1, 0x92, 0x02, 0x07])

class Net extends VirtualTime {
  readonly net = new MemoryNetwork({ clock: this.clock, random: seededRandom(17) })
  private readonly open: Transport[] = []
  constructor() { super(1) }
  raw(): Transport {
    const t = this.net.bind()
    this.open.push(t)
    return t
  }
  secure(init: SecureTransportInit): SecureTransport {
    const t = new SecureTransport(this.raw(), init)
    this.open.push(t)
    return t
  }
  async close(): Promise<void> {
    await Promise.all(this.open.map((t) => t.close()))
  }
}

/** What one end saw of a stream. */
interface Seen { frames: Buffer[]; closedWith: Error | undefined | null }

function watch(conn: StreamConn): Seen {
  const seen: Seen = { frames: [], closedWith: null }
  conn.onFrame((f) => seen.frames.push(f))
  conn.onClose((err) => { seen.closedWith = err })
  return seen
}

describe('Refusal frames', () => {
  it('encode and decode every reason; anything else is not a refusal', () => {
    for (const r of REFUSAL_REASONS) expect(decodeRefusal(encodeRefusal(r))).to.equal(r)
    const ok = encodeRefusal('label-mismatch')
    expect(ok).to.have.length(5)
    expect(ok[3]).to.equal(FLAG_REFUSAL)
    expect(decodeRefusal(Buffer.concat([ok, Buffer.from([0])])), 'longer').to.equal(undefined)
    expect(decodeRefusal(ok.subarray(0, 4)), 'shorter').to.equal(undefined)
    expect(decodeRefusal(Buffer.from([0xbc, 0xac, 1, FLAG_REFUSAL, 0])), 'code 0').to.equal(undefined)
    expect(decodeRefusal(Buffer.from([0xbc, 0xac, 1, FLAG_REFUSAL, REFUSAL_REASONS.length + 1])), 'unknown code').to.equal(undefined)
    expect(decodeRefusal(Buffer.from([0xbc, 0xac, 2, FLAG_REFUSAL, 1])), 'other version').to.equal(undefined)
    expect(decodeRefusal(Buffer.from([0xbc, 0xac, 1, 0x01, 1])), 'other flags').to.equal(undefined)
  })

  it('a dialled stream refused for its key ends with StreamRefusedError naming the reason, even before a frame handler is set', async () => {
    const n = new Net()
    const seed = n.secure({ keyring: new Keyring([k1]) })
    const accepted: Seen[] = []
    seed.onStream((c) => accepted.push(watch(c)))
    const joiner = n.secure({ keyring: new Keyring([k2]) })
    const conn = await n.settle(joiner.dialStream(seed.address, 1000))
    let closedWith: Error | undefined
    conn.onClose((err) => { closedWith = err })
    conn.send(protocolFrame)
    await n.run(10)
    expect(conn.closed).to.equal(true)
    expect(closedWith).to.be.instanceOf(StreamRefusedError)
    expect((closedWith as StreamRefusedError).reason).to.equal('decrypt-failed')
    expect(accepted[0]!.frames).to.deep.equal([])
    expect(seed.stats().dropped).to.deep.equal({ 'stream-decrypt-failed': 1 })
    await n.close()
  })

  it('a frame that is not a protocol frame gets no refusal: the stream is only destroyed', async () => {
    const n = new Net()
    const seed = n.secure({ keyring: new Keyring([k1]) })
    seed.onStream((c) => watch(c))
    const raw = n.raw()
    const conn = await n.settle(raw.dialStream(seed.address, 1000))
    const seen = watch(conn)
    conn.send(Buffer.from('GET / HTTP/1.1\r\n'))
    await n.run(10)
    expect(seen.frames, 'nothing reflected').to.deep.equal([])
    expect(conn.closed).to.equal(true)
    await n.close()
  })

  it('a refusal from the accepted side after a frame was accepted is not a refusal (the stream fails as tampered)', async () => {
    const n = new Net()
    const raw = n.raw()
    raw.onStream((c) => c.onFrame(() => { c.send(Buffer.from([1, 2, 3])); c.send(encodeRefusal('label-mismatch')) }))
    const joiner = n.secure({})
    const conn = await n.settle(joiner.dialStream(raw.address, 1000))
    const seen = watch(conn)
    conn.send(protocolFrame)
    await n.run(10)
    expect(seen.frames.map((f) => [...f])).to.deep.equal([[1, 2, 3]])
    expect(seen.closedWith).to.not.be.instanceOf(StreamRefusedError)
    await n.close()
  })

  it('a refusal sent to an accepted stream is refused (flags), counted and never answered', async () => {
    const n = new Net()
    const seed = n.secure({ keyring: new Keyring([k1]) })
    const accepted: Seen[] = []
    seed.onStream((c) => accepted.push(watch(c)))
    const raw = n.raw()
    const conn = await n.settle(raw.dialStream(seed.address, 1000))
    const seen = watch(conn)
    conn.send(encodeRefusal('decrypt-failed'))
    await n.run(10)
    expect(seen.frames, 'no refusal echoed').to.deep.equal([])
    expect(accepted[0]!.frames).to.deep.equal([])
    expect(accepted[0]!.closedWith).to.not.be.instanceOf(StreamRefusedError)
    expect(seed.stats().dropped).to.deep.equal({ 'stream-flags': 1 })
    await n.close()
  })

  it('a dialled stream holds frames that arrive before its handler and delivers them in order', async () => {
    const n = new Net()
    const seed = n.secure({ label: 'x' })
    seed.onStream((c) => c.onFrame((f) => { c.send(f); c.send(Buffer.concat([f, f])) }))
    const joiner = n.secure({ label: 'x' })
    const conn = await n.settle(joiner.dialStream(seed.address, 1000))
    conn.send(Buffer.from('ab'))
    await n.run(10)
    const seen = watch(conn)
    expect(seen.frames.map(String)).to.deep.equal(['ab', 'abab'])
    await n.close()
  })
})
