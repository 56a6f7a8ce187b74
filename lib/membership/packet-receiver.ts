/**
 * The receiving side of membership's datagrams. A datagram is decoded whole
 * (one message, or a compound of several); one that does not decode is
 * dropped whole and counted by the reason `DecodeError` gives. Each message
 * then goes to its owner: pings, ping-reqs, acks and nacks to the prober;
 * alive, suspect and dead to the member table; user payloads (piggybacked
 * application deltas) to the delegate. A message whose handler throws is
 * counted `handler-error` and the rest of the datagram still goes through.
 * Nothing here throws back into the transport.
 */
import type { DropCounts } from '../drop-counts.js'
import type { Logger } from '../logger.js'
import { decodePacket, DecodeError } from '../wire/codec.js'
import { MsgType, type PacketMsg } from '../wire/messages.js'
import type { MembershipDelegate } from './delegate.js'
import type { MemberTable } from './member-table.js'
import type { Prober } from './prober.js'

/** What {@link PacketReceiver} needs from the engine. */
export interface PacketReceiverComponents {
  logger: Logger
  table: MemberTable
  prober: Prober
  /** The current delegate (it may be replaced before the engine starts). */
  delegate: () => MembershipDelegate
  dropped: DropCounts
  /** Shared counters; packetsIn/bytesIn are incremented here. */
  counters: { packetsIn: number; bytesIn: number }
  isClosed: () => boolean
}

/** Decodes arriving datagrams and hands each message to its owner (see the file comment). */
export class PacketReceiver {
  constructor(private readonly c: PacketReceiverComponents) {}

  /** One datagram from `from`, as the transport delivers it. */
  receive(data: Buffer, from: string): void {
    this.c.counters.packetsIn++
    this.c.counters.bytesIn += data.length
    if (this.c.isClosed()) return
    let msgs: PacketMsg[]
    try {
      msgs = decodePacket(data)
    } catch (err) {
      this.c.dropped.count(err instanceof DecodeError ? err.reason : 'decode')
      this.c.logger.debug(`membership: dropped datagram from ${from}: ${String(err)}`)
      return
    }
    for (const msg of msgs) {
      try {
        this.dispatch(msg, from)
      } catch (err) {
        this.c.dropped.count('handler-error')
        this.c.logger.error(`membership: handling message type ${msg.type} from ${from} failed: ${String(err)}`)
      }
    }
  }

  /** One decoded message from `from`, to its owner. */
  dispatch(msg: PacketMsg, from: string): void {
    const { prober, table } = this.c
    switch (msg.type) {
      case MsgType.Ping: return prober.handlePing(msg, (reason) => this.c.dropped.count(reason))
      case MsgType.PingReq: return prober.handlePingReq(msg)
      case MsgType.Ack: return prober.handleAck(msg)
      case MsgType.Nack: return prober.handleNack(msg)
      case MsgType.Alive: return table.handleAlive(msg)
      case MsgType.Suspect: return table.handleSuspect(msg)
      case MsgType.Dead: return table.handleDead(msg)
      case MsgType.User: return this.c.delegate().notifyMsg(msg.payload, from)
    }
  }
}
