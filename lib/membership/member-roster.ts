/**
 * The member table's storage: one record per member, in typed arrays, plus
 * what makes the frequent questions cheap.
 *
 * **Layout.** Every node holds every member, so a process that runs N nodes
 * (the simulator) holds N² records; at 10,000 nodes that is 10^8. A record
 * is therefore columns, not an object: the node id and the address as
 * numbers from the process's {@link InternedStrings} tables (4 bytes each),
 * the state (1 byte), the incarnation and the state-change time (8 bytes
 * each), and the record's position indexed by the id's number (4 bytes):
 * 29 bytes, plus the arrays' spare capacity. Tags, which most members do not
 * have, sit in a map beside it. A {@link Member} object is built only when
 * someone asks for one (`get`, `sample`, `all`) and is a snapshot.
 *
 * - **How many are up?** `live` counts members in state Alive or Suspect. It
 *   is kept in step by {@link MemberRoster.setState}, the one place a
 *   member's state changes, and by add/remove: O(1) instead of a scan.
 * - **Give me k random members.** Records sit at dense positions 0..size-1.
 *   Removing moves the last record into the hole, so both stay O(1).
 *   Sampling a large table draws random positions (with a bounded number of
 *   misses) instead of scanning; a small table (under `4k + 8`) is shuffled
 *   and scanned, which is exact.
 *
 * The strings a roster holds are released when it removes a member, or all
 * at once when the roster itself is garbage collected.
 *
 * The SWIM rules on top of it are in `member-table.ts`.
 */
import type { Clock } from '../clock.js'
import { MemberState } from '../wire/messages.js'
import { NO_TAGS, type Tags } from '../wire/tags.js'
import { processAddresses, processNodeIds, type InternedStrings } from './interned-strings.js'
import type { Member } from './member.js'

/** The string numbers a roster holds, kept apart from it so they can be released after it is collected. */
interface Held {
  nodeIds: InternedStrings
  addresses: InternedStrings
  ids: Int32Array
  addrs: Int32Array
  size: number
}

const releaseOnCollect = new FinalizationRegistry<Held>((h) => {
  for (let s = 0; s < h.size; s++) {
    h.nodeIds.release(h.ids[s]!)
    h.addresses.release(h.addrs[s]!)
  }
})

/** The fields of a record that change without a state change. */
export interface MemberUpdate {
  incarnation?: number
  addr?: string
  tags?: Tags
}

/** Members by node id, in columns, with a live count and O(count) random sampling. */
export class MemberRoster {
  private readonly held: Held
  private states = new Uint8Array(0)
  private incarnations = new Float64Array(0)
  private changedMs = new Float64Array(0)
  /** Position + 1 of the record whose node id has this number; 0 when none. */
  private slotOf = new Int32Array(0)
  /** Non-empty tags by node id number. */
  private readonly tagsOf = new Map<number, Tags>()
  /** Members in state Alive or Suspect (kept in step by `setState`). */
  private live = 0

  constructor(
    private readonly clock: Clock,
    private readonly nodeIds: InternedStrings = processNodeIds,
    private readonly addresses: InternedStrings = processAddresses
  ) {
    this.held = { nodeIds, addresses, ids: new Int32Array(0), addrs: new Int32Array(0), size: 0 }
    releaseOnCollect.register(this, this.held)
    this.reserve(8)
  }

  get(nodeId: string): Member | undefined {
    const s = this.slot(nodeId)
    return s < 0 ? undefined : this.at(s)
  }

  has(nodeId: string): boolean {
    return this.slot(nodeId) >= 0
  }

  /** Every member (snapshots). Do not add or remove while iterating; see {@link removeWhere}. */
  *all(): IterableIterator<Member> {
    for (let s = 0; s < this.held.size; s++) yield this.at(s)
  }

  /** Node ids of the members whose state `accept` takes, without building a record for each. */
  nodeIdsWhere(accept: (state: MemberState) => boolean): string[] {
    const out: string[] = []
    const { ids, size } = this.held
    for (let s = 0; s < size; s++) if (accept(this.states[s]! as MemberState)) out.push(this.nodeIds.value(ids[s]!))
    return out
  }

  /** Members held, in any state. */
  size(): number {
    return this.held.size
  }

  /** Members in state Alive or Suspect. */
  numLive(): number {
    return this.live
  }

  /** Whether a member at `addr` is held (any state). A scan of 4-byte numbers. */
  hasAddress(addr: string): boolean {
    const a = this.addresses.find(addr)
    if (a === undefined) return false
    const { addrs, size } = this.held
    for (let s = 0; s < size; s++) if (addrs[s] === a) return true
    return false
  }

  /**
   * Up to `count` distinct random members accepted by `filter`. Samples
   * random positions rather than scanning, so it costs O(count) on large
   * tables; gives up after a bounded number of misses.
   */
  sample(count: number, random: () => number, filter: (m: Member) => boolean): Member[] {
    const n = this.held.size
    if (count <= 0 || n <= 1) return []
    if (n <= 4 * count + 8) return this.sampleByShuffle(count, random, filter)
    const out: Member[] = []
    const seen = new Set<number>()
    for (let tries = 0; tries < 8 * count + 16 && out.length < count; tries++) {
      const s = Math.floor(random() * n)
      if (seen.has(s)) continue
      seen.add(s)
      const m = this.at(s)
      if (filter(m)) out.push(m)
    }
    return out
  }

