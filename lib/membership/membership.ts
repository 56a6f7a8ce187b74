/**
 * The SWIM membership engine: wires the member table, the prober, the
 * broadcast queue and the transport together, and runs the periodic loops
 * (probe, gossip, push-pull).
 *
 * Outgoing datagrams are built by `PacketSender`, which fills each with
 * piggybacked broadcasts (membership and application) up to the budget.
 *
 * A datagram that does not decode is dropped whole and counted by reason;
 * nothing from a socket handler ever throws.
 */
import { EventEmitter } from 'node:events'
import { Ticker, type Clock, type Timer } from '../clock.js'
import { DropCounts } from '../drop-counts.js'
import { DuplicateNodeIdError, JoinError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Random } from '../random.js'
import type { MembershipConfig } from '../options.js'
import { TransmitQueue } from '../gossip/transmit-queue.js'
import type { StreamConn, Transport } from '../transport/transport.js'
import { buildPacket, decodeFrame, decodePacket, DecodeError, encodeFrame, encodeMessage, encodeUser } from '../wire/codec.js'
import { MemberState, MsgType, type PacketMsg, type StreamMsg } from '../wire/messages.js'
import { Awareness } from './awareness.js'
import type { Cluster, Peer, StreamTagHandler } from './cluster.js'
import { nullDelegate, type MembershipDelegate } from './delegate.js'
import { MemberTable, memberInfo, type Member, type MemberEvent, type MemberInfo, type MemberTableLimits } from './member-table.js'
import { PacketSender } from './packet-sender.js'
import { Prober, type ProbeStats } from './prober.js'
import { HandOffConn } from './hand-off.js'
import { exchange, pushPullMsg } from './streams.js'

export interface MembershipComponents {
  transport: Transport
  clock: Clock
  random: Random
  logger: Logger
  delegate?: MembershipDelegate
}

export interface MembershipStats extends ProbeStats {
  packetsIn: number
  packetsOut: number
  bytesIn: number
  bytesOut: number
  /** Datagrams and frames dropped, by reason (decode failures, wrong target, handler errors…). */
  dropped: Record<string, number>
  pushPulls: number
  healthScore: number
  queuedBroadcasts: number
}

/** Typed listener signatures of {@link Membership}'s events. */
export interface MembershipEvents {
  join: [MemberInfo]
  update: [MemberInfo]
  leave: [MemberInfo]
  fail: [MemberInfo]
}

export class Membership extends EventEmitter<MembershipEvents> implements Cluster {
  private readonly table: MemberTable
  private readonly queue: TransmitQueue
  private readonly awareness: Awareness
  private readonly prober: Prober
  private delegate: MembershipDelegate
  private readonly out: PacketSender
  private readonly tickers: Ticker[] = []
  private readonly dropped = new DropCounts()
  /** Application stream handlers by tag (see {@link Cluster.handleStreams}). */
  private readonly streamHandlers = new Map<number, StreamTagHandler>()
  private readonly counters = { packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, pushPulls: 0 }
  private running = false
  /** Seeds of the last join: re-joined when we find ourselves alone. */
  private seeds: readonly string[] = []
  private closed = false

  constructor(
    private readonly c: MembershipComponents,
    readonly config: MembershipConfig & MemberTableLimits
  ) {
    super()
    this.delegate = c.delegate ?? nullDelegate
    this.awareness = new Awareness(config.awarenessMaxMultiplier)
    this.queue = new TransmitQueue({ retransmitMult: config.retransmitMult, numNodes: () => this.table.numLive() })
    this.table = new MemberTable(
      {
        clock: c.clock, queue: this.queue, awareness: this.awareness, logger: c.logger,
        emit: (e, m) => this.notify(e, m),
        onPeerSuspects: (m) => this.prober.prioritize(m.nodeId),
        onDeclaredDead: (bytes) => this.sendToLive(bytes),
        onDrop: (reason) => this.drop(reason)
      },
      config
    )
    this.prober = new Prober(
      {
        clock: c.clock, random: c.random, table: this.table, awareness: this.awareness, logger: c.logger,
        send: (to, msgs) => this.out.send(to, msgs),
        tcpPing: (m, seq, ms) => this.tcpPing(m, seq, ms)
      },
      config
    )
    this.out = new PacketSender({ transport: c.transport, queue: this.queue, delegate: this.delegate, counters: this.counters, isClosed: () => this.closed }, config)
    c.transport.onPacket((data, from) => this.onPacket(data, from))
    c.transport.onStream((conn) => this.onStream(conn))
  }

  get nodeId(): string {
    return this.config.nodeId
  }

  /** The address peers reach us at. */
  get address(): string {
    return this.config.advertiseAddr
  }

