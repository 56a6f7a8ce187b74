/**
 * What the member table (member-table.ts) is built from and bounded by: its
 * components, its limits, the shape of a bootstrap member, and the limits'
 * constants.
 */
import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import type { TransmitQueue } from '../gossip/transmit-queue.js'
import type { Tags } from '../wire/tags.js'
import type { Awareness } from './awareness.js'
import type { Member, MemberEvent, MemberInfo } from './member.js'

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
  /** A peer suspected us or declared us dead, and we refuted it: peers may have skipped us meanwhile. */
  onRefuted?: () => void
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
  /** This node's tags, announced in its alive messages (bounds: wire/tags.ts). @default none */
  tags?: Tags
}

/** A member as {@link MemberTable.preseedForBootstrap} takes it: what its alive message would say. */
export interface BootstrapMember {
  nodeId: string
  addr: string
  incarnation: number
  tags?: Tags
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