  /** Adds a member not held yet (the caller checks). */
  add(m: Member): void {
    const h = this.held
    if (h.size === h.ids.length) this.reserve(h.size * 2)
    const id = this.nodeIds.acquire(m.nodeId)
    if (id >= this.slotOf.length) this.growSlotOf(id + 1)
    const s = h.size++
    h.ids[s] = id
    h.addrs[s] = this.addresses.acquire(m.addr)
    this.states[s] = m.state
    this.incarnations[s] = m.incarnation
    this.changedMs[s] = m.stateChangeMs
    this.slotOf[id] = s + 1
    this.setTags(id, m.tags)
    if (m.state <= MemberState.Suspect) this.live++
  }

  remove(nodeId: string): void {
    const s = this.slot(nodeId)
    if (s >= 0) this.removeAt(s)
  }

  /** Removes every member `pred` accepts; returns them. Safe where iterating `all()` while removing is not. */
  removeWhere(pred: (m: Member) => boolean): Member[] {
    const out: Member[] = []
    // Backwards: removing position s moves the last record, already seen, into it.
    for (let s = this.held.size - 1; s >= 0; s--) {
      const m = this.at(s)
      if (pred(m)) {
        this.removeAt(s)
        out.push(m)
      }
    }
    return out
  }

  /** Changes a member's state (and its `stateChangeMs`), keeping the live count in step. */
  setState(nodeId: string, state: MemberState): void {
    const s = this.slot(nodeId)
    if (s < 0 || this.states[s] === state) return
    const wasLive = this.states[s]! <= MemberState.Suspect
    const isLive = state <= MemberState.Suspect
    if (wasLive !== isLive) this.live += isLive ? 1 : -1
    this.states[s] = state
    this.changedMs[s] = this.clock.now()
  }

  /** Changes a member's incarnation, address or tags (not its state: {@link setState}). */
  update(nodeId: string, u: MemberUpdate): void {
    const s = this.slot(nodeId)
    if (s < 0) return
    const h = this.held
    if (u.incarnation !== undefined) this.incarnations[s] = u.incarnation
    if (u.tags !== undefined) this.setTags(h.ids[s]!, u.tags)
    if (u.addr !== undefined && u.addr !== this.addresses.value(h.addrs[s]!)) {
      const old = h.addrs[s]!
      h.addrs[s] = this.addresses.acquire(u.addr)
      this.addresses.release(old)
    }
  }

  /** Makes room for `n` records without growing again (bootstrap of a known size). */
  reserve(n: number): void {
    const h = this.held
    if (n <= h.ids.length) return
    h.ids = grown(h.ids, n, Int32Array)
    h.addrs = grown(h.addrs, n, Int32Array)
    this.states = grown(this.states, n, Uint8Array)
    this.incarnations = grown(this.incarnations, n, Float64Array)
    this.changedMs = grown(this.changedMs, n, Float64Array)
  }

  /** The record at position `s`, materialized. */
  private at(s: number): Member {
    const h = this.held
    const id = h.ids[s]!
    return {
      nodeId: this.nodeIds.value(id),
      addr: this.addresses.value(h.addrs[s]!),
      incarnation: this.incarnations[s]!,
      state: this.states[s]! as MemberState,
      stateChangeMs: this.changedMs[s]!,
      tags: this.tagsOf.get(id) ?? NO_TAGS
    }
  }

  /** Position of `nodeId`'s record, or -1. */
  private slot(nodeId: string): number {
    const id = this.nodeIds.find(nodeId)
    if (id === undefined || id >= this.slotOf.length) return -1
    return this.slotOf[id]! - 1
  }

  private removeAt(s: number): void {
    const h = this.held
    const id = h.ids[s]!
    if (this.states[s]! <= MemberState.Suspect) this.live--
    this.slotOf[id] = 0
    this.tagsOf.delete(id)
    this.addresses.release(h.addrs[s]!)
    const last = --h.size
    if (s !== last) {
      h.ids[s] = h.ids[last]!
      h.addrs[s] = h.addrs[last]!
      this.states[s] = this.states[last]!
      this.incarnations[s] = this.incarnations[last]!
      this.changedMs[s] = this.changedMs[last]!
      this.slotOf[h.ids[s]!] = s + 1
    }
    this.nodeIds.release(id)
  }

  private setTags(id: number, tags: Tags): void {
    if (Object.keys(tags).length > 0) this.tagsOf.set(id, tags)
    else this.tagsOf.delete(id)
  }

  private growSlotOf(min: number): void {
    // At least every number handed out so far (a bootstrap grows once), else by half: amortized O(1).
    this.slotOf = grown(this.slotOf, Math.max(min, this.nodeIds.bound(), Math.floor(this.slotOf.length * 1.5)), Int32Array)
  }

  /** Small table: scan a shuffled copy, exact. */
  private sampleByShuffle(count: number, random: () => number, filter: (m: Member) => boolean): Member[] {
    const out: Member[] = []
    const n = this.held.size
    const order = new Int32Array(n)
    for (let i = 0; i < n; i++) order[i] = i
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      const t = order[i]!; order[i] = order[j]!; order[j] = t
    }
    for (let i = 0; i < n && out.length < count; i++) {
      const m = this.at(order[i]!)
      if (filter(m)) out.push(m)
    }
    return out
  }
}

type TypedArray = Int32Array | Uint8Array | Float64Array

/** A copy of `a` with room for `n` elements. */
function grown<T extends TypedArray>(a: T, n: number, Ctor: new (n: number) => T): T {
  const next = new Ctor(n)
  next.set(a as never)
  return next
}
