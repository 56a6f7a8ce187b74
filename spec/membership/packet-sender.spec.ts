/**
 * The packet sender's split of each datagram between membership broadcasts
 * and application payloads (`appPayloadShare`), asserted exactly: the room
 * offered to the delegate, and what fills the datagram.
 */
import { expect } from 'chai'
import { TransmitQueue } from '../../lib/gossip/transmit-queue.js'
import type { MembershipDelegate } from '../../lib/membership/delegate.js'
import { ARRAY_HEADER_RESERVE, PacketSender } from '../../lib/membership/packet-sender.js'
import { resolveTuning, type MembershipConfig } from '../../lib/options.js'
import type { Transport } from '../../lib/transport/transport.js'
import { decodePacket, encodeMessage, userOverhead, PACKET_HEADER_BYTES } from '../../lib/wire/codec.js'
import { MsgType } from '../../lib/wire/messages.js'

const ping = encodeMessage({ type: MsgType.Ping, seq: 1, targetId: 'b', sourceId: 'a', sourceAddr: '10.0.0.1:7946' })

class Offers implements MembershipDelegate {
  readonly offers: Array<{ overhead: number; limit: number }> = []
  constructor(private readonly fill: boolean) {}
  getBroadcasts(overheadBytes: number, limitBytes: number): Uint8Array[] {
    this.offers.push({ overhead: overheadBytes, limit: limitBytes })
    if (!this.fill) return []
    // One payload that takes exactly the room offered.
    const n = limitBytes - overheadBytes
    return n > 0 ? [Buffer.alloc(n, 0x61)] : []
  }
  notifyMsg(): void {}
  localState(): Uint8Array { return new Uint8Array(0) }
  mergeRemoteState(): void {}
}

function setup(appPayloadShare: number, queuedItems: number, delegate: Offers) {
  const config: MembershipConfig = { ...resolveTuning('lan', { appPayloadShare }), nodeId: 'a', advertiseAddr: '10.0.0.1:7946' }
  const queue = new TransmitQueue({ retransmitMult: 4, numNodes: () => 10 })
  for (let i = 0; i < queuedItems; i++) {
    queue.enqueue({ subject: `n${i}`, bytes: encodeMessage({ type: MsgType.Alive, incarnation: 1, nodeId: `n${i}`, addr: `10.0.2.${i % 250}:7946` }) })
  }
  const packets: Buffer[] = []
  const transport = { sendPacket: (_to: string, data: Uint8Array) => packets.push(Buffer.from(data)) } as unknown as Transport
  const counters = { packetsOut: 0, bytesOut: 0 }
  const sender = new PacketSender({ transport, queue, delegate, counters, isClosed: () => false }, config)
  return { config, queue, packets, sender }
}

describe('PacketSender: appPayloadShare', () => {
  const room = 1400 - PACKET_HEADER_BYTES - ARRAY_HEADER_RESERVE - ping.length

  // A full packet: membership has far more queued than the room.
  // The delegate is offered exactly floor(room × share).
  for (const share of [0.1, 0.25, 0.5, 0.75, 1]) {
    it(`share ${share}, membership backlog: offers the application exactly floor(room × share)`, () => {
      const d = new Offers(false)
      const { queue, sender } = setup(share, 200, d)
      expect(queue.bytesQueued()).to.be.greaterThan(2 * room)
      sender.send('10.0.0.2:7946', [ping])
      const limit = Math.floor(room * share)
      expect(d.offers).to.deep.equal([{ overhead: userOverhead(limit), limit }])
    })
  }

  it('share 0, membership backlog: the application is offered nothing', () => {
    const d = new Offers(false)
    const { sender } = setup(0, 200, d)
    sender.send('10.0.0.2:7946', [ping])
    expect(d.offers).to.deep.equal([])
  })

  it('a small membership backlog: the application is offered all the room but what membership has queued', () => {
    const d = new Offers(false)
    const { queue, sender } = setup(0.25, 3, d)
    const queued = queue.bytesQueued()
    expect(queued).to.be.lessThan(room - Math.floor(room * 0.25))
    sender.send('10.0.0.2:7946', [ping])
    expect(d.offers).to.deep.equal([{ overhead: userOverhead(room - queued), limit: room - queued }])
  })

  it('an application that takes all it is offered leaves membership its share; the datagram stays in budget', () => {
    const d = new Offers(true)
    const { packets, sender } = setup(0.5, 200, d)
    sender.send('10.0.0.2:7946', [ping])
    expect(packets).to.have.length(1)
    const packet = packets[0]!
    expect(packet.length).to.be.at.most(1400)
    const msgs = decodePacket(packet)
    const user = msgs.filter((m) => m.type === MsgType.User)
    const alive = msgs.filter((m) => m.type === MsgType.Alive)
    expect(user).to.have.length(1)
    expect(alive.length).to.be.greaterThan(0)
    // membership filled its half: what is left is less than one more alive message
    expect(1400 - packet.length).to.be.lessThan(encodeMessage({ type: MsgType.Alive, incarnation: 1, nodeId: 'n199', addr: '10.0.2.199:7946' }).length)
  })

  it('an application with nothing to send leaves membership the whole room', () => {
    const d = new Offers(false)
    const { packets, sender } = setup(0.5, 200, d)
    sender.send('10.0.0.2:7946', [ping])
    const msgs = decodePacket(packets[0]!)
    const aliveBytes = msgs.filter((m) => m.type === MsgType.Alive).reduce((n, m) => n + encodeMessage(m).length, 0)
    expect(aliveBytes).to.be.greaterThan(Math.floor(room * 0.5))
    expect(packets[0]!.length).to.be.at.most(1400)
  })
})
