/**
 * The security envelope and SecureTransport: encryption, keyring rotation,
 * cluster labels, refusals (counted and logged), the migration window, and
 * streams; then whole caches with secretKeys and labels.
 */
import { expect } from 'chai'
import { seededRandom } from '../../lib/random.js'
import { VirtualTime } from '../support/virtual-time.js'
import { MemoryNetwork } from '../../lib/transport/memory-network.js'
import { Keyring } from '../../lib/transport/keyring.js'
import { SecureTransport, secureOverhead } from '../../lib/transport/secure-transport.js'
import { NonceSequence, openEnvelope, sealEnvelope } from '../../lib/transport/envelope.js'
import type { Logger } from '../../lib/logger.js'
import type { StreamConn } from '../../lib/transport/transport.js'
import { buildPacket, decodePacket, encodeMessage } from '../../lib/wire/codec.js'
import { MsgType } from '../../lib/wire/messages.js'
import { CacheCluster } from '../support/cache-cluster.js'

const k1 = Buffer.alloc(32, 0x11)
const k2 = Buffer.alloc(32, 0x22)
const k3 = Buffer.alloc(32, 0x33)
const ping = buildPacket([encodeMessage({ type: MsgType.Ping, seq: 7, targetId: 'b', sourceId: 'a', sourceAddr: '10.0.0.1:1' })])

class Recorder implements Logger {
  readonly lines: Array<[string, string]> = []
  debug(m: string): void { this.lines.push(['debug', m]) }
  info(m: string): void { this.lines.push(['info', m]) }
  warn(m: string): void { this.lines.push(['warn', m]) }
  error(m: string): void { this.lines.push(['error', m]) }
}

class Pair extends VirtualTime {
  readonly net = new MemoryNetwork({ clock: this.clock, random: seededRandom(3) })
  readonly got: Array<{ t: string; data: Buffer }> = []
  constructor() { super(1) }
  node(init: ConstructorParameters<typeof SecureTransport>[1]): SecureTransport {
    const t = new SecureTransport(this.net.bind(), init)
    t.onPacket((data) => this.got.push({ t: t.address, data }))
    return t
  }
  async deliver(): Promise<void> { await this.run(5) }
}

describe('Keyring', () => {
  it('validates keys naming the option or call', () => {
    expect(() => new Keyring([Buffer.alloc(16)])).to.throw(RangeError, /secretKeys\[0\].*32 bytes/)
    expect(() => new Keyring(['x' as unknown as Buffer])).to.throw(TypeError, /secretKeys\[0\]/)
    const ring = new Keyring([k1])
    expect(() => ring.add(Buffer.alloc(31))).to.throw(RangeError, /keyring.add/)
    expect(() => ring.use(null as unknown as Buffer)).to.throw(TypeError, /keyring.use/)
  })

  it('adds, uses and removes keys; never removes the primary; copies keys in and out', () => {
    const mine = Buffer.from(k1)
    const ring = new Keyring([mine, k1])
    mine.fill(0)
    expect(ring.keys()).to.deep.equal([k1])
    ring.add(k2)
    ring.add(k2)
    expect(ring.keys()).to.deep.equal([k1, k2])
    ring.use(k2)
    expect(ring.primary()).to.deep.equal(k2)
    expect(() => ring.remove(k2)).to.throw(/primary/)
    expect(ring.remove(k1)).to.equal(true)
    expect(ring.remove(k3)).to.equal(false)
    ring.keys()[0]!.fill(0)
    expect(ring.keys()).to.deep.equal([k2])
  })
})

