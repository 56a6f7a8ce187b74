/**
 * SecureTransport's receive rules, one row per rule: what a receiver with a
 * given keyring, label and migration setting does with each kind of input
 * (delivered, or dropped and counted under one reason). The rows that
 * matter most: a labelled plaintext datagram or frame, right label, sent to
 * a node with keys, is refused unless the migration window is open.
 */
import { expect } from 'chai'
import { seededRandom } from '../../lib/random.js'
import { MemoryNetwork } from '../../lib/transport/memory-network.js'
import { Keyring } from '../../lib/transport/keyring.js'
import { SecureTransport, type SecureTransportInit } from '../../lib/transport/secure-transport.js'
import { HEADER_MAGIC, FLAG_LABELLED, HEADER_BYTES } from '../../lib/transport/header.js'
const [ENVELOPE_MAGIC0, ENVELOPE_MAGIC1] = HEADER_MAGIC
import type { StreamConn, Transport } from '../../lib/transport/transport.js'
import { buildPacket, encodeMessage } from '../../lib/wire/codec.js'
import { MsgType } from '../../lib/wire/messages.js'
import { VirtualTime } from '../support/virtual-time.js'

const k1 = Buffer.alloc(32, 0x11)
const k2 = Buffer.alloc(32, 0x22)
const ping = buildPacket([encodeMessage({ type: MsgType.Ping, seq: 7, targetId: 'b', sourceId: 'a', sourceAddr: '10.0.0.1:1' })])

const VERSION = 1

/** A labelled, unencrypted envelope built by hand: header with FLAG_LABELLED only, label, payload. */
function labelled(label: string, payload: Buffer): Buffer {
  const l = Buffer.from(label)
  return Buffer.concat([Buffer.from([ENVELOPE_MAGIC0, ENVELOPE_MAGIC1, VERSION, FLAG_LABELLED, l.length]), l, payload])
}

/** A datagram as a label-only node sends it: the envelope replaces the datagram's own header. */
function labelledPlain(label: string, datagram: Buffer): Buffer {
  return labelled(label, datagram.subarray(HEADER_BYTES))
}

type Sender = { kind: 'secure'; init: SecureTransportInit } | { kind: 'raw'; bytes: Buffer }

class Net extends VirtualTime {
  readonly net = new MemoryNetwork({ clock: this.clock, random: seededRandom(11) })
  private readonly open: Transport[] = []
  constructor() { super(1) }
  bind(): Transport {
    const t = this.net.bind()
    this.open.push(t)
    return t
  }
  async close(): Promise<void> {
    await Promise.all(this.open.map((t) => t.close()))
  }
}

describe('SecureTransport receive rules (datagrams)', () => {
  const keyed = (extra: SecureTransportInit = {}): SecureTransportInit => ({ keyring: new Keyring([k1]), label: 'prod', ...extra })
  // [name, receiver, sender, outcome: 'delivered' or the drop counter]
  const rows: Array<[string, () => SecureTransportInit, Sender, string]> = [
    ['labelled plaintext, right label, to a keyed node', keyed, { kind: 'raw', bytes: labelledPlain('prod', ping) }, 'plaintext-refused'],
    ['labelled plaintext from a label-only node, to a keyed node', keyed, { kind: 'secure', init: { label: 'prod' } }, 'plaintext-refused'],
    ['labelled plaintext, right label, keyed node in the migration window', () => keyed({ allowPlaintext: true }), { kind: 'raw', bytes: labelledPlain('prod', ping) }, 'delivered'],
    ['labelled plaintext, right label, to a label-only node', () => ({ label: 'prod' }), { kind: 'raw', bytes: labelledPlain('prod', ping) }, 'delivered'],
    ['labelled plaintext, other label, to a keyed node', keyed, { kind: 'raw', bytes: labelledPlain('test', ping) }, 'label-mismatch'],
    ['unlabelled plaintext to a labelled keyed node', keyed, { kind: 'raw', bytes: ping }, 'label-mismatch'],
    ['unlabelled plaintext to an unlabelled keyed node', () => ({ keyring: new Keyring([k1]) }), { kind: 'raw', bytes: ping }, 'plaintext-refused'],
    ['encrypted, right label, right key', keyed, { kind: 'secure', init: keyed() }, 'delivered'],
    ['encrypted, right label, foreign key', keyed, { kind: 'secure', init: { keyring: new Keyring([k2]), label: 'prod' } }, 'decrypt-failed']
  ]
  for (const [name, receiverInit, sender, outcome] of rows) {
    it(`${name}: ${outcome === 'delivered' ? 'delivered' : `dropped, counted ${outcome}`}`, async () => {
      const n = new Net()
      const receiver = new SecureTransport(n.bind(), receiverInit())
      const got: Buffer[] = []
      receiver.onPacket((data) => got.push(Buffer.from(data)))
      if (sender.kind === 'raw') n.bind().sendPacket(receiver.address, sender.bytes)
      else new SecureTransport(n.bind(), sender.init).sendPacket(receiver.address, ping)
      await n.run(5)
      const dropped = receiver.stats().dropped
      if (outcome === 'delivered') {
        expect(got).to.deep.equal([ping])
        expect(dropped).to.deep.equal({})
      } else {
        expect(got).to.deep.equal([])
        expect(dropped).to.deep.equal({ [outcome]: 1 })
      }
      await n.close()
    })
  }
})

describe('SecureTransport receive rules (streams)', () => {
  async function sendFrame(n: Net, receiverInit: SecureTransportInit, frame: Buffer): Promise<{ receiver: SecureTransport; frames: Buffer[]; dialled: StreamConn }> {
    const receiver = new SecureTransport(n.bind(), receiverInit)
    const frames: Buffer[] = []
    receiver.onStream((conn) => conn.onFrame((f) => frames.push(f)))
    const dialled = await n.settle(n.bind().dialStream(receiver.address, 1000))
    dialled.send(frame)
    await n.run(10)
    return { receiver, frames, dialled }
  }

  it('a labelled plaintext frame, right label, to a keyed node: refused, counted, the stream destroyed', async () => {
    const n = new Net()
    const frame = Buffer.from('a frame')
    const { receiver, frames, dialled } = await sendFrame(n, { keyring: new Keyring([k1]), label: 'prod' }, labelled('prod', frame))
    expect(frames).to.deep.equal([])
    expect(receiver.stats().dropped).to.deep.equal({ 'stream-plaintext-refused': 1 })
    expect(dialled.closed).to.equal(true)
    await n.close()
  })

  it('the same frame in the migration window: delivered', async () => {
    const n = new Net()
    const frame = Buffer.from('a frame')
    const { receiver, frames } = await sendFrame(n, { keyring: new Keyring([k1]), label: 'prod', allowPlaintext: true }, labelled('prod', frame))
    expect(frames.map(String)).to.deep.equal(['a frame'])
    expect(receiver.stats().dropped).to.deep.equal({})
    await n.close()
  })
})
