/**
 * The seams of the fill machinery: how a {@link Filler} reaches the lease
 * owners (`FillPeers`, implemented by the replication layer) and the local
 * store (`FillLocal`, implemented by the layer that owns the store). The
 * filler never imports either layer.
 *
 * @module
 */

/**
 * An owner's answer to a lease request. `expiresAt` is in the owner's clock
 * (epoch ms); requesters only use it to bound a wait, clamped to sane limits,
 * so modest clock skew delays a retry but never breaks anything.
 */
export type LeaseReply =
  | { granted: true; expiresAt: number }
  | { granted: false; holder: string; expiresAt: number }

/**
 * The network as the filler sees it. The replication layer implements it;
 * tests use an in-memory fake.
 *
 * On the wire a request is `(key, leaseMs)` from the requester to `ownerId`,
 * answered by whatever the owner's `Filler.handleLeaseRequest` returns; a
 * release is `(key)`, one way, no answer.
 */
export interface FillPeers {
  /** This node's id, as it appears in {@link FillPeers.aliveMembers}. */
  readonly selfId: string
  /**
   * Ids of the members currently believed alive, this node included (it is
   * added if missing). Called on every lease attempt, so it should be cheap.
   */
  aliveMembers(): readonly string[]
  /**
   * Asks `ownerId` for the fill lease on `key` for `leaseMs`. Resolves with the
   * owner's reply; rejects when the owner cannot be reached. The filler aborts
   * `signal` after its `leaseRequestTimeoutMs` (or when the fill ends) and
   * stops waiting then, whatever the implementation does; an implementation
   * should drop the pending request on abort.
   */
  requestLease(ownerId: string, key: string, leaseMs: number, signal: AbortSignal): Promise<LeaseReply>
  /**
   * Tells `ownerId` that this node's fill of `key` ended. Best effort, one way:
   * a lost release only delays other nodes until the lease expires. Must not
   * throw (a throw is caught and ignored).
   */
  releaseLease(ownerId: string, key: string): void
}

/** The local store as the filler sees it. */
export interface FillLocal<V> {
  /** The live value of `key`, or `undefined` on a miss. */
  get(key: string): V | undefined
  /** Writes a filled value locally; the layer above replicates it. */
  setValue(key: string, value: V, ttl?: number): void
  /**
   * Resolves with the value of `key` as soon as it is set locally (by a write
   * from this node or one that arrived by replication). Must reject, and drop
   * its waiter, when `signal` aborts: the filler aborts every wait it gives up.
   */
  waitForValue(key: string, signal: AbortSignal): Promise<V>
}