  /**
   * Sets the delegate (the layer riding on membership) when it could not be
   * passed at construction because it needs this engine itself. Before start().
   */
  setDelegate(delegate: MembershipDelegate): void {
    if (this.running) throw new Error('setDelegate() must be called before start()')
    this.delegate = delegate
    this.out.setDelegate(delegate)
  }

  /** Starts the probe, gossip and push-pull loops and announces ourselves. */
  start(): void {
    if (this.running || this.closed) return
    this.running = true
    this.table.broadcastSelf()
    this.loop(this.config.probeIntervalMs, () => this.awareness.scaleTimeout(this.config.probeIntervalMs), () => this.prober.probeRound())
    this.loop(this.config.gossipIntervalMs, () => this.config.gossipIntervalMs, () => this.gossip())
    if (this.config.pushPullIntervalMs > 0) this.loop(this.pushPullInterval(), () => this.pushPullInterval(), () => this.periodicPushPull())
  }

  /**
   * Joins through `seeds` ("host:port"): a push-pull exchange with each,
   * in parallel. Resolves with the number of seeds reached; rejects with
   * `JoinError` when none was (an empty list resolves 0: first node).
   */
  async join(seeds: readonly string[]): Promise<number> {
    const targets = seeds.filter((s) => s !== this.address)
    this.seeds = targets
    if (targets.length === 0) return 0
    const results = await Promise.allSettled(targets.map((s) => this.pushPull(s, true)))
    const ok = results.filter((r) => r.status === 'fulfilled').length
    const clash = results.find((r) => r.status === 'rejected' && r.reason instanceof DuplicateNodeIdError)
    if (clash !== undefined) throw (clash as PromiseRejectedResult).reason
    if (ok === 0) {
      const causes = results.map((r, i) => `${targets[i]}: ${String((r as PromiseRejectedResult).reason?.message ?? r)}`)
      throw new JoinError(`could not join through any seed (${causes.join('; ')})`, { cause: (results[0] as PromiseRejectedResult).reason })
    }
    return ok
  }

  /**
   * Leaves gracefully: broadcasts that we left (also sent directly to up to
   * 32 live members) and waits until the broadcast was fully transmitted or
   * `timeoutMs` passed. Keeps answering probes until {@link shutdown}.
   */
  async leave(timeoutMs = this.config.probeIntervalMs): Promise<void> {
    if (this.closed || this.table.leaving) return
    const msg = this.table.leave()
    const bytes = encodeMessage(msg)
    await new Promise<void>((resolve) => {
      let timer: Timer | undefined
      const finish = (): void => {
        if (timer !== undefined) this.c.clock.clearTimeout(timer)
        resolve()
      }
      timer = this.c.clock.setTimeout(finish, timeoutMs)
      this.sendToLive(bytes)
      this.queue.enqueue({ subject: msg.nodeId, bytes, onDone: finish })
    })
  }

  /** Stops every loop and timer and closes the transport. Idempotent. */
  async shutdown(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.running = false
    for (const t of this.tickers) t.stop()
    this.tickers.length = 0
    this.prober.stop()
    this.table.stop()
    this.queue.reset()
    await this.c.transport.close()
  }

  /** Every known member, ourselves included. */
  members(): MemberInfo[] {
    return Array.from(this.table.all(), memberInfo)
  }

  // ---- Cluster (the seam of the layers above) ----

  livePeers(): Peer[] {
    const out: Peer[] = []
    for (const m of this.table.all()) if (m !== this.table.self && m.state <= MemberState.Suspect) out.push({ nodeId: m.nodeId, address: m.addr, suspect: m.state === MemberState.Suspect })
    return out
  }

  numLive(): number {
    return this.table.numLive()
  }

  sampleAlive(count: number): Peer[] {
    return this.table.sample(count, this.c.random, (m) => m.state === MemberState.Alive).map((m) => ({ nodeId: m.nodeId, address: m.addr, suspect: false }))
  }

  addressOf(nodeId: string): string | undefined {
    const m = this.table.get(nodeId)
    return m !== undefined && m.state <= MemberState.Suspect ? m.addr : undefined
  }

  handleStreams(tag: number, handler: StreamTagHandler): void {
    this.streamHandlers.set(tag, handler)
  }

  onPeerGone(fn: (peer: Peer) => void): void {
    const gone = (m: MemberInfo): void => fn({ nodeId: m.nodeId, address: m.address, suspect: false })
    this.on('leave', gone)
    this.on('fail', gone)
  }

  onPeerJoined(fn: (peer: Peer) => void): void {
    this.on('join', (m) => fn({ nodeId: m.nodeId, address: m.address, suspect: false }))
  }

