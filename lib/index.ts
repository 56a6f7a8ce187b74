/**
 * bcache: the public entry, what a cache user needs. The SWIM engine on its
 * own is `bcache/membership` (lib/membership-entry.ts); the in-memory network,
 * fault injection, manual clock and seeded randomness for tests are
 * `bcache/testing` (lib/testing.ts). Everything else is internal.
 */
export { Bcache, type BcacheComponents, type BcacheStats, type BcacheEvents, type SetOptions, type AckedSetOptions, type FillCallOptions, type FillerFn, type KeyEvent, type KeyEventName, type KeyEventOrigin, type FillContext, type ClearOptions } from './bcache.js'
export type { BcacheOptions } from './bcache-options.js'
export type { FillerInit } from './fill/filler-options.js'
export type { Tuning, MembershipTuning, ReplicationTuning, ProfileName } from './options.js'
export type { MemberInfo } from './membership/member-table.js'
export type { MembershipStats } from './membership/membership.js'
export type { FillerStats } from './fill/filler-stats.js'
export type { ReplicationStats } from './replication/replication-stats.js'
export type { Keyring } from './transport/keyring.js'
export { silentLogger, type Logger } from './logger.js'
export {
  BcacheError, ClosedError, TimeoutError, JoinError, DuplicateNodeIdError, StreamError, BindError,
  FillTimeoutError, FillAbortedError, FillError, InvalidStateError, AckError, type AckFailure
} from './errors.js'
export { StreamRefusedError } from './transport/refusal.js'
export type { Resolver, PeersOption } from './membership/peer-source.js'
export { MAX_TAGS, MAX_TAGS_BYTES, type Tags } from './wire/tags.js'
export { ownersOf, segmentOf, SEGMENTS } from './replication/ownership.js'
export type { PartitionStats } from './replication/partition.js'
export type { ReplicationMode } from './mode-options.js'
