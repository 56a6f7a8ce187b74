/**
 * The member table's storage: members by node id, plus what makes the two
 * frequent questions cheap.
 *
 * - **How many are up?** `live` counts members in state Alive or Suspect. It
 *   is kept in step by {@link MemberRoster.setState}, the one place a
 *   member's state changes, and by add/remove: O(1) instead of a scan.
 * - **Give me k random members.** The ids are also kept in an array, with a
 *   map from id to position. Removing swaps the last id into the hole, so
 *   both stay O(1). Sampling a large table draws random positions (with a
 *   bounded number of misses) instead of scanning; a small table (under
 *   `4k + 8`) is shuffled and scanned, which is exact.
 *
 * The SWIM rules on top of it are in `member-table.ts`.
 */
import type { Clock } from '../clock.js'
import { MemberState } from '../wire/messages.js'
import type { Member } from './member.js'

/** Members by node id, with a live count and O(count) random sampling. */
export class MemberRoster {
  private readonly members = new Map<string, Member>()
  /** Member ids in an array for O(1) random sampling; `index` maps id → position. Same set as `members`. */
  private readonly ids: string[] = []
  private readonly index = new Map<string, number>()
  /** Members in state Alive or Suspect (kept in step by `setState`). */
  private live = 0

  constructor(private readonly clock: Clock) {}

  get(nodeId: string): Member | undefined {
    return this.members.get(nodeId)
  }

  has(nodeId: string): boolean {
    return this.members.has(nodeId)
  }

  /** Every member. */
  all(): IterableIterator<Member> {
    return this.members.values()
  }

  /** Members held, in any state. */
  size(): number {
    return this.members.size
  }

  /** Members in state Alive or Suspect. */
  numLive(): number {
    return this.live
  }

  /**
   * Up to `count` distinct random members accepted by `filter`. Samples
   * random positions rather than scanning, so it costs O(count) on large
   * tables; gives up after a bounded number of misses.
   */
  sample(count: number, random: () => number, filter: (m: Member) => boolean): Member[] {
    const n = this.ids.length
    if (count <= 0 || n <= 1) return []
    if (n <= 4 * count + 8) return this.sampleByShuffle(count, random, filter)
    const out: Member[] = []
    const seen = new Set<string>()
    for (let tries = 0; tries < 8 * count + 16 && out.length < count; tries++) {
      const id = this.ids[Math.floor(random() * n)]!
      if (seen.has(id)) continue
      seen.add(id)
      const m = this.members.get(id)!
      if (filter(m)) out.push(m)
    }
    return out
  }

  add(m: Member): void {
    this.members.set(m.nodeId, m)
    this.index.set(m.nodeId, this.ids.length)
    this.ids.push(m.nodeId)
    if (m.state <= MemberState.Suspect) this.live++
  }

  remove(id: string): void {
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

  /** Changes `m`'s state (and its `stateChangeMs`), keeping the live count in step. */
  setState(m: Member, state: MemberState): void {
    if (m.state === state) return
    const wasLive = m.state <= MemberState.Suspect
    const isLive = state <= MemberState.Suspect
    if (wasLive !== isLive) this.live += isLive ? 1 : -1
    m.state = state
    m.stateChangeMs = this.clock.now()
  }

  /** Small table: scan a shuffled copy, exact. */
  private sampleByShuffle(count: number, random: () => number, filter: (m: Member) => boolean): Member[] {
    const out: Member[] = []
    const copy = this.ids.slice()
    for (let i = copy.length - 1; i > 0 && out.length < count; i--) {
      const j = Math.floor(random() * (i + 1))
      const t = copy[i]!; copy[i] = copy[j]!; copy[j] = t
    }
    for (const id of copy) {
      if (out.length >= count) break
      const m = this.members.get(id)!
      if (filter(m)) out.push(m)
    }
    return out
  }
}
