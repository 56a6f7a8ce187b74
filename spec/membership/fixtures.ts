/**
 * Unit fixtures for the membership rules: one MemberTable (and, for probe
 * specs, one Prober) with a manual clock, no network. Everything a rule
 * produces is observable here: the broadcasts queued, the events emitted,
 * the health score, the datagrams the prober sends.
 */
import { ManualClock } from '../../lib/clock.js'
import { silentLogger } from '../../lib/logger.js'
import { TransmitQueue } from '../../lib/gossip/transmit-queue.js'
import { Awareness } from '../../lib/membership/awareness.js'
import { MemberTable, type MemberEvent, type MemberInfo } from '../../lib/membership/member-table.js'
import { Prober } from '../../lib/membership/prober.js'
import { resolveTuning, type MembershipConfig, type MembershipTuning } from '../../lib/options.js'
import { seededRandom } from '../../lib/random.js'
import { buildPacket, decodePacket } from '../../lib/wire/codec.js'
import { MsgType, type PacketMsg } from '../../lib/wire/messages.js'

export const SELF_ID = 'self'
export const SELF_ADDR = '10.0.0.1:7946'

/** The address of peer `p<i>`. */
export function peerAddr(i: number): string {
  return `10.0.1.${i}:7946`
}

export class TableFixture {
  readonly clock = new ManualClock()
  readonly config: MembershipConfig
  readonly awareness: Awareness
  readonly queue: TransmitQueue
  readonly table: MemberTable
  readonly events: Array<[MemberEvent, MemberInfo]> = []

  constructor(tuning: Partial<MembershipTuning> = {}) {
    this.config = { ...resolveTuning('lan', tuning), nodeId: SELF_ID, advertiseAddr: SELF_ADDR }
    this.awareness = new Awareness(this.config.awarenessMaxMultiplier)
    this.queue = new TransmitQueue({ retransmitMult: this.config.retransmitMult, numNodes: () => this.table.numLive() })
    this.table = new MemberTable(
      { clock: this.clock, queue: this.queue, awareness: this.awareness, logger: silentLogger, emit: (e, m) => this.events.push([e, m]) },
      this.config
    )
  }

  /** Adds alive peers `p1`..`p<n>` (incarnation 1), then forgets the broadcasts and events that caused. */
  addPeers(n: number): this {
    for (let i = 1; i <= n; i++) this.table.handleAlive({ type: MsgType.Alive, incarnation: 1, nodeId: `p${i}`, addr: peerAddr(i) })
    this.queue.reset()
    this.events.length = 0
    return this
  }

  /** Every queued broadcast, decoded (and taken once). */
  queued(): PacketMsg[] {
    const items = this.queue.take(0, Number.MAX_SAFE_INTEGER)
    return items.length === 0 ? [] : decodePacket(buildPacket(items))
  }

  /** State name of `nodeId` in the table. */
  state(nodeId: string): string | undefined {
    const m = this.table.get(nodeId)
    return m === undefined ? undefined : ['alive', 'suspect', 'dead', 'left'][m.state]
  }
}

/** A datagram the prober sent. */
export interface Sent {
  to: string
  msgs: PacketMsg[]
}

export class ProberFixture extends TableFixture {
  readonly sent: Sent[] = []
  readonly prober: Prober
  tcpAnswers = false

  constructor(tuning: Partial<MembershipTuning> = {}) {
    super({ tcpFallbackPing: false, ...tuning })
    this.prober = new Prober(
      {
        clock: this.clock, random: seededRandom(1), table: this.table, awareness: this.awareness, logger: silentLogger,
        send: (to, msgs) => this.sent.push({ to, msgs: decodePacket(buildPacket(msgs)) }),
        tcpPing: () => Promise.resolve(this.tcpAnswers)
      },
      this.config
    )
  }

  /** Messages of `type` sent so far, with their destination. */
  sentOf<T extends PacketMsg['type']>(type: T): Array<{ to: string; msg: Extract<PacketMsg, { type: T }> }> {
    const out: Array<{ to: string; msg: Extract<PacketMsg, { type: T }> }> = []
    for (const s of this.sent) for (const m of s.msgs) if (m.type === type) out.push({ to: s.to, msg: m as Extract<PacketMsg, { type: T }> })
    return out
  }
}
