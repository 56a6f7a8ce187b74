/**
 * The member table and SWIM's state rules (alive / suspect / dead / left with
 * incarnation numbers). Everything that changes a member's state goes through
 * here, whether it came from a datagram, a push-pull exchange (read in
 * `push-pull.ts`) or our own probe.
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
 *
 * The storage (typed-array columns, live count, random sampling) is
 * `member-roster.ts`; the record it hands out (a snapshot) is `member.ts`.
 * Pending suspicions are kept here, by node id, beside the roster.
 */
import { encodeMessage } from '../wire/codec.js'
import { MemberState, MsgType, type AliveMsg, type DeadMsg, type SuspectMsg } from '../wire/messages.js'
import type { MembershipConfig } from '../options.js'
import { NO_TAGS, hasTags, sameTags, type Tags } from '../wire/tags.js'
import { memberInfo, type Member, type MemberEvent, type MemberInfo } from './member.js'
import { MemberRoster } from './member-roster.js'
import { ReapedAddresses } from './reaped-addresses.js'
import { Suspicion, suspicionTimeoutBounds } from './suspicion.js'

export { memberInfo, type Member, type MemberEvent, type MemberInfo } from './member.js'
export { DEFAULT_MAX_MEMBERS, MAX_ACCUSED_INCARNATION, type BootstrapMember, type MemberTableComponents, type MemberTableLimits } from './member-table-types.js'
import { DEFAULT_MAX_MEMBERS, MAX_ACCUSED_INCARNATION, type BootstrapMember, type MemberTableComponents, type MemberTableLimits } from './member-table-types.js'

/** The member table: every member's state, changed only by the SWIM rules above. */
export class MemberTable {
  /** Every member, ourselves included; the live count includes us while we are up. */
  private readonly roster: MemberRoster
  /** Pending suspicion timers, by node id, while that member is Suspect. */
  private readonly suspicions = new Map<string, Suspicion>()
  /** True once a graceful leave started: accusations are no longer refuted. */
  leaving = false
  /** Addresses of members reaped while dead: push-pull keeps trying them (reaped-addresses.ts). */
  private readonly reaped = new ReapedAddresses()

  constructor(
    private readonly c: MemberTableComponents,
    private readonly config: MembershipConfig & MemberTableLimits
  ) {
    this.roster = new MemberRoster(c.clock)
    this.roster.add({
      nodeId: config.nodeId,
      addr: config.advertiseAddr,
      incarnation: Math.floor(c.clock.now() / 1000),
      state: MemberState.Alive,
      stateChangeMs: c.clock.now(),
      tags: config.tags ?? NO_TAGS
    })
  }

  /** Our own record, as of now (a snapshot: read it again after a change). */
  get self(): Member {
    return this.roster.get(this.config.nodeId)!
  }

  /** Our node id (cheaper than `self.nodeId`). */
  get selfId(): string {
    return this.config.nodeId
  }

  get(nodeId: string): Member | undefined {
    return this.roster.get(nodeId)
  }

  /** Whether a member at `addr` is in the table (any state). O(members): for periodic use only. */
  hasAddress(addr: string): boolean {
    return this.roster.hasAddress(addr)
  }

  /** Every member, ourselves included. */
  all(): IterableIterator<Member> {
    return this.roster.all()
  }

  /** Node ids of the members believed up (alive or suspect), ourselves excluded; builds no records. */
  liveIds(): string[] {
    const selfId = this.selfId
    return this.roster.nodeIdsWhere((state) => state <= MemberState.Suspect).filter((id) => id !== selfId)
  }

  /** Members in the table (any state, ourselves included). */
  size(): number {
    return this.roster.size()
  }

  /** Members believed up (alive or suspect), ourselves included: SWIM's N. */
  numLive(): number {
    return this.roster.numLive()
  }

  /**
   * Up to `count` distinct random members (never ourselves) accepted by
   * `filter`; O(count) on large tables (see {@link MemberRoster.sample}).
   */
  sample(count: number, random: () => number, filter: (m: Member) => boolean): Member[] {
    const selfId = this.config.nodeId
    return this.roster.sample(count, random, (m) => m.nodeId !== selfId && filter(m))
  }

  /** Announces ourselves (at start, and after a refute). */
  broadcastSelf(): void {
    const s = this.self
    this.broadcast({ type: MsgType.Alive, incarnation: s.incarnation, nodeId: s.nodeId, addr: s.addr, ...(hasTags(s.tags) ? { tags: s.tags } : {}) })
  }

  /** Replaces our tags: a new incarnation, announced like a refute (bounds checked by the caller). */
  setSelfTags(tags: Tags): void {
    this.roster.update(this.selfId, { tags, incarnation: Math.min(Number.MAX_SAFE_INTEGER, this.self.incarnation + 1) })
    this.broadcastSelf()
  }