describe('envelope', () => {
  const policy = { keys: [k1], label: Buffer.from('prod'), allowPlaintext: false }

  it('round-trips; the ciphertext hides the payload; every single-byte change is refused', () => {
    const payload = Buffer.from('a secret cache value, long enough to look for')
    const sealed = sealEnvelope(payload, 1, policy.label, k1, new NonceSequence())
    expect(sealed.length).to.equal(payload.length + 4 + 1 + 4 + 12 + 16)
    expect(sealed.includes(Buffer.from('secret'))).to.equal(false)
    const r = openEnvelope(sealed, policy)
    expect(r).to.not.be.a('string')
    expect((r as { payload: Buffer }).payload).to.deep.equal(payload)
    for (let i = 3; i < sealed.length; i++) {
      const bad = Buffer.from(sealed)
      bad[i] = bad[i]! ^ 0x40
      expect(openEnvelope(bad, policy), `byte ${i}`).to.be.a('string')
    }
  })

  it('never repeats a nonce within a process', () => {
    const seq = new NonceSequence()
    const seen = new Set<string>()
    const out = Buffer.alloc(12)
    for (let i = 0; i < 10_000; i++) {
      seq.take(out, 0)
      seen.add(out.toString('hex'))
    }
    expect(seen.size).to.equal(10_000)
  })

  it('authenticates the label: same key, other label → label-mismatch; forged label → decrypt-failed', () => {
    const sealed = sealEnvelope(Buffer.from('x'), 1, Buffer.from('prod'), k1, new NonceSequence())
    expect(openEnvelope(sealed, { ...policy, label: Buffer.from('test') })).to.equal('label-mismatch')
    const forged = Buffer.from(sealed)
    forged.write('test', 5) // same length: rewrite the label in place
    expect(openEnvelope(forged, { ...policy, label: Buffer.from('test') })).to.equal('decrypt-failed')
  })

  it('overhead: 28 bytes for encryption, 1 + label bytes for a label', () => {
    expect(secureOverhead('', false)).to.equal(0)
    expect(secureOverhead('', true)).to.equal(28)
    expect(secureOverhead('prod', true)).to.equal(33)
    expect(secureOverhead('prod', false)).to.equal(5)
  })
})

