import { expect } from 'chai'
import { ManualClock } from '../../lib/clock.js'
import { seededRandom } from '../../lib/random.js'
import { MemoryNetwork } from '../../lib/transport/memory-network.js'
import type { StreamConn, Transport } from '../../lib/transport/transport.js'
import { UdpTcpTransport } from '../../lib/transport/udp-tcp-transport.js'
import { pollUntil } from '../../tools/wait.js'

/** A 10-byte datagram a → b, and frames of 100 and 0 bytes a → b with a 7-byte reply b → a. */
async function exchange(a: Transport, b: Transport, settle: (done: () => boolean) => Promise<void>): Promise<void> {
  let packets = 0
  b.onPacket(() => { packets++ })
  const accepted = new Promise<StreamConn>((resolve) => b.onStream(resolve))
  const ca = await a.dialStream(b.address, 2000)
  const cb = await accepted
  let atB = 0, atA = 0
  cb.onFrame(() => {
    atB++
    if (atB === 2) cb.send(Buffer.alloc(7))
  })
  ca.onFrame(() => { atA++ })
  a.sendPacket(b.address, Buffer.alloc(10))
  ca.send(Buffer.alloc(100))
  ca.send(Buffer.alloc(0))
  await settle(() => packets === 1 && atA === 1 && a.stats().packetsOut === 1)
}

/** What both transports must report after {@link exchange}: datagram and stream bytes apart, length prefixes counted. */
function expectCounts(a: Transport, b: Transport): void {
  expect(a.stats()).to.include({ packetBytesOut: 10, packetBytesIn: 0, streamBytesOut: 104 + 4, streamBytesIn: 7 + 4 })
  expect(b.stats()).to.include({ packetBytesIn: 10, packetBytesOut: 0, streamBytesIn: 104 + 4, streamBytesOut: 7 + 4 })
  // the older totals stay what they were: datagrams plus frame payloads
  expect(a.stats()).to.include({ bytesOut: 110, bytesIn: 7 })
  expect(b.stats()).to.include({ bytesIn: 110, bytesOut: 7 })
}

describe('TransportCounters: datagram and stream bytes counted apart', function () {
  this.timeout(10_000)

  it('UdpTcpTransport counts stream bytes as sent on the socket, length prefixes included', async () => {
    const a = await UdpTcpTransport.bind({ host: '127.0.0.1', port: 0 })
    const b = await UdpTcpTransport.bind({ host: '127.0.0.1', port: 0 })
    try {
      await exchange(a, b, async (done) => { await pollUntil(done, 3000, () => 'datagram and frames', 2) })
      expectCounts(a, b)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  it('the in-memory network counts the same way', async () => {
    const clock = new ManualClock()
    const net = new MemoryNetwork({ clock, random: seededRandom(1) }, { minDelayMs: 1, maxDelayMs: 1 })
    const a = net.bind(), b = net.bind()
    const settle = async (done: () => boolean): Promise<void> => {
      for (let i = 0; i < 100 && !done(); i++) {
        clock.advance(1)
        await new Promise((r) => setImmediate(r))
      }
      expect(done()).to.equal(true)
    }
    // the dial completes after the stream delay: advance while it is pending
    const run = exchange(a, b, settle)
    for (let i = 0; i < 5; i++) {
      clock.advance(1)
      await new Promise((r) => setImmediate(r))
    }
    await run
    expectCounts(a, b)
    await Promise.all([a.close(), b.close()])
  })
})
