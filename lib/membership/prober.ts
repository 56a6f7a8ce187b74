/**
 * Failure detection: SWIM's probe round with Lifeguard's refinements.
 *
 * Each round (every `probeIntervalMs`, scaled by local health) picks the next
 * member of a shuffled round-robin order and:
 *  1. sends it a ping (plus, if it is suspected, a suspect message about it:
 *     the "buddy system", so it learns of the accusation and refutes at once);
 *  2. if no ack comes within `probeTimeoutMs` (scaled), asks `indirectChecks`
 *     random members to ping it for us (ping-req, with nack requested) and, in
 *     parallel, tries a ping over TCP;
 *  3. if still nothing by the end of the probe interval, suspects it.
 * Lifeguard local health (as memberlist's probeNode): an ack (direct, relayed
 * or over TCP) lowers our score by 1; a failed probe raises it by the nacks
 * we expected but did not get (relays that do not even nack suggest the
 * problem is us, not the target), or by 1 when no relay could be asked. A
 * higher score stretches our probe interval and timeout, so a slow node
 * stops accusing others. The rules are listed in `awareness.ts`.
 *
 * As relay for a ping-req we ping the target with a fresh sequence number and
 * forward its ack to the requester, or send a nack when it does not answer
 * within `probeTimeoutMs`.
 */
import type { Clock, Timer } from '../clock.js'
import type { Logger } from '../logger.js'
import type { Random } from '../random.js'
import { shuffle } from '../random.js'
import { encodeMessage } from '../wire/codec.js'
import { MemberState, MsgType, type AckMsg, type NackMsg, type PingMsg, type PingReqMsg } from '../wire/messages.js'
import type { MembershipConfig } from '../options.js'
import type { Awareness } from './awareness.js'
import type { Member, MemberTable } from './member-table.js'

export interface ProberComponents {
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

interface AckWaiter {
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

export class Prober {
  private seq = 0
  /** Outstanding probes by sequence number; each entry is removed by its own timer. */
  private readonly waiters = new Map<number, AckWaiter>()
  private readonly timers = new Set<Timer>()
  private order: string[] = []
  private next = 0
  private stopped = false
  readonly stats: ProbeStats = { probes: 0, probeFailures: 0, indirectProbes: 0, tcpFallbackRescues: 0 }

  /** What each {@link Probe} uses of this prober. */
  private readonly host: ProbeHost

  constructor(
    private readonly c: ProberComponents,
    private readonly config: MembershipConfig
  ) {
    this.host = {
      c, config, stats: this.stats, waiters: this.waiters,
      stopped: () => this.stopped,
      after: (ms, fn) => this.after(ms, fn),
      cancel: (t) => this.cancel(t)
    }
  }

  /** Runs one probe round; returns false when there was nobody to probe. */
  probeRound(): boolean {
    const target = this.nextTarget()
    if (target === undefined) return false
    new Probe(this.host, target, this.nextSeq()).start()
    return true
  }

  /** Probes `nodeId` in the next round (a peer suspects it; Lifeguard-style quick confirmation). */
  prioritize(nodeId: string): void {
    if (this.order[this.next] === nodeId) return
    this.order.splice(this.next, 0, nodeId)
  }

  handlePing(msg: PingMsg, counters: Record<string, number>): void {
    if (msg.targetId !== this.c.table.self.nodeId) {
      counters['wrong-node'] = (counters['wrong-node'] ?? 0) + 1
      return
    }
    this.c.send(msg.sourceAddr, [encodeMessage({ type: MsgType.Ack, seq: msg.seq })])
  }

  handlePingReq(msg: PingReqMsg): void {
    const self = this.c.table.self
    const seq = this.nextSeq()
    let answered = false
    // Nack at 80% of the probe timeout (as Lifeguard suggests) so it reaches
    // the requester before its probe round ends.
    const timer = this.after(Math.max(1, Math.floor(this.config.probeTimeoutMs * 0.8)), () => {
      this.waiters.delete(seq)
      if (!answered && msg.nack) this.c.send(msg.sourceAddr, [encodeMessage({ type: MsgType.Nack, seq: msg.seq })])
    })
    this.waiters.set(seq, {
      onAck: () => {
        if (answered) return
        answered = true
        this.c.send(msg.sourceAddr, [encodeMessage({ type: MsgType.Ack, seq: msg.seq })])
        this.cancel(timer)
        this.waiters.delete(seq)
      },
      onNack: () => {}
    })
    const ping: PingMsg = { type: MsgType.Ping, seq, targetId: msg.targetId, sourceId: self.nodeId, sourceAddr: self.addr }
    this.c.send(msg.targetAddr, [encodeMessage(ping)])
  }

  handleAck(msg: AckMsg): void {
    this.waiters.get(msg.seq)?.onAck()
  }

  handleNack(msg: NackMsg): void {
    this.waiters.get(msg.seq)?.onNack()
  }

  /** Cancels every timer; outstanding probes end without a verdict. */
  stop(): void {
    this.stopped = true
    for (const t of this.timers) this.c.clock.clearTimeout(t)
    this.timers.clear()
    this.waiters.clear()
  }

  /** Next member in the shuffled round-robin order (alive or suspect, not us). */
  private nextTarget(): Member | undefined {
    const table = this.c.table
    for (let attempts = 0; attempts < 2; attempts++) {
      while (this.next < this.order.length) {
        const m = table.get(this.order[this.next++]!)
        if (m !== undefined && m !== table.self && m.state <= MemberState.Suspect) return m
      }
      // End of a cycle: reap the long dead and reshuffle.
      table.reap()
      this.order = []
      for (const m of table.all()) if (m !== table.self && m.state <= MemberState.Suspect) this.order.push(m.nodeId)
      shuffle(this.order, this.c.random)
      this.next = 0
      if (this.order.length === 0) return undefined
    }
    return undefined
  }

  private nextSeq(): number {
    this.seq = (this.seq + 1) >>> 0
    return this.seq
  }

  private after(ms: number, fn: () => void): Timer {
    const t = this.c.clock.setTimeout(() => {
      this.timers.delete(t)
      if (!this.stopped) fn()
    }, ms)
    this.timers.add(t)
    return t
  }

  private cancel(t: Timer | undefined): void {
    if (t === undefined) return
    this.c.clock.clearTimeout(t)
    this.timers.delete(t)
  }
}

/** What a {@link Probe} uses of its {@link Prober}. */
interface ProbeHost {
  readonly c: ProberComponents
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
 * of this file: {@link start} pings and arms two timers; at the probe
 * timeout {@link probeIndirectly} asks relays and tries TCP; the first ack,
 * or the end of the probe interval, gives the verdict ({@link finish}),
 * exactly once. Both timeouts are scaled once, at construction, by the
 * health score of that moment.
 */
class Probe {
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
    const relays = table.sample(this.h.config.indirectChecks, random, (m) => m !== t && m.state === MemberState.Alive)
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
    const t = this.target
    if (t.incarnation === this.incarnation && t.state <= MemberState.Suspect) table.suspectFromProbe(t)
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
