/**
 * A member's record, as the member table keeps it, and its public snapshot.
 */
import { MemberState } from '../wire/messages.js'
import type { Tags } from '../wire/tags.js'
import type { Suspicion } from './suspicion.js'

/** A snapshot of one member, as `members()` reports it. */
export interface MemberInfo {
  nodeId: string
  address: string
  state: 'alive' | 'suspect' | 'dead' | 'left'
  incarnation: number
  /** The member's tags (the `tags` option of that node); `{}` when it has none. */
  tags: Tags
}

/** The membership events, in the names `Membership` emits them under. */
export type MemberEvent = 'join' | 'update' | 'leave' | 'fail'

/** A member's record. Mutable; owned by the table. */
export interface Member {
  nodeId: string
  addr: string
  incarnation: number
  state: MemberState
  /** Clock time of the last state change (for reaping and gossip-to-the-dead). */
  stateChangeMs: number
  /** Its tags, as its latest accepted alive message said (replaced with its incarnation). */
  tags: Tags
  /** Pending suspicion while state is Suspect. */
  suspicion?: Suspicion | undefined
}

const stateNames = ['alive', 'suspect', 'dead', 'left'] as const

/** The public view of a member. */
export function memberInfo(m: Member): MemberInfo {
  return { nodeId: m.nodeId, address: m.addr, state: stateNames[m.state], incarnation: m.incarnation, tags: m.tags }
}
