/**
 * The seam the layers above membership ride on (replication, fill, and any
 * other user of the engine): who is up, how to reach them, and two ways to
 * send — best-effort datagrams and reliable application streams, each
 * tagged so that every layer registers its own handler. They never see the
 * member table, its state numbers or the prober.
 *
 * {@link Membership} implements it; tests may implement it in a few lines.
 */
import type { StreamConn } from '../transport/transport.js'

/** A member as the layers above see it. */
export interface Peer {
  readonly nodeId: string
  /** "host:port" to send to. */
  readonly address: string
  /** Suspected of having failed (not yet declared dead). */
  readonly suspect: boolean
}

/** Handles an application stream a peer opened with `tag`; owns `conn` from here on and must close it. */
export type StreamTagHandler = (conn: StreamConn, payload: Buffer) => void

export interface Cluster {
  readonly nodeId: string
  /** The address peers reach this node at. */
  readonly address: string
  /** Members believed up (alive or suspect), this node excluded: targets for pushes. */
  livePeers(): Peer[]
  /** Members believed up, this node included (SWIM's N); cheap. */
  numLive(): number
  /** Up to `count` distinct random alive members (not suspect, not this node). */
  sampleAlive(count: number): Peer[]
  /** The address of `nodeId` while it is believed up; undefined otherwise. */
  addressOf(nodeId: string): string | undefined
  /** Sends `payloads` in one datagram (built once) to every address in `to`; the caller keeps them under the packet budget. */
  sendPayloads(to: readonly string[], payloads: readonly Uint8Array[]): void
  /** Opens a stream to `address` whose first frame carries `tag` and `payload`. */
  openStream(address: string, tag: number, payload: Uint8Array): Promise<StreamConn>
  /** Routes streams peers open with `tag` to `handler` (one per tag; a stream with an unknown tag is refused and counted). */
  handleStreams(tag: number, handler: StreamTagHandler): void
  /** Calls `fn` when a member leaves or is declared dead. */
  onPeerGone(fn: (peer: Peer) => void): void
  /** Calls `fn` when a member joins (or comes back). */
  onPeerJoined(fn: (peer: Peer) => void): void
  /**
   * Calls `fn` when a peer suspected this node or declared it dead, and it
   * refuted: peers may have left it out of what they sent meanwhile.
   * Optional for test fakes.
   */
  onRefuted?(fn: () => void): void
}
