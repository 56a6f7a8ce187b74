/**
 * Push-pull: the TCP exchange of whole member tables (plus the delegate's
 * state) that SWIM's gossip cannot guarantee. It serves three purposes:
 *
 * - **Join.** A new node exchanges tables with every seed in parallel; one
 *   answer is enough (join.ts retries an attempt that reached none). A seed's table naming our node id at another live
 *   address means the id is taken: the join is refused with
 *   `DuplicateNodeIdError` rather than two nodes fighting over one id.
 * - **Repair.** Every `pushPullIntervalMs` (stretched by `log2(N/32)` beyond
 *   32 members, as memberlist does) one random alive member is asked, to
 *   repair what datagram loss hid — digest first ({@link PushPull.repair}):
 *   two nodes that agree exchange two digests, not two tables.
 * - **Reconnection.** The same round also tries one member we hold dead (a
 *   partition longer than `gossipToTheDeadMs` heals this way), one address
 *   of a member reaped while dead (a partition longer than
 *   `reapDeadAfterMs`), and, when we are alone, the seeds of the last join,
 *   every reaped address and up to 64 members held dead (two nodes that
 *   each held the other dead after total loss found each other only by
 *   chance, one random dead member a round).
 *
 * Both sides merge what they receive through {@link mergeRemoteTable},
 * which reads a remote "dead" as a suspicion only; the side that answers
 * ({@link PushPull.answer}) replies first, then merges.
 */
import type { Clock } from '../clock.js'
import { MAX_REAPED_ADDRESSES } from './reaped-addresses.js'
import { DuplicateNodeIdError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Random } from '../random.js'
import type { MembershipConfig } from '../options.js'
import type { StreamConn, Transport } from '../transport/transport.js'
import { DecodeError, encodeFrame } from '../wire/codec.js'
import { MemberState, MsgType, type AliveMsg, type PushNodeState, type PushPullMsg } from '../wire/messages.js'
import { hasTags } from '../wire/tags.js'
import type { MembershipDelegate } from './delegate.js'
import type { JoinAttempt, SeedFailure } from './join.js'
import type { MemberTable } from './member-table.js'
import { exchange, pushPullMsg } from './streams.js'
import { tableDigest } from './table-digest.js'

/** What {@link PushPull} needs from the engine. */
export interface PushPullComponents {
  transport: Transport
  clock: Clock
  random: Random
  logger: Logger
  table: MemberTable
  /** The current delegate (it may be replaced before the engine starts). */
  delegate: () => MembershipDelegate
  /** Shared counters; `pushPulls` counts exchanges completed, both sides. */
  counters: { pushPulls: number }
  /** Counts a refused exchange by reason (`duplicate-node-id`). */
  drop: (reason: string) => void
}

/** Runs push-pull exchanges, as the initiator and as the answering side. */
export class PushPull {
  constructor(
    private readonly c: PushPullComponents,
    private readonly config: MembershipConfig
  ) {}

  /**
   * One join attempt: exchanges with every seed in parallel. Resolves with
   * how many answered and why the others did not (see join.ts for the
   * retries); rejects with `DuplicateNodeIdError` when a seed knows our id elsewhere.
   */
  async joinAttempt(targets: readonly string[]): Promise<JoinAttempt> {
    const results = await Promise.allSettled(targets.map((s) => this.exchange(s, true)))
    const clash = results.find((r) => r.status === 'rejected' && r.reason instanceof DuplicateNodeIdError)
    if (clash !== undefined) throw (clash as PromiseRejectedResult).reason
    const failures: SeedFailure[] = []
    results.forEach((r, i) => { if (r.status === 'rejected') failures.push({ seed: targets[i]!, error: r.reason }) })
    return { ok: results.length - failures.length, failures }
  }

  /**
   * The periodic repair with `addr`, digest first (table-digest.ts): our
   * digest and no rows; a peer whose table is the same answers so, and the
   * round is done. Otherwise (a different table, or an older node that
   * answers with its table anyway) we merge its table and run a full
   * exchange, so it learns ours too.
   */
  async repair(addr: string): Promise<void> {
    const digest = tableDigest(tableState(this.c.table))
    const req: PushPullMsg = { ...pushPullMsg(MsgType.PushPull, false, [], this.c.delegate().localState(false)), digest }
    const reply = await exchange(this.c.transport, this.c.clock, addr, req, this.config.tcpTimeoutMs)
    if (reply.type !== MsgType.PushPullReply) throw new DecodeError('type', `expected a push-pull reply from ${addr}`)
    this.c.counters.pushPulls++
    if (reply.nodes.length === 0 && reply.digest === digest) return
    this.merge(reply.nodes, reply.userState, false)
    await this.exchange(addr, false)
  }

  /** One push-pull exchange with `addr`; merges what comes back. */
  async exchange(addr: string, join: boolean): Promise<void> {
    const req = pushPullMsg(MsgType.PushPull, join, tableState(this.c.table), this.c.delegate().localState(join))
    const reply = await exchange(this.c.transport, this.c.clock, addr, req, this.config.tcpTimeoutMs)
    if (reply.type !== MsgType.PushPullReply) throw new DecodeError('type', `expected a push-pull reply from ${addr}`)
    this.c.counters.pushPulls++
    if (join) this.checkIdUnique(reply.nodes, addr)
    this.merge(reply.nodes, reply.userState, join)
  }

