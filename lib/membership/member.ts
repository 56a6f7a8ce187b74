/**
 * A member's record, as the member table hands it out, and its public snapshot.
 */
import { MemberState } from '../wire/messages.js'
import type { Tags } from '../wire/tags.js'

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

/**
 * A member's record as of the moment the table handed it out: a value, not
 * a live view. The roster (`member-roster.ts`) keeps records in typed
 * arrays and builds one of these on demand; changes go through the table's
 * rules (`member-table.ts`), never through this object. Read it again from
 * the table after anything may have changed it.
 */
export interface Member {
  readonly nodeId: string
  readonly addr: string
  readonly incarnation: number
  readonly state: MemberState
  /** Clock time of the last state change (for reaping and gossip-to-the-dead). */
  readonly stateChangeMs: number
  /** Its tags, as its latest accepted alive message said (replaced with its incarnation). */
  readonly tags: Tags
}

const stateNames = ['alive', 'suspect', 'dead', 'left'] as const

/** The public view of a member. */
export function memberInfo(m: Member): MemberInfo {
  return { nodeId: m.nodeId, address: m.addr, state: stateNames[m.state], incarnation: m.incarnation, tags: m.tags }
}