  /** This node's incarnation number (for tests and diagnostics). */
  get incarnation(): number {
    return this.table.self.incarnation
  }

  /**
   * Handles one decoded message as if it had arrived in a datagram from
   * `from`: for tests and the simulator (which seeds member tables with
   * alive messages instead of joining through seeds).
   */
  receive(msg: PacketMsg, from: string): void {
    this.dispatch(msg, from)
  }

  /** Lifeguard health score (0 = healthy). */
  healthScore(): number {
    return this.awareness.score()
  }

  stats(): MembershipStats {
    return {
      ...this.counters,
      ...this.prober.stats,
      dropped: this.dropped.snapshot(),
      healthScore: this.awareness.score(),
      queuedBroadcasts: this.queue.size()
    }
  }

  /**
   * Sends application payloads in one datagram (no piggyback), built once,
   * to every address in `to`. The caller keeps the total under the packet
   * budget. For eager pushes.
   */
  sendPayloads(to: readonly string[], payloads: readonly Uint8Array[]): void {
    if (this.closed || to.length === 0) return
    const packet = buildPacket(payloads.map((p) => encodeUser(p)))
    for (const addr of to) this.out.transmit(addr, packet)
  }

  /** Opens an application stream to `addr`; the first frame carries `tag` and `payload`. */
  async openStream(addr: string, tag: number, payload: Uint8Array): Promise<StreamConn> {
    const conn = await this.c.transport.dialStream(addr, this.config.tcpTimeoutMs)
    conn.send(encodeFrame({ type: MsgType.UserStream, tag, payload: Buffer.from(payload) }))
    return conn
  }

  /** One push-pull exchange with `addr`; merges what comes back. */
  async pushPull(addr: string, join: boolean): Promise<void> {
    const req = pushPullMsg(MsgType.PushPull, join, this.table.localState(), this.delegate.localState(join))
    const reply = await exchange(this.c.transport, this.c.clock, addr, req, this.config.tcpTimeoutMs)
    if (reply.type !== MsgType.PushPullReply) throw new DecodeError('type', `expected a push-pull reply from ${addr}`)
    this.counters.pushPulls++
    if (join) this.checkIdUnique(reply.nodes, addr)
    this.mergePushPull(reply.nodes, reply.userState, join)
  }

  /**
   * A joiner whose node id another live member already holds (at another
   * address) would never replicate with it and fight it over the id:
   * refuse the join, loudly.
   */
  private checkIdUnique(nodes: Parameters<MemberTable['mergeRemote']>[0], seed: string): void {
    const other = nodes.find((n) => n.nodeId === this.nodeId && n.addr !== this.address && n.state <= MemberState.Suspect)
    if (other === undefined) return
    this.drop('duplicate-node-id')
    throw new DuplicateNodeIdError(`node id "${this.nodeId}" is already used by the member at ${other.addr} (seen through ${seed}); give every node a unique nodeId`)
  }

  private mergePushPull(nodes: Parameters<MemberTable['mergeRemote']>[0], userState: Buffer, join: boolean): void {
    this.table.mergeRemote(nodes)
    if (userState.length > 0) this.delegate.mergeRemoteState(userState, join)
  }

  private notify(event: MemberEvent, m: MemberInfo): void {
    try {
      this.emit(event, m)
    } catch (err) {
      this.c.logger.error(`membership: a '${event}' listener threw: ${String(err)}`)
    }
  }

  /** Sends one encoded message directly to up to 32 random live members. */
  private sendToLive(bytes: Buffer): void {
    for (const m of this.table.sample(32, this.c.random, (x) => x.state <= MemberState.Suspect)) this.out.send(m.addr, [bytes])
  }

  /** Runs `task` every `every()` ms, the first time at a random point of the first interval (spreads nodes apart). */
  private loop(firstIntervalMs: number, every: () => number, task: () => void): void {
    const onError = (err: unknown): void => this.c.logger.error(`membership: periodic task failed: ${String(err)}`)
    this.tickers.push(new Ticker(this.c.clock, every, task, onError).start(this.c.random() * firstIntervalMs))
  }

  /**
   * One random alive member, to repair what gossip lost. Plus reconnection:
   * one random member we hold dead (a partition longer than
   * gossipToTheDeadMs heals through this), and the seeds when we are alone.
   */
  private periodicPushPull(): void {
    const attempt = (addr: string): void => {
      void this.pushPull(addr, false).catch((err) => this.c.logger.debug(`membership: push-pull with ${addr} failed: ${String(err)}`))
    }
    const [peer] = this.table.sample(1, this.c.random, (m) => m.state === MemberState.Alive)
    if (peer !== undefined) attempt(peer.addr)
    const [ghost] = this.table.sample(1, this.c.random, (m) => m.state === MemberState.Dead)
    if (ghost !== undefined) attempt(ghost.addr)
    if (this.table.numLive() <= 1) for (const s of this.seeds) attempt(s)
  }

