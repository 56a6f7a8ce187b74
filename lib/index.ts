/**
 * bcache: the public entry. Tools, benchmarks and users import only this.
 */
export { Membership, type MembershipComponents, type MembershipEvents, type MembershipStats } from './membership/membership.js'
export { startMembership, defaultNodeId, type StartMembershipOptions } from './membership/start.js'
export type { MemberInfo, MemberEvent } from './membership/member-table.js'
export type { MembershipDelegate } from './membership/delegate.js'
export { profiles, resolveTuning, type MembershipTuning, type MembershipConfig, type ProfileName } from './options.js'
export { systemClock, ManualClock, type Clock, type Timer } from './clock.js'
export { seededRandom, type Random } from './random.js'
export { silentLogger, type Logger } from './logger.js'
export { BcacheError, ClosedError, TimeoutError, JoinError, StreamError, BindError } from './errors.js'
export type { Transport, StreamConn, TransportStats } from './transport/transport.js'
export { UdpTcpTransport } from './transport/udp-tcp-transport.js'
export { MemoryNetwork, MemoryTransport } from './transport/memory-network.js'
export { Bcache, type BcacheComponents, type BcacheStats, type BcacheEvents, type SetOptions, type FillCallOptions, type FillerFn } from './bcache.js'
export type { BcacheOptions } from './bcache-options.js'
export { FillTimeoutError, FillAbortedError } from './errors.js'
export type { Tuning, ReplicationTuning } from './options.js'
