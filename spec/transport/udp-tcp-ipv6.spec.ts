/**
 * UdpTcpTransport and IPv6: address formatting (brackets, IPv4-mapped
 * addresses written as IPv4), and a dual-stack node bound to "::" that
 * exchanges datagrams and streams with an IPv4 node on 127.0.0.1.
 * Real sockets on the loopback only; skipped, saying why, without IPv6.
 */
import dgram from 'node:dgram'
import { expect } from 'chai'
import { UdpTcpTransport } from '../../lib/transport/udp-tcp-transport.js'
import { formatAddress, parseAddress } from '../../lib/transport/transport.js'
import { pollUntil } from '../../tools/wait.js'

async function canBindV6Any(): Promise<boolean> {
  const udp = dgram.createSocket({ type: 'udp6' })
  try {
    await new Promise<void>((resolve, reject) => { udp.once('error', reject); udp.bind({ address: '::', port: 0 }, resolve) })
    return true
  } catch {
    return false
  } finally {
    try { udp.close() } catch { /* not bound */ }
  }
}

describe('IPv6 addresses', () => {
  it('formats and parses bracketed IPv6; an IPv4-mapped address is written as IPv4', () => {
    expect(formatAddress('::1', 7946)).to.equal('[::1]:7946')
    expect(formatAddress('fe80::1%eth0', 1)).to.equal('[fe80::1%eth0]:1')
    expect(formatAddress('::ffff:127.0.0.1', 5)).to.equal('127.0.0.1:5')
    expect(formatAddress('::FFFF:10.1.2.3', 5)).to.equal('10.1.2.3:5')
    expect(formatAddress('10.0.0.1', 5)).to.equal('10.0.0.1:5')
    expect(parseAddress('[::1]:7946')).to.deep.equal({ host: '::1', port: 7946 })
    expect(parseAddress('[fe80::1%eth0]:1')).to.deep.equal({ host: 'fe80::1%eth0', port: 1 })
  })
})

describe('UdpTcpTransport dual stack ("::" and 127.0.0.1)', function () {
  this.timeout(10_000)
  const open: UdpTcpTransport[] = []

  before(async function () {
    if (!(await canBindV6Any())) {
      console.log('      (skipped: this machine cannot bind UDP on [::]; IPv6 is disabled)')
      this.skip()
    }
  })

  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()))
  })

  it('datagrams flow both ways and the IPv4 peer is seen at its IPv4 address; streams too', async () => {
    const six = await UdpTcpTransport.bind({ host: '::', port: 0 })
    open.push(six)
    const four = await UdpTcpTransport.bind({ host: '127.0.0.1', port: 0 })
    open.push(four)
    const sixPort = parseAddress(six.address).port
    const fromSeen: string[] = []
    const got: string[] = []
    six.onPacket((data, from) => { fromSeen.push(from); six.sendPacket(from, Buffer.from('pong')) })
    four.onPacket((data) => got.push(String(data)))
    four.sendPacket(`127.0.0.1:${sixPort}`, Buffer.from('ping'))
    await pollUntil(() => got.length > 0, 5000, () => 'no reply from the dual-stack node', 5)
    expect(fromSeen).to.deep.equal([four.address])
    expect(got).to.deep.equal(['pong'])
    expect(six.stats().dropped).to.deep.equal({})

    const accepted: string[] = []
    six.onStream((c) => { accepted.push(c.remoteAddress); c.onFrame((f) => c.send(f)) })
    const conn = await four.dialStream(`127.0.0.1:${sixPort}`, 2000)
    const echoed: string[] = []
    conn.onFrame((f) => echoed.push(String(f)))
    conn.send(Buffer.from('hi'))
    await pollUntil(() => echoed.length > 0, 5000, () => 'no stream echo', 5)
    expect(accepted[0]).to.match(/^127\.0\.0\.1:\d+$/)
    conn.close()
  })
})