  private pushPullInterval(): number {
    // Like memberlist: beyond 32 members, stretch the interval by log2(N/32).
    const n = this.table.numLive()
    const scale = n <= 32 ? 1 : Math.ceil(Math.log2(n) - Math.log2(32))
    return this.config.pushPullIntervalMs * Math.max(1, scale)
  }

  private gossip(): void {
    const now = this.c.clock.now()
    const targets = this.table.sample(this.config.gossipNodes, this.c.random, (m) =>
      m.state <= MemberState.Suspect || now - m.stateChangeMs < this.config.gossipToTheDeadMs)
    for (const m of targets) this.out.send(m.addr, [], true)
  }

  private drop(reason: string): void {
    this.dropped.count(reason)
  }

  private onPacket(data: Buffer, from: string): void {
    this.counters.packetsIn++
    this.counters.bytesIn += data.length
    if (this.closed) return
    let msgs: PacketMsg[]
    try {
      msgs = decodePacket(data)
    } catch (err) {
      this.drop(err instanceof DecodeError ? err.reason : 'decode')
      this.c.logger.debug(`membership: dropped datagram from ${from}: ${String(err)}`)
      return
    }
    for (const msg of msgs) {
      try {
        this.dispatch(msg, from)
      } catch (err) {
        this.drop('handler-error')
        this.c.logger.error(`membership: handling message type ${msg.type} from ${from} failed: ${String(err)}`)
      }
    }
  }

  private dispatch(msg: PacketMsg, from: string): void {
    switch (msg.type) {
      case MsgType.Ping: return this.prober.handlePing(msg, this.dropped.byReason)
      case MsgType.PingReq: return this.prober.handlePingReq(msg)
      case MsgType.Ack: return this.prober.handleAck(msg)
      case MsgType.Nack: return this.prober.handleNack(msg)
      case MsgType.Alive: return this.table.handleAlive(msg)
      case MsgType.Suspect: return this.table.handleSuspect(msg)
      case MsgType.Dead: return this.table.handleDead(msg)
      case MsgType.User: return this.delegate.notifyMsg(msg.payload, from)
    }
  }

  private onStream(conn: StreamConn): void {
    if (this.closed) {
      conn.destroy()
      return
    }
    // Frames (and a close) that arrive before the tag handler takes over wait for it (hand-off.ts).
    const handOff = new HandOffConn(conn)
    handOff.first(this.c.clock, this.config.tcpTimeoutMs).then(decodeFrame).then(
      (msg) => this.serveStream(handOff, msg),
      (err) => {
        this.drop(err instanceof DecodeError ? `stream-${err.reason}` : 'stream-error')
        this.c.logger.debug(`membership: stream from ${conn.remoteAddress} failed: ${String(err)}`)
        conn.destroy()
      }
    )
  }

  private serveStream(conn: StreamConn, msg: StreamMsg): void {
    try {
      switch (msg.type) {
        case MsgType.Ping:
          if (msg.targetId === this.nodeId) conn.send(encodeFrame({ type: MsgType.Ack, seq: msg.seq }))
          else this.drop('wrong-node')
          conn.close()
          return
        case MsgType.PushPull: {
          const reply = pushPullMsg(MsgType.PushPullReply, msg.join, this.table.localState(), this.delegate.localState(msg.join))
          conn.send(encodeFrame(reply))
          conn.close()
          this.counters.pushPulls++
          this.mergePushPull(msg.nodes, msg.userState, msg.join)
          return
        }
        case MsgType.UserStream: {
          const handler = this.streamHandlers.get(msg.tag)
          if (handler === undefined) {
            this.drop('stream-tag')
            conn.destroy()
            return
          }
          handler(conn, msg.payload)
          return
        }
      }
      this.drop('stream-type')
      conn.destroy()
    } catch (err) {
      this.drop('handler-error')
      this.c.logger.error(`membership: serving stream from ${conn.remoteAddress} failed: ${String(err)}`)
      conn.destroy()
    }
  }

  private async tcpPing(m: Member, seq: number, timeoutMs: number): Promise<boolean> {
    try {
      const reply = await exchange(this.c.transport, this.c.clock, m.addr, {
        type: MsgType.Ping, seq, targetId: m.nodeId, sourceId: this.nodeId, sourceAddr: this.address
      }, timeoutMs)
      return reply.type === MsgType.Ack && reply.seq === seq
    } catch {
      return false
    }
  }
}
