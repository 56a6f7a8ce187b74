/**
 * The SWIM membership engine: wires the member table, the prober, the
 * broadcast queue and the transport together, and runs the periodic loops
 * (probe, gossip, push-pull).
 *
 * The parts, one file each: outgoing datagrams are built by `PacketSender`,
 * which fills each with piggybacked broadcasts (membership and application)
 * up to the budget; arriving ones are decoded and dispatched by
 * `PacketReceiver`; accepted streams are served by `StreamServer`; the
 * push-pull exchanges (join, repair, reconnection) are `PushPull`'s; failure
 * detection is the `Prober`'s; member states are the `MemberTable`'s.
 * This class builds them, runs the periodic loops and implements `Cluster`.
 *
 * A datagram that does not decode is dropped whole and counted by reason;
 * nothing from a socket handler ever throws.
 */
import { EventEmitter } from 'node:events'
import { Ticker, type Clock } from '../clock.js'
import { DropCounts } from '../drop-counts.js'
import { InvalidStateError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Random } from '../random.js'
import type { MembershipConfig } from '../options.js'
import { checkTags } from '../wire/tags.js'
import { TransmitQueue } from '../gossip/transmit-queue.js'
import type { StreamConn, Transport } from '../transport/transport.js'
import { buildPacket, encodeFrame, encodeMessage, encodeUser } from '../wire/codec.js'
import { MemberState, MsgType, type PacketMsg } from '../wire/messages.js'
import { Awareness } from './awareness.js'
import type { Cluster, Peer, StreamTagHandler } from './cluster.js'
import { nullDelegate, type MembershipDelegate } from './delegate.js'
import { Dissemination } from './dissemination.js'
import { MemberTable, memberInfo, type BootstrapMember, type MemberEvent, type MemberInfo, type MemberTableLimits } from './member-table.js'
import { joinWithRetry, type JoinOptions, type PeerSource } from './join.js'
export type { JoinOptions } from './join.js'
import { PeerRefresh } from './peer-refresh.js'
import { PacketReceiver } from './packet-receiver.js'
import { PacketSender } from './packet-sender.js'
import { Prober, type ProbeStats } from './prober.js'
import { PushPull } from './push-pull.js'
import { StreamServer } from './stream-server.js'
import { tcpPing } from './streams.js'

/** The collaborators of {@link Membership}, injected. */
export interface MembershipComponents {
  transport: Transport
  clock: Clock
  random: Random
  logger: Logger
  delegate?: MembershipDelegate
}

/** Counters of {@link Membership.stats}. */
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

