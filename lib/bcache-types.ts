import type { PartitionStats } from './replication/partition.js'
/**
 * The public types of the facade: per-call options, the filler, stats and
 * events (bcache.ts re-exports them).
 */
import type { KeyEvent } from './bcache-events.js'
import type { FillContext, FillerStats } from './fill/filler.js'
import type { MemberInfo } from './membership/member-table.js'
import type { MembershipStats } from './membership/membership.js'
import type { TransportStats } from './transport/transport.js'
import type { ReplicationStats } from './replication/replicator.js'

export interface SetOptions {
  /**
   * Time to live in ms: the write carries the absolute expiry `now + ttl`,
   * and each node expires it when its own clock reaches that (README: TTL
   * under clock skew). 0 = no expiry; absent = the `ttl` option of `create`
   * (itself 0 by default).
   */
  ttl?: number
}

/** Options of `setAcked`: those of `set`, and how many nodes must hold the write. */
export interface AckedSetOptions extends SetOptions {
  /**
   * How many nodes, **this one included**, must hold the write before the
   * promise resolves: `'all'` the live members (alive or suspect) at the
   * call, `'majority'` ⌊live/2⌋ + 1 of them, or a number (`1`: this node
   * only, resolves at once). A number above the live members rejects at
   * once with `AckError` (`'too-few-members'`); the write stays applied.
   * @default 'majority'
   */
  acks?: 'all' | 'majority' | number
  /**
   * How long to wait for the acks, in ms; then `AckError` (`'timeout'`).
   * The write stays applied locally and keeps replicating.
   * @default 5000
   */
  timeoutMs?: number
}

export interface FillCallOptions extends SetOptions {
  /** Whole fill timeout in ms (waits for a lease or another node's fill included). */
  timeoutMs?: number
  /** Aborts this caller's wait; the fill goes on for the other callers. */
  signal?: AbortSignal
  /**
   * Stale-while-revalidate (lru-cache's `allowStale`): on a miss, when this
   * node still keeps the key's value that expired (see
   * `lib/store/stale-values.ts`: the last 1,000 expired keys, 8 MiB at
   * most), return it at once and refill the key in the background (one
   * shared fill, as always; its error is dropped). Every such call until
   * the refill lands gets the stale value. A delete or a new write of the
   * key forgets the stale value.
   * @default false
   */
  allowStale?: boolean
  /**
   * Serve-stale-on-error (lru-cache's `allowStaleOnFetchRejection`): wait for
   * the fill, but if it fails (the filler's error, a `FillError` or a
   * `FillTimeoutError`) and this node keeps an expired value of the key,
   * return that instead of the error. This caller's own abort and
   * `ClosedError` still reject.
   * @default false
   */
  allowStaleOnFetchRejection?: boolean
}

/**
 * Loads the value of a missing key. `ctx.signal` aborts when no caller waits
 * any more; `ctx.setTtl(ms)` sets the TTL the value is stored with.
 */
export type FillerFn<V> = (key: string, ctx: FillContext) => Promise<V> | V

export interface BcacheStats {
  nodeId: string
  keys: number
  bytes: number
  /** Deletes remembered (for deletionDelay) so a late older write cannot resurrect the key. */
  tombstones: number
  /** Expired writes remembered (for deletionDelay) for the same reason; local, never gossiped. */
  expiryMarkers: number
  hits: number
  misses: number
  /** `getWithFiller` calls answered with an expired value (`allowStale`, `allowStaleOnFetchRejection`). */
  staleHits: number
  sets: number
  deletes: number
  evictions: number
  expirations: number
  fills: FillerStats
  replication: ReplicationStats
  membership: MembershipStats
  /**
   * Everything the node's transport sent and received: datagrams and their
   * bytes, stream bytes (push streams, anti-entropy, push-pull, fills)
   * with their frame prefixes. `dropped` is merged into {@link dropped}.
   */
  transport: Omit<TransportStats, 'dropped'>
  /** Datagrams and frames dropped by reason (membership, transport and replication together). */
  dropped: Record<string, number>
  /** Partition mode only: ownership, near cache, reads from owners and segment rounds (README "Partition mode"). */
  partition?: PartitionStats
}

export interface BcacheEvents {
  join: [MemberInfo]
  update: [MemberInfo]
  leave: [MemberInfo]
  fail: [MemberInfo]
  /** Replication toward every peer caught up after a `set` returned false (see `set`). */
  drain: []
  /** A write applied: this node's `set` (`origin: 'local'`) or a peer's (`'remote'`). */
  set: [KeyEvent]
  /** A delete applied: this node's `delete`, or a peer's that reached this node's store. */
  delete: [KeyEvent]
  /** A live entry evicted to respect `maxKeys`/`maxBytes` (always `'local'`). */
  evict: [KeyEvent]
  /** A live entry expired (on read, purge, or a newer write arriving already expired; always `'local'`). */
  expire: [KeyEvent]
}
