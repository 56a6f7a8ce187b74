/**
 * Builds and sends datagrams. Every outgoing datagram carries, after its own
 * messages, as many queued broadcasts as fit `packetBudgetBytes`: membership
 * messages may claim up to `1 − appPayloadShare` of the free room (no more
 * than they have queued), application payloads from the delegate get the
 * rest first, then membership fills whatever the application left. So
 * membership traffic cannot starve the cache, nor the cache membership.
 */
import type { TransmitQueue } from '../gossip/transmit-queue.js'
import type { MembershipConfig } from '../options.js'
import type { Transport } from '../transport/transport.js'
import { buildPacket, encodeUser, userOverhead, PACKET_HEADER_BYTES } from '../wire/codec.js'
import type { MembershipDelegate } from './delegate.js'

/** Room kept for the array header of a datagram (array16 covers any count we send). */
export const ARRAY_HEADER_RESERVE = 3

export interface PacketSenderComponents {
  transport: Transport
  queue: TransmitQueue
  /** Replaced by setDelegate() before the engine starts. */
  delegate: MembershipDelegate
  /** Shared counters; packetsOut/bytesOut are incremented here. */
  counters: { packetsOut: number; bytesOut: number }
  isClosed: () => boolean
}

export class PacketSender {
  constructor(
    private readonly c: PacketSenderComponents,
    private readonly config: MembershipConfig
  ) {}

  setDelegate(delegate: MembershipDelegate): void {
    this.c.delegate = delegate
  }

  /**
   * Sends `msgs` to `to` in one datagram, filling the rest of the budget with
   * queued broadcasts. With `onlyIfPiggyback`, sends nothing when there is
   * nothing to piggyback.
   */
  send(to: string, msgs: Buffer[], onlyIfPiggyback = false): void {
    if (this.c.isClosed()) return
    const own = msgs.length
    let room = this.config.packetBudgetBytes - PACKET_HEADER_BYTES - ARRAY_HEADER_RESERVE
    for (const m of msgs) room -= m.length
    if (room > 0) {
      // Membership may claim up to (1 − appPayloadShare) of the room, but no
      // more than it has queued; the application gets the rest first, then
      // membership fills what the application left. One take() per packet,
      // so no broadcast appears twice in a datagram.
      const memberReserve = Math.min(this.c.queue.bytesQueued(), room - Math.floor(room * this.config.appPayloadShare))
      const userRoom = room - memberReserve
      if (userRoom > 0) {
        for (const p of this.c.delegate.getBroadcasts(userOverhead(userRoom), userRoom)) {
          const e = encodeUser(p)
          if (e.length > room) continue
          msgs.push(e)
          room -= e.length
        }
      }
      for (const b of this.c.queue.take(0, room)) msgs.push(b as Buffer)
    }
    if (onlyIfPiggyback && msgs.length === own) return
    this.transmit(to, buildPacket(msgs))
  }

  /** Sends a built datagram and counts it. */
  transmit(to: string, packet: Buffer): void {
    this.c.counters.packetsOut++
    this.c.counters.bytesOut += packet.length
    this.c.transport.sendPacket(to, packet)
  }
}
