/**
 * Protocol messages. On the wire each message is a short msgpack array
 * `[type, ...fields]`; `codec.ts` encodes, decodes and validates them. The
 * objects here are the decoded form.
 *
 * Only append to {@link MsgType}: the numbers are part of the protocol.
 * Only append fields, too: decoders ignore fields after the ones they know.
 */
import type { Tags } from './tags.js'

export enum MsgType {
  Ping = 0,
  PingReq = 1,
  Ack = 2,
  Nack = 3,
  Suspect = 4,
  Alive = 5,
  Dead = 6,
  /** An application (delegate) payload piggybacked on a datagram. */
  User = 7,
  /** Stream only: member table exchange, request side. */
  PushPull = 8,
  /** Stream only: member table exchange, reply side. */
  PushPullReply = 9,
  /** Stream only: an application stream; the first frame of a delegate session. */
  UserStream = 10
}

/** Member states; the numbers are part of the protocol. */
export enum MemberState {
  Alive = 0,
  Suspect = 1,
  Dead = 2,
  Left = 3
}

/** Direct probe. `targetId` guards against a different node now at that address. */
export interface PingMsg {
  type: MsgType.Ping
  seq: number
  targetId: string
  sourceId: string
  sourceAddr: string
}

/** Ask the receiver to probe `targetId` at `targetAddr` for us. */
export interface PingReqMsg {
  type: MsgType.PingReq
  seq: number
  targetId: string
  targetAddr: string
  sourceId: string
  sourceAddr: string
  /** The requester wants a Nack if the relay gets no ack in time (Lifeguard). */
  nack: boolean
}

export interface AckMsg {
  type: MsgType.Ack
  seq: number
}

export interface NackMsg {
  type: MsgType.Nack
  seq: number
}

/** `fromId` suspects `nodeId` at `incarnation`. */
export interface SuspectMsg {
  type: MsgType.Suspect
  incarnation: number
  nodeId: string
  fromId: string
}

/** `nodeId` is alive at `incarnation`, reachable at `addr`. */
export interface AliveMsg {
  type: MsgType.Alive
  incarnation: number
  nodeId: string
  addr: string
  /** The node's tags (tags.ts); absent = none. Appended field: older decoders ignore it. */
  tags?: Tags
}

/** `fromId` declares `nodeId` dead at `incarnation`; `fromId === nodeId` means a graceful leave. */
export interface DeadMsg {
  type: MsgType.Dead
  incarnation: number
  nodeId: string
  fromId: string
}

export interface UserMsg {
  type: MsgType.User
  payload: Buffer
}

/** One row of a member table exchanged by push-pull. */
export interface PushNodeState {
  nodeId: string
  addr: string
  incarnation: number
  state: MemberState
  /** The member's tags (tags.ts); absent = none. Appended field: older decoders ignore it. */
  tags?: Tags
}

/** Push-pull request or reply: the sender's member table plus delegate state. */
export interface PushPullMsg {
  type: MsgType.PushPull | MsgType.PushPullReply
  join: boolean
  nodes: PushNodeState[]
  /** Opaque delegate state (empty when the delegate has none). */
  userState: Buffer
  /**
   * A digest of the sender's whole table (membership/table-digest.ts). On a
   * request with no rows: "here is my digest; send your table only if yours
   * differs". On a reply with no rows: "same as yours". Appended field:
   * older nodes ignore it (and answer with their table).
   */
  digest?: number
}

/** Opens an application stream: everything after this frame belongs to the delegate. */
export interface UserStreamMsg {
  type: MsgType.UserStream
  /** Delegate-defined tag, so the delegate can run several stream protocols. */
  tag: number
  payload: Buffer
}

/** Messages that may travel in a datagram. */
export type PacketMsg = PingMsg | PingReqMsg | AckMsg | NackMsg | SuspectMsg | AliveMsg | DeadMsg | UserMsg

/** Messages that may open or travel on a stream. Ping and Ack also serve the TCP fallback probe. */
export type StreamMsg = PingMsg | AckMsg | PushPullMsg | UserStreamMsg

export type Msg = PacketMsg | StreamMsg