  /** The answering side: replies with our state on `conn`, closes it, then merges the request. */
  answer(conn: StreamConn, msg: PushPullMsg): void {
    const rows = tableState(this.c.table)
    let reply = pushPullMsg(MsgType.PushPullReply, msg.join, rows, this.c.delegate().localState(msg.join))
    if (msg.digest !== undefined && msg.nodes.length === 0 && !msg.join) {
      // a digest-first repair (see repair): "same", or our table
      const digest = tableDigest(rows)
      if (digest === msg.digest) reply = { ...reply, nodes: [], digest }
    }
    conn.send(encodeFrame(reply))
    conn.close()
    this.c.counters.pushPulls++
    this.merge(msg.nodes, msg.userState, msg.join)
  }

  /**
   * The periodic round: one random alive member, one random member we hold
   * dead, and the seeds of the last join when we are alone (see the file comment).
   */
  periodic(seeds: readonly string[]): void {
    const attempt = (addr: string): void => {
      void this.repair(addr).catch((err) => this.c.logger.debug(`membership: push-pull with ${addr} failed: ${String(err)}`))
    }
    const { table, random } = this.c
    const [peer] = table.sample(1, random, (m) => m.state === MemberState.Alive)
    if (peer !== undefined) attempt(peer.addr)
    const [ghost] = table.sample(1, random, (m) => m.state === MemberState.Dead)
    if (ghost !== undefined) attempt(ghost.addr)
    // Members reaped while dead are gone from the table but may be up again
    // across a long partition: one of them each round, all of them when alone.
    const reaped = table.reapedAddresses().filter((a) => !table.hasAddress(a))
    if (reaped.length > 0) attempt(reaped[Math.floor(random() * reaped.length)]!)
    if (table.numLive() > 1) return
    // Alone: every way back at once — the seeds, the reaped addresses, and up to 64 members held dead.
    const dead = table.sample(MAX_REAPED_ADDRESSES, random, (m) => m.state === MemberState.Dead).map((m) => m.addr)
    for (const a of new Set([...seeds, ...reaped, ...dead])) attempt(a)
  }

  /** The interval of {@link periodic}: `pushPullIntervalMs`, times `ceil(log2(N/32))` beyond 32 live members. */
  intervalMs(): number {
    // Like memberlist: beyond 32 members, stretch the interval by log2(N/32).
    const n = this.c.table.numLive()
    const scale = n <= 32 ? 1 : Math.ceil(Math.log2(n) - Math.log2(32))
    return this.config.pushPullIntervalMs * Math.max(1, scale)
  }

  /**
   * A joiner whose node id another live member already holds (at another
   * address) would never replicate with it and fight it over the id:
   * refuse the join, loudly.
   */
  private checkIdUnique(nodes: PushPullMsg['nodes'], seed: string): void {
    const { nodeId, advertiseAddr } = this.config
    const other = nodes.find((n) => n.nodeId === nodeId && n.addr !== advertiseAddr && n.state <= MemberState.Suspect)
    if (other === undefined) return
    this.c.drop('duplicate-node-id')
    throw new DuplicateNodeIdError(`node id "${nodeId}" is already used by the member at ${other.addr} (seen through ${seed}); give every node a unique nodeId`)
  }

  private merge(nodes: PushPullMsg['nodes'], userState: Buffer, join: boolean): void {
    mergeRemoteTable(this.c.table, nodes)
    if (userState.length > 0) this.c.delegate().mergeRemoteState(userState, join)
  }
}

/** Our member table as a push-pull message carries it. */
export function tableState(table: MemberTable): PushNodeState[] {
  const out: PushNodeState[] = []
  for (const m of table.all()) {
    const row: PushNodeState = { nodeId: m.nodeId, addr: m.addr, incarnation: m.incarnation, state: m.state }
    if (hasTags(m.tags)) row.tags = m.tags
    out.push(row)
  }
  return out
}

/**
 * Merges a member table received by push-pull into `table`. A remote "dead"
 * is taken as a suspicion only (as memberlist does): one node's stale view
 * must not kill a member that others can still reach; our own probes decide.
 */
export function mergeRemoteTable(table: MemberTable, nodes: readonly PushNodeState[]): void {
  const selfId = table.selfId
  for (const n of nodes) {
    switch (n.state) {
      case MemberState.Alive:
        table.handleAlive(aliveOf(n))
        break
      case MemberState.Left:
        table.handleDead({ type: MsgType.Dead, incarnation: n.incarnation, nodeId: n.nodeId, fromId: n.nodeId })
        break
      default:
        if (table.get(n.nodeId) === undefined) {
          // Learn of it as alive first so the suspicion has something to apply to.
          table.handleAlive(aliveOf(n))
        }
        table.handleSuspect({ type: MsgType.Suspect, incarnation: n.incarnation, nodeId: n.nodeId, fromId: selfId })
    }
  }
}

/** The alive message a push-pull row stands for. */
function aliveOf(n: PushNodeState): AliveMsg {
  const msg: AliveMsg = { type: MsgType.Alive, incarnation: n.incarnation, nodeId: n.nodeId, addr: n.addr }
  if (n.tags !== undefined) msg.tags = n.tags
  return msg
}
