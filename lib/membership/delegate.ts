import type { Cluster } from './cluster.js'

/**
 * The seam between the membership engine and whatever rides on it (the cache's
 * replication layer). Membership sees only bytes; it never imports the cache.
 * In the spirit of memberlist's `Delegate`. Application streams are routed
 * by tag through {@link Cluster.handleStreams}, not through the delegate.
 */
export interface MembershipDelegate {
  /**
   * Payloads to piggyback on an outgoing datagram. Each payload costs
   * `overheadBytes` of framing on top of its length; the total (payloads plus
   * overhead) must not exceed `limitBytes`. Called for every ping, ack,
   * ping-req and gossip packet, so it must be cheap.
   */
  getBroadcasts(overheadBytes: number, limitBytes: number): Uint8Array[]
  /** A payload a peer piggybacked (`from` is the datagram's source address). */
  notifyMsg(payload: Buffer, from: string): void
  /** State to send in a push-pull exchange (`join`: the exchange is a join). */
  localState(join: boolean): Uint8Array
  /** State a peer sent in a push-pull exchange. */
  mergeRemoteState(state: Buffer, join: boolean): void
}

/** A delegate that carries nothing; the default when membership runs alone. */
export const nullDelegate: MembershipDelegate = {
  getBroadcasts: () => [],
  notifyMsg: () => {},
  localState: () => new Uint8Array(0),
  mergeRemoteState: () => {}
}
