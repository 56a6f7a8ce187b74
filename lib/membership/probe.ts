/**
 * One probe of one target: the three steps of a SWIM probe round with
 * Lifeguard's health accounting, as listed at the top of `prober.ts`.
 *
 * A probe registers itself in its prober's waiters under its sequence
 * number, so the first ack (direct, relayed by a ping-req, or over TCP)
 * reaches it; nacks from relays are only counted. Two timers drive it: the
 * probe timeout starts the indirect step, the end of the probe interval
 * gives the failed verdict. Whatever comes first ends it, exactly once; the
 * timers come from the prober, so stopping the prober ends every probe
 * without a verdict.
 */
import type { Clock, Timer } from '../clock.js'
import type { Logger } from '../logger.js'
import type { Random } from '../random.js'
import { encodeMessage } from '../wire/codec.js'
import { MemberState, MsgType } from '../wire/messages.js'
import type { MembershipConfig } from '../options.js'
import type { Awareness } from './awareness.js'
import type { Member } from './member.js'
import type { MemberTable } from './member-table.js'

/** What a probe needs from the engine. */
export interface ProbeComponents {
  clock: Clock
  random: Random
  table: MemberTable
  awareness: Awareness
  logger: Logger
  /** Sends encoded messages to `to` in one datagram (the caller adds piggyback). */
  send: (to: string, msgs: Buffer[]) => void
  /** Pings `member` over TCP; resolves true on an ack before `timeoutMs`. Never rejects. */
  tcpPing: (member: Member, seq: number, timeoutMs: number) => Promise<boolean>
}

/** Where an ack or a nack for one outstanding sequence number goes. */
export interface AckWaiter {
  onAck: () => void
  onNack: () => void
}

/** Counters of the prober, for stats. */
export interface ProbeStats {
  probes: number
  probeFailures: number
  indirectProbes: number
  tcpFallbackRescues: number
}

/** What a {@link Probe} uses of its `Prober`. */
export interface ProbeHost {
  readonly c: ProbeComponents
  readonly config: MembershipConfig
  readonly stats: ProbeStats
  /** The prober's outstanding probes: a probe registers itself under its seq and removes itself at its verdict. */
  readonly waiters: Map<number, AckWaiter>
  stopped: () => boolean
  /** A timer the prober cancels on stop(); `fn` does not run once stopped. */
  after: (ms: number, fn: () => void) => Timer
  cancel: (t: Timer | undefined) => void
}

/**
 * One probe of one target, in the steps of the round described at the top
 * of `prober.ts`: {@link start} pings and arms two timers; at the probe
 * timeout {@link probeIndirectly} asks relays and tries TCP; the first ack,
 * or the end of the probe interval, gives the verdict ({@link finish}),
 * exactly once. Both timeouts are scaled once, at construction, by the
 * health score of that moment.
 */
export class Probe {
  private readonly intervalMs: number
  private readonly timeoutMs: number
  // the target's incarnation when the probe began: if it changed, the target refuted meanwhile
  private readonly incarnation: number
  private startedMs = 0
  // true once the verdict is given; every later step is a no-op
  private done = false
  // relays asked for a ping-req (each owes us an ack or a nack), and the nacks that came
  private expectedNacks = 0
  private nacks = 0
  private indirectTimer: Timer | undefined
  private deadline: Timer | undefined

  constructor(
    private readonly h: ProbeHost,
    private readonly target: Member,
    private readonly seq: number
  ) {
    this.intervalMs = h.c.awareness.scaleTimeout(h.config.probeIntervalMs)
    this.timeoutMs = h.c.awareness.scaleTimeout(h.config.probeTimeoutMs)
    this.incarnation = target.incarnation
  }

  /** Step 1: ping the target (with the suspicion about it, if any) and arm the timers. */
  start(): void {
    this.h.stats.probes++
    this.h.waiters.set(this.seq, { onAck: () => this.finish(true), onNack: () => { this.nacks++ } })
    this.sendPing()
    this.startedMs = this.h.c.clock.now()
    this.indirectTimer = this.h.after(this.timeoutMs, () => this.probeIndirectly())
    this.deadline = this.h.after(this.intervalMs, () => this.finish(false))
  }

  private sendPing(): void {
    const { self } = this.h.c.table
    const t = this.target
    const msgs = [encodeMessage({ type: MsgType.Ping, seq: this.seq, targetId: t.nodeId, sourceId: self.nodeId, sourceAddr: self.addr })]
    if (t.state === MemberState.Suspect) {
      // The buddy system: tell the target it is suspected, so it refutes at once.
      msgs.push(encodeMessage({ type: MsgType.Suspect, incarnation: t.incarnation, nodeId: t.nodeId, fromId: self.nodeId }))
    }
    this.h.c.send(t.addr, msgs)
  }

  /** Step 2, at the probe timeout: ping-req through up to `indirectChecks` alive relays, and a TCP ping. */
  private probeIndirectly(): void {
    if (this.done) return
    const { table, random, send } = this.h.c
    const t = this.target
    const relays = table.sample(this.h.config.indirectChecks, random, (m) => m.nodeId !== t.nodeId && m.state === MemberState.Alive)
    this.expectedNacks = relays.length
    if (relays.length > 0) this.h.stats.indirectProbes++
    const self = table.self
    const req = encodeMessage({
      type: MsgType.PingReq, seq: this.seq, targetId: t.nodeId, targetAddr: t.addr,
      sourceId: self.nodeId, sourceAddr: self.addr, nack: true
    })
    for (const r of relays) send(r.addr, [req])
    if (this.h.config.tcpFallbackPing) this.pingOverTcp()
  }

  /** A TCP ping for what is left of the probe interval; an ack over it counts as an ack. */
  private pingOverTcp(): void {
    const remaining = Math.max(1, this.intervalMs - (this.h.c.clock.now() - this.startedMs))
    void this.h.c.tcpPing(this.target, this.seq, remaining).then((ok) => {
      if (!ok || this.done || this.h.stopped()) return
      this.h.stats.tcpFallbackRescues++
      this.h.c.logger.debug(`membership: ${this.target.nodeId} answered over TCP only`)
      this.finish(true)
    })
  }

  /** Step 3, once: the verdict. Adjusts local health; on failure, suspects the target unless it changed meanwhile. */
  private finish(ok: boolean): void {
    if (this.done) return
    this.done = true
    this.h.waiters.delete(this.seq)
    this.h.cancel(this.indirectTimer)
    this.h.cancel(this.deadline)
    const { awareness, table } = this.h.c
    if (ok) {
      awareness.applyDelta(-1)
      return
    }
    this.h.stats.probeFailures++
    awareness.applyDelta(this.failurePenalty())
    // Only accuse if nothing changed meanwhile (e.g. it refuted, or it is gone).
    const t = table.get(this.target.nodeId)
    if (t !== undefined && t.incarnation === this.incarnation && t.state <= MemberState.Suspect) table.suspectFromProbe(t)
  }

  /**
   * Health penalty of a failed probe (memberlist's probeNode): with relays
   * asked, one per nack that did not come (a relay that cannot even nack
   * points at us); with none, 1 (nothing to compare against).
   */
  private failurePenalty(): number {
    return this.expectedNacks > 0 ? Math.max(0, this.expectedNacks - this.nacks) : 1
  }
}
