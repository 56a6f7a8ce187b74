/**
 * The member table and SWIM's state rules (alive / suspect / dead / left with
 * incarnation numbers). Everything that changes a member's state goes through
 * here, whether it came from a datagram, a push-pull exchange or our own probe.
 *
 * Rules, as in SWIM with memberlist's refinements:
 * - `alive(n, inc)` is accepted when `inc` is newer than what we hold, or when
 *   `n` is unknown (a join). A dead or left member coming back at any address
 *   is a rejoin. An alive claim at a different address for a member that is
 *   not dead is a conflict and is ignored (the real owner keeps the id).
 * - `suspect(n, inc)` is accepted when `inc ≥` ours and `n` is alive; it
 *   starts a suspicion timer whose length shrinks as independent accusers
 *   confirm it (Lifeguard). For an already suspected member, a new accuser
 *   is a confirmation.
 * - `dead(n, inc)` with `inc ≥` ours ends the member (left, when `n` sent it
 *   about itself).
 * - Any suspect/dead about ourselves, or an alive about ourselves that differs
 *   from the truth, is refuted: we raise our incarnation above it and
 *   broadcast alive. That is also how a node restarted under the same id
 *   takes its place back (its first incarnation is the wall time in seconds,
 *   so it usually outranks its previous life at once).
 * Every accepted change is re-broadcast (infection-style dissemination).
 */
import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import type { TransmitQueue } from '../gossip/transmit-queue.js'
import { encodeMessage } from '../wire/codec.js'
import { MemberState, MsgType, type AliveMsg, type DeadMsg, type SuspectMsg, type PushNodeState } from '../wire/messages.js'
import type { MembershipConfig } from '../options.js'
import type { Awareness } from './awareness.js'
import { Suspicion, suspicionTimeoutBounds } from './suspicion.js'

/** A snapshot of one member, as `members()` reports it. */
export interface MemberInfo {
  nodeId: string
  address: string
  state: 'alive' | 'suspect' | 'dead' | 'left'
  incarnation: number
}

export type MemberEvent = 'join' | 'update' | 'leave' | 'fail'

/** A member's record. Mutable; owned by the table. */
export interface Member {
  nodeId: string
  addr: string
  incarnation: number
  state: MemberState
  /** Clock time of the last state change (for reaping and gossip-to-the-dead). */
  stateChangeMs: number
  /** Pending suspicion while state is Suspect. */
  suspicion?: Suspicion | undefined
}

const stateNames = ['alive', 'suspect', 'dead', 'left'] as const

/** The public view of a member. */
export function memberInfo(m: Member): MemberInfo {
  return { nodeId: m.nodeId, address: m.addr, state: stateNames[m.state], incarnation: m.incarnation }
}

export interface MemberTableComponents {
  clock: Clock
  queue: TransmitQueue
  awareness: Awareness
  logger: Logger
  /** Called for every membership event, after the table changed. */
  emit: (event: MemberEvent, member: MemberInfo) => void
  /** Another node accused `m`: probe it soon, so our own verdict confirms or refutes quickly. */
  onPeerSuspects?: (m: Member) => void
  /** We declared a member dead: spread the (encoded) news directly, not only by gossip. */
  onDeclaredDead?: (encoded: Buffer) => void
  /** Counts a message ignored because of a limit (`max-members`). */
  onDrop?: (reason: string) => void
}

/** Limits of the member table (beyond the tuning options). */
export interface MemberTableLimits {
  /**
   * Most members held (any state, ourselves included). An alive message
   * about a new member beyond it is ignored and counted `max-members`: a
   * flood of invented members cannot grow memory without bound. Members
   * already known are still updated; reaping dead ones makes room.
   * @default 10000
   */
  maxMembers?: number
}

/**
 * Suspect and dead messages with a higher incarnation are ignored (counted
 * `incarnation-range`): a refutation must always be able to outrank an
 * accusation within safe integers (2^53), so a forged accusation with a huge
 * incarnation cannot leave its target unable to refute.
 */
