/**
 * How membership news spreads beyond riding on probes. Three ways:
 *
 * - **The gossip tick.** Every `gossipIntervalMs`, a datagram to
 *   `gossipNodes` random members carries whatever broadcasts are queued;
 *   nothing is sent when none are. Recently dead members (state changed less
 *   than `gossipToTheDeadMs` ago) are still among the targets, so a member
 *   wrongly declared dead hears of it and refutes.
 * - **Direct spread.** News that must not wait for gossip (we declared a
 *   member dead; we leave) also goes straight to up to 32 random live members.
 * - **Spread and wait.** A graceful leave spreads directly, enqueues the
 *   message as a broadcast, and resolves once the queue has sent it its full
 *   number of times, or after a timeout, whichever comes first.
 */
import type { Clock, Timer } from '../clock.js'
import type { TransmitQueue } from '../gossip/transmit-queue.js'
import type { MembershipConfig } from '../options.js'
import type { Random } from '../random.js'
import { MemberState } from '../wire/messages.js'
import type { MemberTable } from './member-table.js'
import type { PacketSender } from './packet-sender.js'

/** What {@link Dissemination} needs from the engine. */
export interface DisseminationComponents {
  clock: Clock
  random: Random
  table: MemberTable
  queue: TransmitQueue
  out: PacketSender
}

/** Members that hear news directly, beyond gossip (see the file comment). */
const DIRECT_SPREAD_MEMBERS = 32

/** Spreads membership news: the gossip tick, direct spread, spread-and-wait (see the file comment). */
export class Dissemination {
  constructor(
    private readonly c: DisseminationComponents,
    private readonly config: MembershipConfig
  ) {}

  /** One gossip tick: queued broadcasts to `gossipNodes` random members (the recently dead included). */
  tick(): void {
    const now = this.c.clock.now()
    const targets = this.c.table.sample(this.config.gossipNodes, this.c.random, (m) =>
      m.state <= MemberState.Suspect || now - m.stateChangeMs < this.config.gossipToTheDeadMs)
    for (const m of targets) this.c.out.send(m.addr, [], true)
  }

  /** Sends one encoded message directly to up to 32 random live members. */
  sendToLive(bytes: Buffer): void {
    for (const m of this.c.table.sample(DIRECT_SPREAD_MEMBERS, this.c.random, (x) => x.state <= MemberState.Suspect)) this.c.out.send(m.addr, [bytes])
  }

  /** Spreads `bytes` (news about `subject`) directly and as a broadcast; resolves once fully transmitted or after `timeoutMs`. */
  spreadAndWait(subject: string, bytes: Buffer, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: Timer | undefined
      const finish = (): void => {
        if (timer !== undefined) this.c.clock.clearTimeout(timer)
        resolve()
      }
      timer = this.c.clock.setTimeout(finish, timeoutMs)
      this.sendToLive(bytes)
      this.c.queue.enqueue({ subject, bytes, onDone: finish })
    })
  }
}
