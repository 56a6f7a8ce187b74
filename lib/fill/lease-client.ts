/**
 * Fill leases over the network: the `FillPeers` seam of the filler,
 * implemented with one short TCP exchange per request.
 *
 *   request  first frame UserStream{tag: Lease, payload: [0, key, leaseMs, requesterId]}
 *            reply frame [granted, holder, expiresAt], then close
 *   release  first frame UserStream{tag: Lease, payload: [1, key, requesterId, error?]}, no reply;
 *            `error` (a string) when the fill failed
 *   failed   first frame UserStream{tag: Lease, payload: [2, key, ownerId, holderId, message]},
 *            no reply: owner to a requester it refused, the holder's fill failed
 *   release of one lease
 *            first frame UserStream{tag: Lease, payload: [3, key, requesterId, leaseId, error?]},
 *            no reply: as release, for the lease whose grant said `expiresAt = leaseId`; a
 *            late release of the same holder's earlier lease then changes nothing (an older
 *            owner refuses the op and the lease runs out on its own)
 *
 * The receiving side decodes with the wire layer's safe unpacker, validates
 * every field (bad input closes the stream, never throws), cuts messages to
 * `MAX_FAILURE_MESSAGE_CHARS`, and answers through the local filler
 * (`handleLeaseRequest` / `handleLeaseRelease` / `handleLeaseFailure`). A
 * release without `error` is what older nodes send; they ignore the field.
 */
import { Packr } from 'msgpackr'
import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import { cutFailureMessage as cut, type FillPeers, type LeaseReply } from './fill-peers.js'
import type { Cluster } from '../membership/cluster.js'
import type { StreamConn } from '../transport/transport.js'
import { DecodeError } from '../wire/decode-error.js'
import { safeUnpack } from '../wire/safe-unpack.js'
import { FrameQueue } from '../transport/frame-queue.js'
import { StreamTag } from '../wire/stream-tags.js'

const packr = new Packr({ useRecords: false, moreTypes: false })
// Lease stream ops: only append, the numbers are part of the protocol.
const OP_REQUEST = 0
const OP_RELEASE = 1
const OP_FAILED = 2
const OP_RELEASE_LEASE = 3

/** What the receiving side answers with: the local filler. */
export interface LeaseOwner {
  handleLeaseRequest(fromId: string, key: string, leaseMs: number): LeaseReply
  handleLeaseRelease(fromId: string, key: string, error?: string, leaseId?: number): void
  /** Without it, failure notices are dropped (the stream is closed normally). */
  handleLeaseFailure?(ownerId: string, key: string, holderId: string, message: string): unknown
}

export class LeaseClient implements FillPeers {
  readonly selfId: string

  constructor(
    private readonly c: { cluster: Cluster; clock: Clock; logger: Logger },
    private readonly timeoutMs: number
  ) {
    this.selfId = c.cluster.nodeId
  }

  /** Answers the lease streams peers open to this node through `owner` (the local filler). */
  serve(owner: LeaseOwner): void {
    this.c.cluster.handleStreams(StreamTag.Lease, (conn, payload) => serveLease(conn, payload, owner))
  }

  aliveMembers(): readonly string[] {
    const out = [this.selfId]
    for (const p of this.c.cluster.livePeers()) if (!p.suspect) out.push(p.nodeId)
    return out
  }

  async requestLease(ownerId: string, key: string, leaseMs: number, signal: AbortSignal): Promise<LeaseReply> {
    const addr = this.addressOf(ownerId)
    const conn = await this.c.cluster.openStream(addr, StreamTag.Lease, packr.pack([OP_REQUEST, key, leaseMs, this.selfId]))
    if (signal.aborted) {
      conn.destroy()
      throw signal.reason
    }
    const onAbort = (): void => conn.destroy()
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      const frame = await new FrameQueue(conn, this.c.clock).next(this.timeoutMs)
      return decodeReply(frame)
    } finally {
      signal.removeEventListener('abort', onAbort)
      conn.close()
    }
  }

  releaseLease(ownerId: string, key: string, error?: string, leaseId?: number): void {
    const msg = leaseId !== undefined
      ? (error === undefined ? [OP_RELEASE_LEASE, key, this.selfId, leaseId] : [OP_RELEASE_LEASE, key, this.selfId, leaseId, cut(error)])
      : error === undefined ? [OP_RELEASE, key, this.selfId] : [OP_RELEASE, key, this.selfId, cut(error)]
    this.sendOneWay(ownerId, msg, `releasing lease of ${key}`)
  }

  notifyFailure(requesterId: string, key: string, holderId: string, message: string): void {
    this.sendOneWay(requesterId, [OP_FAILED, key, this.selfId, holderId, cut(message)], `failure notice for ${key}`)
  }

  private sendOneWay(nodeId: string, msg: unknown[], what: string): void {
    let addr: string
    try {
      addr = this.addressOf(nodeId)
    } catch {
      return
    }
    this.c.cluster.openStream(addr, StreamTag.Lease, packr.pack(msg)).then(
      (conn) => conn.close(),
      (err) => this.c.logger.debug(`fill: ${what} to ${nodeId} failed: ${String(err)}`)
    )
  }

  private addressOf(nodeId: string): string {
    const addr = this.c.cluster.addressOf(nodeId)
    if (addr === undefined) throw new Error(`unknown or dead member ${nodeId}`)
    return addr
  }
}

/** Serves a lease stream on the owner side. Never throws; bad input closes the stream. */
export function serveLease(conn: StreamConn, payload: Buffer, owner: LeaseOwner): void {
  try {
    const raw = safeUnpack(payload, 0)
    if (!Array.isArray(raw)) throw new DecodeError('shape', 'lease message')
    const [op, key, a, b, c] = raw as unknown[]
    if (typeof key !== 'string' || key.length === 0) throw new DecodeError('field', 'lease key')
    if (op === OP_REQUEST && typeof a === 'number' && Number.isFinite(a) && a > 0 && isId(b)) {
      const reply = owner.handleLeaseRequest(b, key, a)
      conn.send(packr.pack(reply.granted ? [true, '', reply.expiresAt] : [false, reply.holder, reply.expiresAt]))
    } else if (op === OP_RELEASE && isId(a) && (b === undefined || typeof b === 'string')) {
      if (b === undefined) owner.handleLeaseRelease(a, key)
      else owner.handleLeaseRelease(a, key, cut(b))
    } else if (op === OP_RELEASE_LEASE && isId(a) && typeof b === 'number' && Number.isFinite(b) && (c === undefined || typeof c === 'string')) {
      owner.handleLeaseRelease(a, key, c === undefined ? undefined : cut(c), b)
    } else if (op === OP_FAILED && isId(a) && isId(b) && typeof c === 'string') {
      owner.handleLeaseFailure?.(a, key, b, cut(c))
    } else {
      throw new DecodeError('field', 'lease message')
    }
    conn.close()
  } catch {
    conn.destroy()
  }
}

function isId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0
}

function decodeReply(frame: Buffer): LeaseReply {
  const raw = safeUnpack(frame, 0)
  if (!Array.isArray(raw) || raw.length < 3) throw new DecodeError('shape', 'lease reply')
  const [granted, holder, expiresAt] = raw as unknown[]
  if (typeof granted !== 'boolean' || typeof holder !== 'string' || typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) {
    throw new DecodeError('field', 'lease reply')
  }
  return granted ? { granted: true, expiresAt } : { granted: false, holder, expiresAt }
}