export const MAX_ACCUSED_INCARNATION = 2 ** 52

/** Default of {@link MemberTableLimits.maxMembers}. */
export const DEFAULT_MAX_MEMBERS = 10_000

export class MemberTable {
  private readonly members = new Map<string, Member>()
  /** Member ids in an array for O(1) random sampling; `index` maps id → position. Same set as `members`. */
  private readonly ids: string[] = []
  private readonly index = new Map<string, number>()
  /** Members in state Alive or Suspect, ourselves included (kept in step by `setState`). */
  private live = 0
  readonly self: Member
  /** True once a graceful leave started: accusations are no longer refuted. */
  leaving = false

  constructor(
    private readonly c: MemberTableComponents,
    private readonly config: MembershipConfig & MemberTableLimits
  ) {
    this.self = {
      nodeId: config.nodeId,
      addr: config.advertiseAddr,
      incarnation: Math.floor(c.clock.now() / 1000),
      state: MemberState.Alive,
      stateChangeMs: c.clock.now()
    }
    this.add(this.self)
  }

  get(nodeId: string): Member | undefined {
    return this.members.get(nodeId)
  }

  /** Every member, ourselves included. */
  all(): IterableIterator<Member> {
    return this.members.values()
  }

  /** Members in the table (any state, ourselves included). */
  size(): number {
    return this.members.size
  }

  /** Members believed up (alive or suspect), ourselves included: SWIM's N. */
  numLive(): number {
    return this.live
  }

  /**
   * Up to `count` distinct random members (never ourselves) accepted by
   * `filter`. Samples random positions rather than scanning, so it costs
   * O(count) on large tables; gives up after a bounded number of misses.
   */
  sample(count: number, random: () => number, filter: (m: Member) => boolean): Member[] {
    const out: Member[] = []
    const n = this.ids.length
    if (count <= 0 || n <= 1) return out
    if (n <= 4 * count + 8) {
      // Small table: scan a shuffled copy, exact.
      const copy = this.ids.slice()
      for (let i = copy.length - 1; i > 0 && out.length < count; i--) {
        const j = Math.floor(random() * (i + 1))
        const t = copy[i]!; copy[i] = copy[j]!; copy[j] = t
      }
      for (const id of copy) {
        if (out.length >= count) break
        const m = this.members.get(id)!
        if (m !== this.self && filter(m)) out.push(m)
      }
      return out
    }
    const seen = new Set<string>()
    for (let tries = 0; tries < 8 * count + 16 && out.length < count; tries++) {
      const id = this.ids[Math.floor(random() * n)]!
      if (seen.has(id)) continue
      seen.add(id)
      const m = this.members.get(id)!
      if (m !== this.self && filter(m)) out.push(m)
    }
    return out
  }

  /** Announces ourselves (at start, and after a refute). */
  broadcastSelf(): void {
    const s = this.self
    this.broadcast({ type: MsgType.Alive, incarnation: s.incarnation, nodeId: s.nodeId, addr: s.addr })
  }

  handleAlive(msg: AliveMsg): void {
    if (msg.nodeId === this.self.nodeId) {
      if (msg.incarnation < this.self.incarnation) return
      if (msg.incarnation === this.self.incarnation && msg.addr === this.self.addr) return
      this.refute(msg.incarnation)
      return
    }
    const m = this.members.get(msg.nodeId)
    if (m === undefined) {
      if (this.members.size >= (this.config.maxMembers ?? DEFAULT_MAX_MEMBERS)) {
        this.c.onDrop?.('max-members')
        return
      }
      const now = this.c.clock.now()
      const fresh: Member = { nodeId: msg.nodeId, addr: msg.addr, incarnation: msg.incarnation, state: MemberState.Alive, stateChangeMs: now }
      this.add(fresh)
      this.broadcast(msg)
      this.c.emit('join', memberInfo(fresh))
      return
    }
    const gone = m.state >= MemberState.Dead
    if (msg.addr !== m.addr && !gone) {
      // Two live nodes with one id (a restart at another address is only
      // accepted once the old one is dead): counted, so it is not silent.
      this.c.onDrop?.('node-id-conflict')
      this.c.logger.warn(`membership: conflicting address for ${msg.nodeId}: ${m.addr} vs ${msg.addr}; keeping ${m.addr}`)
      return
    }
    if (msg.incarnation <= m.incarnation && !(gone && msg.addr !== m.addr)) return
    const changed = m.state !== MemberState.Alive || m.addr !== msg.addr
    m.suspicion?.cancel()
    m.suspicion = undefined
    m.incarnation = msg.incarnation
    m.addr = msg.addr
    this.setState(m, MemberState.Alive)
    this.broadcast(msg)
    if (gone) this.c.emit('join', memberInfo(m))
    else if (changed) this.c.emit('update', memberInfo(m))
  }

