/**
 * `bcache/membership`: the SWIM engine on its own (the cache rides on it),
 * with its options, member types, the delegate seam an application plugs in,
 * the broadcast queue a delegate can use to piggyback its own messages
 * (memberlist's `TransmitLimitedQueue`), and the UDP+TCP transport.
 */
export { Membership, type MembershipComponents, type MembershipEvents, type MembershipStats, type JoinOptions } from './membership/membership.js'
export { startMembership, defaultNodeId, type StartMembershipOptions } from './membership/start.js'
export type { MemberInfo, MemberEvent, BootstrapMember } from './membership/member-table.js'
export type { MembershipDelegate } from './membership/delegate.js'
export { suspicionTimeoutBounds } from './membership/suspicion.js'
export type { Cluster, Peer, StreamTagHandler } from './membership/cluster.js'
export { profiles, resolveTuning, type MembershipTuning, type MembershipConfig, type ProfileName } from './options.js'
export { TransmitQueue, retransmitLimit, type Broadcast } from './gossip/transmit-queue.js'
export { UdpTcpTransport } from './transport/udp-tcp-transport.js'
export type { Transport, StreamConn, TransportStats } from './transport/transport.js'
export { systemClock, type Clock, type Timer } from './clock.js'
export type { Random } from './random.js'
export { silentLogger, type Logger } from './logger.js'
