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
 * Each probe of one target is a {@link Probe} (`probe.ts`); this file picks
 * the targets, owns the timers and the sequence numbers, and routes acks.
 *
 * As relay for a ping-req we ping the target with a fresh sequence number and
 * forward its ack to the requester, or send a nack when it does not answer
 * within `probeTimeoutMs`.
 */
import type { Timer } from '../clock.js'
import { shuffle } from '../random.js'
import { encodeMessage } from '../wire/codec.js'
import { MemberState, MsgType, type AckMsg, type NackMsg, type PingMsg, type PingReqMsg } from '../wire/messages.js'
import type { MembershipConfig } from '../options.js'
import type { Member } from './member.js'
import { Probe, type AckWaiter, type ProbeComponents, type ProbeHost, type ProbeStats } from './probe.js'

/** What the prober needs from the engine (the same as each probe: {@link ProbeComponents}). */
export type ProberComponents = ProbeComponents

export type { ProbeStats }

/** Runs the probe rounds and answers pings and ping-reqs (see the file comment). */
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

  /** Answers a ping for us; one meant for another node id (a stale address) is dropped through `drop`. */
  handlePing(msg: PingMsg, drop: (reason: string) => void): void {
    if (msg.targetId !== this.c.table.selfId) {
      drop('wrong-node')
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
        if (m !== undefined && m.nodeId !== table.selfId && m.state <= MemberState.Suspect) return m
      }
      // End of a cycle: reap the long dead and reshuffle.
      table.reap()
      this.order = table.liveIds()
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