  handleSuspect(msg: SuspectMsg): void {
    if (msg.incarnation > MAX_ACCUSED_INCARNATION) return this.c.onDrop?.('incarnation-range')
    const m = this.members.get(msg.nodeId)
    if (m === undefined || msg.incarnation < m.incarnation) return
    if (m === this.self) {
      if (!this.leaving) this.refute(msg.incarnation)
      return
    }
    if (m.state === MemberState.Suspect && m.suspicion !== undefined) {
      // Same or newer incarnation, already suspected: maybe a confirmation.
      if (m.suspicion.confirm(msg.fromId)) this.broadcast(msg)
      return
    }
    if (m.state !== MemberState.Alive) return
    m.incarnation = msg.incarnation
    this.setState(m, MemberState.Suspect)
    this.startSuspicion(m, msg.fromId)
    this.broadcast(msg)
    this.c.emit('update', memberInfo(m))
    if (msg.fromId !== this.self.nodeId) this.c.onPeerSuspects?.(m)
  }

  handleDead(msg: DeadMsg): void {
    if (msg.incarnation > MAX_ACCUSED_INCARNATION) return this.c.onDrop?.('incarnation-range')
    const m = this.members.get(msg.nodeId)
    if (m === undefined || msg.incarnation < m.incarnation || m.state >= MemberState.Dead) return
    if (m === this.self) {
      if (!this.leaving) this.refute(msg.incarnation)
      return
    }
    m.suspicion?.cancel()
    m.suspicion = undefined
    m.incarnation = msg.incarnation
    this.setState(m, msg.fromId === msg.nodeId ? MemberState.Left : MemberState.Dead)
    this.broadcast(msg)
    this.c.emit(m.state === MemberState.Left ? 'leave' : 'fail', memberInfo(m))
  }

  /** We suspect `m` (our own probe failed). */
  suspectFromProbe(m: Member): void {
    this.handleSuspect({ type: MsgType.Suspect, incarnation: m.incarnation, nodeId: m.nodeId, fromId: this.self.nodeId })
  }

  /** Starts a graceful leave: marks ourselves left and returns the message to spread. */
  leave(): DeadMsg {
    this.leaving = true
    this.setState(this.self, MemberState.Left)
    return { type: MsgType.Dead, incarnation: this.self.incarnation, nodeId: this.self.nodeId, fromId: this.self.nodeId }
  }

  /**
   * Merges a member table received by push-pull. A remote "dead" is taken as
   * a suspicion only (as memberlist does): one node's stale view must not
   * kill a member that others can still reach; our own probes decide.
   */
  mergeRemote(nodes: readonly PushNodeState[]): void {
    const selfId = this.self.nodeId
    for (const n of nodes) {
      switch (n.state) {
        case MemberState.Alive:
          this.handleAlive({ type: MsgType.Alive, incarnation: n.incarnation, nodeId: n.nodeId, addr: n.addr })
          break
        case MemberState.Left:
          this.handleDead({ type: MsgType.Dead, incarnation: n.incarnation, nodeId: n.nodeId, fromId: n.nodeId })
          break
        default:
          if (!this.members.has(n.nodeId)) {
            // Learn of it as alive first so the suspicion has something to apply to.
            this.handleAlive({ type: MsgType.Alive, incarnation: n.incarnation, nodeId: n.nodeId, addr: n.addr })
          }
          this.handleSuspect({ type: MsgType.Suspect, incarnation: n.incarnation, nodeId: n.nodeId, fromId: selfId })
      }
    }
  }