  handleAlive(msg: AliveMsg): void {
    if (msg.nodeId === this.selfId) {
      const self = this.self
      if (msg.incarnation < self.incarnation) return
      if (msg.incarnation === self.incarnation && msg.addr === self.addr) return
      this.refute(msg.incarnation)
      return
    }
    const m = this.roster.get(msg.nodeId)
    if (m === undefined) return this.addJoined(msg)
    const gone = m.state >= MemberState.Dead
    if (msg.addr !== m.addr && !gone) {
      // Two live nodes with one id (a restart at another address is only
      // accepted once the old one is dead): counted, so it is not silent.
      this.c.onDrop?.('node-id-conflict')
      this.c.logger.warn(`membership: conflicting address for ${msg.nodeId}: ${m.addr} vs ${msg.addr}; keeping ${m.addr}`)
      return
    }
    if (msg.incarnation <= m.incarnation && !(gone && msg.addr !== m.addr)) return
    const tags = msg.tags ?? NO_TAGS
    const changed = m.state !== MemberState.Alive || m.addr !== msg.addr || !sameTags(m.tags, tags)
    this.endSuspicion(m.nodeId)
    this.roster.update(m.nodeId, { incarnation: msg.incarnation, addr: msg.addr, tags })
    this.roster.setState(m.nodeId, MemberState.Alive)
    this.broadcast(msg)
    if (gone) this.c.emit('join', this.infoOf(m.nodeId))
    else if (changed) this.c.emit('update', this.infoOf(m.nodeId))
  }

  /** An alive message about a member we do not know: a join, unless the table is full. */
  private addJoined(msg: AliveMsg): void {
    if (this.roster.size() >= (this.config.maxMembers ?? DEFAULT_MAX_MEMBERS)) {
      this.c.onDrop?.('max-members')
      return
    }
    const now = this.c.clock.now()
    const fresh: Member = { nodeId: msg.nodeId, addr: msg.addr, incarnation: msg.incarnation, state: MemberState.Alive, stateChangeMs: now, tags: msg.tags ?? NO_TAGS }
    this.roster.add(fresh)
    this.broadcast(msg)
    this.c.emit('join', memberInfo(fresh))
  }

  /**
   * **Bootstrap only** — for a simulator that builds a formed cluster
   * without running N joins (`tools/simulate-cluster.ts`); production nodes
   * never call it. Adds each member not held yet as alive, as a join would,
   * but without the rest of a join: no re-broadcast is queued and no `join`
   * event is emitted, so a cluster seeded this way starts quiet instead of
   * draining N² broadcasts. Known members and ourselves are skipped;
   * `maxMembers` still applies. Returns how many were added.
   */
  preseedForBootstrap(members: readonly BootstrapMember[]): number {
    this.roster.reserve(this.roster.size() + members.length)
    const max = this.config.maxMembers ?? DEFAULT_MAX_MEMBERS
    const now = this.c.clock.now()
    let added = 0
    for (const p of members) {
      if (this.roster.size() >= max) break
      if (this.roster.has(p.nodeId)) continue
      this.roster.add({ nodeId: p.nodeId, addr: p.addr, incarnation: p.incarnation, state: MemberState.Alive, stateChangeMs: now, tags: p.tags ?? NO_TAGS })
      added++
    }
    return added
  }

  handleSuspect(msg: SuspectMsg): void {
    if (msg.incarnation > MAX_ACCUSED_INCARNATION) return this.c.onDrop?.('incarnation-range')
    const m = this.roster.get(msg.nodeId)
    if (m === undefined || msg.incarnation < m.incarnation) return
    if (m.nodeId === this.selfId) {
      if (this.leaving) return
      this.refute(msg.incarnation)
      return this.c.onRefuted?.()
    }
    const pending = this.suspicions.get(m.nodeId)
    if (m.state === MemberState.Suspect && pending !== undefined) {
      // Same or newer incarnation, already suspected: maybe a confirmation.
      if (pending.confirm(msg.fromId)) this.broadcast(msg)
      return
    }
    if (m.state !== MemberState.Alive) return
    this.roster.update(m.nodeId, { incarnation: msg.incarnation })
    this.roster.setState(m.nodeId, MemberState.Suspect)
    this.startSuspicion(m.nodeId, msg.incarnation, msg.fromId)
    this.broadcast(msg)
    const now = this.roster.get(m.nodeId)!
    this.c.emit('update', memberInfo(now))
    if (msg.fromId !== this.selfId) this.c.onPeerSuspects?.(now)
  }