/** The SWIM membership engine; implements the {@link Cluster} seam (see the file comment). */
export class Membership extends EventEmitter<MembershipEvents> implements Cluster {
  private readonly table: MemberTable
  private readonly refutedListeners: Array<() => void> = []
  private readonly queue: TransmitQueue
  private readonly awareness: Awareness
  private readonly prober: Prober
  private delegate: MembershipDelegate
  private readonly out: PacketSender
  private readonly receiver: PacketReceiver
  private readonly pushPulls: PushPull
  private readonly streams: StreamServer
  private readonly spread: Dissemination
  private readonly tickers: Ticker[] = []
  private readonly dropped = new DropCounts()
  private readonly counters = { packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, pushPulls: 0 }
  private running = false
  private refresher: PeerRefresh | undefined
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
        onDeclaredDead: (bytes) => this.spread.sendToLive(bytes),
        onRefuted: () => { for (const fn of this.refutedListeners) fn() },
        onDrop: (reason) => this.drop(reason)
      },
      config
    )
    this.prober = new Prober(
      {
        clock: c.clock, random: c.random, table: this.table, awareness: this.awareness, logger: c.logger,
        send: (to, msgs) => this.out.send(to, msgs),
        tcpPing: (m, seq, ms) => tcpPing(c.transport, c.clock, { nodeId: config.nodeId, addr: config.advertiseAddr }, m, seq, ms)
      },
      config
    )
    this.out = new PacketSender({ transport: c.transport, queue: this.queue, delegate: this.delegate, counters: this.counters, isClosed: () => this.closed }, config)
    this.spread = new Dissemination({ clock: c.clock, random: c.random, table: this.table, queue: this.queue, out: this.out }, config)
    const { counters, dropped } = this
    const delegate = (): MembershipDelegate => this.delegate
    const drop = (reason: string): void => this.drop(reason)
    const isClosed = (): boolean => this.closed
    this.receiver = new PacketReceiver({ logger: c.logger, table: this.table, prober: this.prober, delegate, dropped, counters, isClosed })
    this.pushPulls = new PushPull({ transport: c.transport, clock: c.clock, random: c.random, logger: c.logger, table: this.table, delegate, counters, drop }, config)
    this.streams = new StreamServer({ clock: c.clock, logger: c.logger, pushPull: this.pushPulls, drop, isClosed }, config)
    c.transport.onPacket((data, from) => this.receiver.receive(data, from))
    c.transport.onStream((conn) => this.streams.accept(conn))
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
    if (this.running) throw new InvalidStateError('setDelegate() must be called before start()')
    this.delegate = delegate
    this.out.setDelegate(delegate)
  }

  /** Starts the probe, gossip and push-pull loops and announces ourselves. */
  start(): void {
    if (this.running || this.closed) return
    this.running = true
    this.table.broadcastSelf()
    this.loop(this.config.probeIntervalMs, () => this.awareness.scaleTimeout(this.config.probeIntervalMs), () => this.prober.probeRound())
    this.loop(this.config.gossipIntervalMs, () => this.config.gossipIntervalMs, () => this.spread.tick())
    if (this.config.pushPullIntervalMs > 0) {
      this.loop(this.pushPulls.intervalMs(), () => this.pushPulls.intervalMs(), () => this.pushPulls.periodic(this.seeds))
    }
  }

  /**
   * Joins through `seeds` ("host:port" addresses, or a source re-read on
   * every attempt and refresh): a push-pull exchange with each, in
   * parallel, retried as join.ts says. Resolves with the number of seeds
   * reached; rejects with `JoinError` when none was (no seed resolves 0:
   * first node).
   */
  async join(seeds: readonly string[] | PeerSource, opts: JoinOptions = {}): Promise<number> {
    const list = typeof seeds === 'function' ? undefined : [...seeds]
    const source: PeerSource = async () => (list ?? await (seeds as PeerSource)()).filter((s) => s !== this.address)
    const c = this.c
    const reached = await joinWithRetry({
      clock: c.clock, random: c.random, isClosed: () => this.closed, warn: (m) => c.logger.warn(m),
      seeds: async () => (this.seeds = await source()) as string[],
      attempt: (targets) => this.pushPulls.joinAttempt(targets)
    }, { timeoutMs: opts.timeoutMs ?? 0 })
    if (list === undefined && !this.closed) {
      this.refresher?.stop()
      this.refresher = new PeerRefresh({
        clock: c.clock, logger: c.logger, source, known: (a) => this.table.hasAddress(a),
        setSeeds: (s) => { this.seeds = s },
        pushPull: (a) => void this.pushPulls.exchange(a, false).catch((err) => c.logger.debug(`membership: push-pull with ${a} failed: ${String(err)}`))
      }, opts.refreshMs ?? 0).start()
    }
    return reached
  }

  /** The seeds as last read (the join's, or the latest refresh's), our own address excluded. */
  seedAddresses(): string[] {
    return [...this.seeds]
  }

  /** Replaces this node's tags: a new incarnation, announced to all. @throws TypeError | RangeError on bad tags */
  setTags(tags: Record<string, string>): void {
    this.table.setSelfTags(checkTags(tags, 'tags:'))
  }

  /**
   * Leaves gracefully: broadcasts that we left (also sent directly to up to
   * 32 live members) and waits until the broadcast was fully transmitted or
   * `timeoutMs` passed; returns at once when no live peer is known (nobody
   * to tell). Keeps answering probes until {@link shutdown}.
   */
  async leave(timeoutMs = this.config.probeIntervalMs): Promise<void> {
    if (this.closed || this.table.leaving) return
    const msg = this.table.leave()
    if (this.livePeers().length === 0) return // nobody to tell: no broadcast to wait for
    await this.spread.spreadAndWait(msg.nodeId, encodeMessage(msg), timeoutMs)
  }

  /** Stops every loop and timer and closes the transport. Idempotent. */
  async shutdown(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.running = false
    for (const t of this.tickers) t.stop()
    this.refresher?.stop()
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
    const selfId = this.table.selfId
    for (const m of this.table.all()) if (m.nodeId !== selfId && m.state <= MemberState.Suspect) out.push({ nodeId: m.nodeId, address: m.addr, suspect: m.state === MemberState.Suspect })
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
    this.streams.handle(tag, handler)
  }

  onPeerGone(fn: (peer: Peer) => void): void {
    const gone = (m: MemberInfo): void => fn({ nodeId: m.nodeId, address: m.address, suspect: false })
    this.on('leave', gone)
    this.on('fail', gone)
  }

  onPeerJoined(fn: (peer: Peer) => void): void {
    this.on('join', (m) => fn({ nodeId: m.nodeId, address: m.address, suspect: false }))
  }

  onRefuted(fn: () => void): void {
    this.refutedListeners.push(fn)
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
    this.receiver.dispatch(msg, from)
  }

  /**
   * **Bootstrap only — for simulators, never for production nodes.** Fills
   * the member table with `members` as alive (their real ids, addresses and
   * incarnations) without queuing a re-broadcast or emitting `join` for each,
   * so N nodes seeded this way start as a formed, quiet cluster instead of
   * draining N² broadcasts (`tools/simulate-cluster.ts`). The SWIM rules are
   * unchanged afterwards. Before start(); returns how many were added
   * (see {@link MemberTable.preseedForBootstrap}).
   */
  preseedForBootstrap(members: readonly BootstrapMember[]): number {
    if (this.running) throw new InvalidStateError('preseedForBootstrap() must be called before start()')
    return this.table.preseedForBootstrap(members)
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
  pushPull(addr: string, join: boolean): Promise<void> {
    return this.pushPulls.exchange(addr, join)
  }

  private notify(event: MemberEvent, m: MemberInfo): void {
    try {
      this.emit(event, m)
    } catch (err) {
      this.c.logger.error(`membership: a '${event}' listener threw: ${String(err)}`)
    }
  }

  /** Runs `task` every `every()` ms, the first time at a random point of the first interval (spreads nodes apart). */
  private loop(firstIntervalMs: number, every: () => number, task: () => void): void {
    const onError = (err: unknown): void => this.c.logger.error(`membership: periodic task failed: ${String(err)}`)
    this.tickers.push(new Ticker(this.c.clock, every, task, onError).start(this.c.random() * firstIntervalMs))
  }

  private drop(reason: string): void {
    this.dropped.count(reason)
  }
}