  /** Our table for a push-pull exchange. */
  localState(): PushNodeState[] {
    const out: PushNodeState[] = []
    for (const m of this.members.values()) out.push({ nodeId: m.nodeId, addr: m.addr, incarnation: m.incarnation, state: m.state })
    return out
  }

  /** Removes dead and left members whose state changed more than `reapDeadAfterMs` ago. */
  reap(): number {
    const cutoff = this.c.clock.now() - this.config.reapDeadAfterMs
    let n = 0
    for (const [id, m] of this.members) {
      if (m !== this.self && m.state >= MemberState.Dead && m.stateChangeMs <= cutoff) {
        this.remove(id)
        n++
      }
    }
    return n
  }

  /** Cancels every suspicion timer (on shutdown). */
  stop(): void {
    for (const m of this.members.values()) {
      m.suspicion?.cancel()
      m.suspicion = undefined
    }
  }

  private add(m: Member): void {
    this.members.set(m.nodeId, m)
    this.index.set(m.nodeId, this.ids.length)
    this.ids.push(m.nodeId)
    if (m.state <= MemberState.Suspect) this.live++
  }

  private remove(id: string): void {
    const m = this.members.get(id)
    if (m === undefined) return
    if (m.state <= MemberState.Suspect) this.live--
    this.members.delete(id)
    const i = this.index.get(id)!
    const last = this.ids.pop()!
    if (last !== id) {
      this.ids[i] = last
      this.index.set(last, i)
    }
    this.index.delete(id)
  }

  private setState(m: Member, state: MemberState): void {
    if (m.state === state) return
    const wasLive = m.state <= MemberState.Suspect
    const isLive = state <= MemberState.Suspect
    if (wasLive !== isLive) this.live += isLive ? 1 : -1
    m.state = state
    m.stateChangeMs = this.c.clock.now()
  }

  private refute(accusedIncarnation: number): void {
    // Clamped: an alive claim about us at 2^53 - 1 (forged) cannot make our own broadcast unencodable.
    this.self.incarnation = Math.min(Number.MAX_SAFE_INTEGER, Math.max(this.self.incarnation, accusedIncarnation) + 1)
    this.c.awareness.applyDelta(1)
    this.broadcastSelf()
  }

  private startSuspicion(m: Member, fromId: string): void {
    const n = this.numLive()
    const { minMs, maxMs } = suspicionTimeoutBounds(this.config.suspicionMult, this.config.suspicionMaxTimeoutMult, n, this.config.probeIntervalMs)
    // Expect suspicionMult − 2 independent confirmations, unless the cluster
    // is too small to provide them (then the timeout is simply the minimum).
    let k = this.config.suspicionMult - 2
    if (n - 2 < k) k = 0
    const incarnation = m.incarnation
    m.suspicion = new Suspicion({ clock: this.c.clock }, {
      fromId,
      k,
      minMs,
      maxMs,
      onTimeout: () => {
        if (m.state !== MemberState.Suspect || m.incarnation !== incarnation) return
        this.c.logger.info(`membership: ${m.nodeId} at ${m.addr} declared dead after suspicion timeout`)
        const dead: DeadMsg = { type: MsgType.Dead, incarnation, nodeId: m.nodeId, fromId: this.self.nodeId }
        this.handleDead(dead)
        this.c.onDeclaredDead?.(encodeMessage(dead))
      }
    })
  }

  private broadcast(msg: AliveMsg | SuspectMsg | DeadMsg): void {
    const q = this.c.queue
    q.enqueue({ subject: msg.nodeId, bytes: encodeMessage(msg) })
    if (q.size() > this.config.maxQueuedBroadcasts) q.prune(this.config.maxQueuedBroadcasts)
  }
}