describe('SecureTransport', () => {
  it('encrypts datagrams end to end; the receiver gets the plain inner datagram', async () => {
    const p = new Pair()
    const a = p.node({ keyring: new Keyring([k1]) })
    const b = p.node({ keyring: new Keyring([k1]) })
    a.sendPacket(b.address, ping)
    await p.deliver()
    expect(p.got).to.have.length(1)
    expect(p.got[0]!.data).to.deep.equal(ping)
    expect(decodePacket(p.got[0]!.data)[0]!.type).to.equal(MsgType.Ping)
    expect(a.stats().bytesOut).to.equal(ping.length + 28) // sealed on the wire: nonce + tag added
  })

  it('rotates keys live: add everywhere, use everywhere, remove the old one; nothing is dropped', async () => {
    const p = new Pair()
    const ra = new Keyring([k1])
    const rb = new Keyring([k1])
    const a = p.node({ keyring: ra })
    const b = p.node({ keyring: rb })
    const exchange = async (): Promise<void> => {
      p.got.length = 0
      a.sendPacket(b.address, ping)
      b.sendPacket(a.address, ping)
      await p.deliver()
      expect(p.got).to.have.length(2)
    }
    await exchange()
    ra.add(k2); await exchange()
    rb.add(k2); await exchange()
    ra.use(k2); await exchange() // a sends with k2, b still with k1: both accepted
    rb.use(k2); await exchange()
    ra.remove(k1); await exchange()
    rb.remove(k1); await exchange()
    expect(a.stats().dropped).to.deep.equal({})
    expect(b.stats().dropped).to.deep.equal({})
  })

  it('refuses and counts: wrong key, encrypted without key, plaintext with key, label mismatch; warns once per reason', async () => {
    const p = new Pair()
    const log = new Recorder()
    const a = p.node({ keyring: new Keyring([k1]) })
    const plain = p.node({})
    const other = p.node({ keyring: new Keyring([k2]), logger: log })
    const noKey = p.node({ logger: log })
    const labelled = p.node({ keyring: new Keyring([k1]), label: 'prod' })
    const receiver = p.node({ keyring: new Keyring([k1]), label: 'test', logger: log })
    for (let i = 0; i < 3; i++) {
      a.sendPacket(other.address, ping) // decrypt-failed
      a.sendPacket(noKey.address, ping) // encrypted-without-key
      plain.sendPacket(a.address, ping) // plaintext-refused at a
      labelled.sendPacket(receiver.address, ping) // label-mismatch
    }
    await p.deliver()
    expect(p.got).to.have.length(0)
    expect(other.stats().dropped).to.include({ 'decrypt-failed': 3 })
    expect(noKey.stats().dropped).to.include({ 'encrypted-without-key': 3 })
    expect(a.stats().dropped).to.include({ 'plaintext-refused': 3 })
    expect(receiver.stats().dropped).to.include({ 'label-mismatch': 3 })
    const warns = log.lines.filter(([lvl]) => lvl === 'warn').map(([, m]) => m)
    expect(warns).to.have.length(3)
    expect(warns.join('\n')).to.match(/encrypted, but no secretKeys are configured here/)
    expect(warns.join('\n')).to.match(/cluster label differs/)
  })

  it('label without encryption: labelled datagrams pass between equal labels, not across', async () => {
    const p = new Pair()
    const a = p.node({ label: 'blue' })
    const b = p.node({ label: 'blue' })
    const c = p.node({ label: 'green' })
    const d = p.node({})
    a.sendPacket(b.address, ping)
    a.sendPacket(c.address, ping)
    a.sendPacket(d.address, ping)
    d.sendPacket(b.address, ping)
    await p.deliver()
    expect(p.got.map((g) => g.t)).to.deep.equal([b.address])
    expect(p.got[0]!.data).to.deep.equal(ping)
    expect(c.stats().dropped).to.include({ 'label-mismatch': 1 })
    expect(d.stats().dropped).to.include({ 'label-mismatch': 1 })
    expect(b.stats().dropped).to.include({ 'label-mismatch': 1 })
  })

  it('migration window: accepts plaintext and answers that peer in plaintext until it sends encrypted', async () => {
    const p = new Pair()
    const ring = new Keyring([k1])
    const upgraded = p.node({ keyring: ring, allowPlaintext: true })
    const old = p.node({})
    old.sendPacket(upgraded.address, ping)
    await p.deliver()
    upgraded.sendPacket(old.address, ping)
    await p.deliver()
    expect(p.got.map((g) => g.t)).to.deep.equal([upgraded.address, old.address])
    expect(old.stats().dropped).to.deep.equal({})
    // once the peer has the key and sends encrypted, it gets encrypted traffic again
    const later = p.node({ keyring: new Keyring([k1]) })
    p.got.length = 0
    later.sendPacket(upgraded.address, ping)
    upgraded.sendPacket(later.address, ping)
    await p.deliver()
    expect(p.got).to.have.length(2)
    expect(later.stats().dropped).to.deep.equal({})
  })

  describe('streams', () => {
    async function openPair(p: Pair, a: SecureTransport, b: SecureTransport): Promise<{ mine: StreamConn; theirs: Buffer[]; accepted: StreamConn[] }> {
      const theirs: Buffer[] = []
      const accepted: StreamConn[] = []
      b.onStream((conn) => {
        accepted.push(conn)
        conn.onFrame((f) => {
          theirs.push(f)
          conn.send(Buffer.concat([Buffer.from('re:'), f]))
        })
      })
      const mine = await p.settle(a.dialStream(b.address, 1000))
      return { mine, theirs, accepted }
    }

    it('encrypts every frame both ways, each side with its own primary', async () => {
      const p = new Pair()
      const a = p.node({ keyring: new Keyring([k1, k2]), label: 'x' })
      const b = p.node({ keyring: new Keyring([k2, k1]), label: 'x' })
      const { mine, theirs } = await openPair(p, a, b)
      const replies: Buffer[] = []
      mine.onFrame((f) => replies.push(f))
      mine.send(Buffer.from('hello'))
      mine.send(Buffer.alloc(100_000, 9))
      await p.run(10)
      expect(theirs.map((f) => f.length)).to.deep.equal([5, 100_000])
      expect(replies[0]!.toString()).to.equal('re:hello')
      expect(replies[1]!.length).to.equal(100_003)
      expect(a.stats().dropped).to.deep.equal({})
      expect(b.stats().dropped).to.deep.equal({})
    })

    it('a frame under a foreign key destroys the stream and is counted', async () => {
      const p = new Pair()
      const a = p.node({ keyring: new Keyring([k3]) })
      const b = p.node({ keyring: new Keyring([k1]) })
      const { mine, theirs } = await openPair(p, a, b)
      let closedWith: Error | undefined
      mine.onClose((err) => { closedWith = err })
      mine.send(Buffer.from('hello'))
      await p.run(10)
      expect(theirs).to.have.length(0)
      expect(b.stats().dropped).to.include({ 'stream-decrypt-failed': 1 })
      expect(mine.closed).to.equal(true)
      void closedWith
    })

    it('plain node to keyed node: refused unless in the migration window, where the reply is plain too', async () => {
      const p = new Pair()
      const plain = p.node({})
      const strict = p.node({ keyring: new Keyring([k1]) })
      const lax = p.node({ keyring: new Keyring([k1]), allowPlaintext: true })
      const s1 = await openPair(p, plain, strict)
      s1.mine.send(Buffer.from('hi'))
      await p.run(10)
      expect(s1.theirs).to.have.length(0)
      expect(strict.stats().dropped).to.include({ 'stream-plaintext-refused': 1 })
      const s2 = await openPair(p, plain, lax)
      const replies: Buffer[] = []
      s2.mine.onFrame((f) => replies.push(f))
      s2.mine.send(Buffer.from('hi'))
      await p.run(10)
      expect(replies.map(String)).to.deep.equal(['re:hi'])
      expect(plain.stats().dropped).to.deep.equal({})
    })
  })
})

