/**
 * The seams of the fill machinery: how a {@link Filler} reaches the lease
 * owners (`FillPeers`, implemented over the network by lease-client.ts) and the local
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
 * Longest failure message (in UTF-16 code units) a release or a failure
 * notice carries; longer ones are cut to this length by
 * {@link failureMessage} on the sending side and by the receiver.
 */
export const MAX_FAILURE_MESSAGE_CHARS = 1024

/** The message of a failed fill as it travels: `err.message` (or `String(err)`), at most {@link MAX_FAILURE_MESSAGE_CHARS}. */
export function failureMessage(err: unknown): string {
  let s: string
  try {
    s = err instanceof Error ? err.message : String(err)
  } catch {
    s = 'unprintable error'
  }
  if (s === '') s = err instanceof Error ? err.name : 'error'
  return cutFailureMessage(s)
}

/** `message` cut to {@link MAX_FAILURE_MESSAGE_CHARS}: what a receiver keeps of an untrusted one. */
export function cutFailureMessage(message: string): string {
  return message.length > MAX_FAILURE_MESSAGE_CHARS ? message.slice(0, MAX_FAILURE_MESSAGE_CHARS) : message
}

/**
 * The network as the filler sees it. The replication layer implements it;
 * tests use an in-memory fake.
 *
 * On the wire a request is `(key, leaseMs)` from the requester to `ownerId`,
 * answered by whatever the owner's `Filler.handleLeaseRequest` returns; a
 * release is `(key, error?)`, one way, no answer; a failure notice is
 * `(key, holderId, message)` from the owner to a requester it refused, one
 * way, delivered to that node's `Filler.handleLeaseFailure`.
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
   * Tells `ownerId` that this node's fill of `key` ended; `error` (a
   * {@link failureMessage}) when it failed, so the owner can tell the nodes it
   * refused. Best effort, one way: a lost release only delays other nodes
   * until the lease expires. Must not throw (a throw is caught and ignored).
   */
  releaseLease(ownerId: string, key: string, error?: string, leaseId?: number): void
  /**
   * Owner side: tells `requesterId`, refused while `holderId` held the lease
   * on `key`, that the holder's fill failed with `message`. Best effort, one
   * way, must not throw; without it (or when it is lost) the requester waits
   * for the lease to run out, as before.
   */
  notifyFailure?(requesterId: string, key: string, holderId: string, message: string): void
}

/** The local store as the filler sees it. */
export interface FillLocal<V> {
  /** The live value of `key`, or `undefined` on a miss. */
  get(key: string): V | undefined
  /**
   * Writes a filled value locally; the layer above replicates it (or, in
   * invalidation mode, keeps it locally if nothing newer was heard of since
   * the fill began). `begun` is what {@link FillLocal.beginFill} returned.
   */
  setValue(key: string, value: V, ttl?: number, begun?: unknown): void
  /** Called just before the filler runs; its result is handed back to {@link FillLocal.setValue}. */
  beginFill?(key: string): unknown
  /**
   * Resolves with the value of `key` as soon as it is set locally (by a write
   * from this node or one that arrived by replication). Must reject, and drop
   * its waiter, when `signal` aborts: the filler aborts every wait it gives up.
   * Must register its waiter synchronously: the filler reads {@link FillLocal.get}
   * just before, in the same turn, and a value set in between would be missed.
   */
  waitForValue(key: string, signal: AbortSignal): Promise<V>
}

/**
 * A {@link FillPeers} that knows no other node: every key's owner is this
 * node, so each node fills for itself (invalidation mode, where a filled
 * value never reaches the waiters of other nodes).
 */
export function localFillPeers(selfId: string): FillPeers {
  return {
    selfId,
    aliveMembers: () => [selfId],
    requestLease: () => Promise.reject(new Error('no fill leases between nodes in this mode')),
    releaseLease: () => {}
  }
}