  handleDead(msg: DeadMsg): void {
    if (msg.incarnation > MAX_ACCUSED_INCARNATION) return this.c.onDrop?.('incarnation-range')
    const m = this.roster.get(msg.nodeId)
    if (m === undefined || msg.incarnation < m.incarnation || m.state >= MemberState.Dead) return
    if (m.nodeId === this.selfId) {
      if (this.leaving) return
      this.refute(msg.incarnation)
      return this.c.onRefuted?.()
    }
    this.endSuspicion(m.nodeId)
    const state = msg.fromId === msg.nodeId ? MemberState.Left : MemberState.Dead
    this.roster.update(m.nodeId, { incarnation: msg.incarnation })
    this.roster.setState(m.nodeId, state)
    this.broadcast(msg)
    this.c.emit(state === MemberState.Left ? 'leave' : 'fail', this.infoOf(m.nodeId))
  }

  /** We suspect `m` (our own probe failed). */
  suspectFromProbe(m: Member): void {
    this.handleSuspect({ type: MsgType.Suspect, incarnation: m.incarnation, nodeId: m.nodeId, fromId: this.selfId })
  }

  /** Starts a graceful leave: marks ourselves left and returns the message to spread. */
  leave(): DeadMsg {
    this.leaving = true
    this.roster.setState(this.selfId, MemberState.Left)
    const self = this.self
    return { type: MsgType.Dead, incarnation: self.incarnation, nodeId: self.nodeId, fromId: self.nodeId }
  }

  /** Removes dead and left members whose state changed more than `reapDeadAfterMs` ago. */
  reap(): number {
    const cutoff = this.c.clock.now() - this.config.reapDeadAfterMs
    const selfId = this.selfId
    const gone = this.roster.removeWhere((m) => m.nodeId !== selfId && m.state >= MemberState.Dead && m.stateChangeMs <= cutoff)
    // Oldest position last in `gone` (removeWhere runs backwards): remember in table order.
    for (let i = gone.length - 1; i >= 0; i--) if (gone[i]!.state === MemberState.Dead) this.reaped.remember(gone[i]!.addr)
    return gone.length
  }

  /** Addresses of members reaped while dead, oldest first. */
  reapedAddresses(): readonly string[] {
    return this.reaped.list()
  }

  /** Cancels every suspicion timer (on shutdown). */
  stop(): void {
    for (const s of this.suspicions.values()) s.cancel()
    this.suspicions.clear()
  }

  private refute(accusedIncarnation: number): void {
    // Clamped: an alive claim about us at 2^53 - 1 (forged) cannot make our own broadcast unencodable.
    const incarnation = Math.min(Number.MAX_SAFE_INTEGER, Math.max(this.self.incarnation, accusedIncarnation) + 1)
    this.roster.update(this.selfId, { incarnation })
    this.c.awareness.applyDelta(1)
    this.broadcastSelf()
  }

  private startSuspicion(nodeId: string, incarnation: number, fromId: string): void {
    const n = this.numLive()
    const { minMs, maxMs } = suspicionTimeoutBounds(this.config.suspicionMult, this.config.suspicionMaxTimeoutMult, n, this.config.probeIntervalMs)
    // Expect suspicionMult − 2 independent confirmations, unless the cluster
    // is too small to provide them (then the timeout is simply the minimum).
    let k = this.config.suspicionMult - 2
    if (n - 2 < k) k = 0
    this.suspicions.set(nodeId, new Suspicion({ clock: this.c.clock }, {
      fromId,
      k,
      minMs,
      maxMs,
      onTimeout: () => {
        const m = this.roster.get(nodeId)
        if (m === undefined || m.state !== MemberState.Suspect || m.incarnation !== incarnation) return
        this.c.logger.info(`membership: ${m.nodeId} at ${m.addr} declared dead after suspicion timeout`)
        const dead: DeadMsg = { type: MsgType.Dead, incarnation, nodeId: m.nodeId, fromId: this.selfId }
        this.handleDead(dead)
        this.c.onDeclaredDead?.(encodeMessage(dead))
      }
    }))
  }

  /** Cancels and forgets the pending suspicion of `nodeId`, if any. */
  private endSuspicion(nodeId: string): void {
    this.suspicions.get(nodeId)?.cancel()
    this.suspicions.delete(nodeId)
  }

  /** The public view of `nodeId`'s record as of now. */
  private infoOf(nodeId: string): MemberInfo {
    return memberInfo(this.roster.get(nodeId)!)
  }

  private broadcast(msg: AliveMsg | SuspectMsg | DeadMsg): void {
    const q = this.c.queue
    q.enqueue({ subject: msg.nodeId, bytes: encodeMessage(msg) })
    if (q.size() > this.config.maxQueuedBroadcasts) q.prune(this.config.maxQueuedBroadcasts)
  }
}