describe('Bcache with secretKeys and label', function () {
  this.timeout(60_000)

  it('replicates encrypted, rotates keys under traffic without dropping, and never mixes with another cluster', async () => {
    const blue = new CacheCluster(5, { secretKeys: [k1], label: 'blue' })
    const nodes = await blue.start(3)
    nodes[0]!.set('a', 'one')
    await blue.run(200)
    expect(nodes.map((n) => n.get('a'))).to.deep.equal(['one', 'one', 'one'])
    expect(nodes[0]!.keyring.keys()).to.deep.equal([k1])

    // A node of another cluster (same key, other label) on the same network cannot join it.
    const joinErr = await blue.add({ label: 'green', peers: [nodes[0]!.address] }).then(() => undefined, (err: Error) => err)
    expect(joinErr?.name).to.equal('JoinError')
    expect(nodes[0]!.stats().dropped['stream-label-mismatch']).to.be.greaterThan(0)

    for (const n of nodes) n.keyring.add(k2)
    nodes[1]!.set('b', 'two')
    for (const n of nodes) n.keyring.use(k2)
    nodes[2]!.set('c', 'three')
    for (const n of nodes) n.keyring.remove(k1)
    nodes[0]!.set('d', 'four')
    await blue.run(3_000)
    expect(blue.agree(['a', 'b', 'c', 'd'])).to.equal(true)
    expect(nodes[1]!.get('d')).to.equal('four')
    for (const n of nodes) {
      const d = n.stats().dropped
      expect(d['decrypt-failed'] ?? 0, JSON.stringify(d)).to.equal(0)
      expect(n.members().filter((m) => m.state === 'alive')).to.have.length(3)
    }
    await blue.closeAll()
  })

  it('rejects bad security options naming them', async () => {
    const c = new CacheCluster(7)
    const bad = async (opts: object): Promise<Error> => {
      try {
        await c.add(opts)
      } catch (err) {
        return err as Error
      }
      throw new Error('no error')
    }
    expect(await bad({ secretKeys: [Buffer.alloc(8)] })).to.match(/secretKeys\[0\]/)
    expect(await bad({ label: 'x'.repeat(256) })).to.be.instanceOf(RangeError).and.match(/option label/)
    expect(await bad({ allowPlaintext: 'yes' })).to.be.instanceOf(TypeError).and.match(/allowPlaintext/)
    expect(await bad({ maxKeyBytes: 2000 })).to.be.instanceOf(RangeError).and.match(/maxKeyBytes/)
    expect(await bad({ maxMembers: 0 })).to.be.instanceOf(RangeError).and.match(/maxMembers/)
    expect(await bad({ maxSyncs: 1.5 })).to.be.instanceOf(RangeError).and.match(/maxSyncs/) // a number of the wrong kind: RangeError (option-checks.ts)
  })
})
