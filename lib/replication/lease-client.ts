/**
 * Fill leases over the network: the `FillPeers` seam of the filler,
 * implemented with one short TCP exchange per request.
 *
 *   request  first frame UserStream{tag: Lease, payload: [0, key, leaseMs, requesterId]}
 *            reply frame [granted, holder, expiresAt], then close
 *   release  first frame UserStream{tag: Lease, payload: [1, key, requesterId]}, no reply
 *
 * The owner side decodes with the wire layer's safe unpacker and answers
 * through the local filler (`handleLeaseRequest` / `handleLeaseRelease`).
 */
import { Packr } from 'msgpackr'
import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import type { FillPeers, LeaseReply } from '../fill/fill-peers.js'
import type { Membership } from '../membership/membership.js'
import type { StreamConn } from '../transport/transport.js'
import { DecodeError } from '../wire/decode-error.js'
import { safeUnpack } from '../wire/safe-unpack.js'
import { FrameQueue } from './frame-queue.js'
import { StreamTag } from './replicator.js'

const packr = new Packr({ useRecords: false, moreTypes: false })
const OP_REQUEST = 0
const OP_RELEASE = 1

/** What the owner side answers with: the local filler. */
export interface LeaseOwner {
  handleLeaseRequest(fromId: string, key: string, leaseMs: number): LeaseReply
  handleLeaseRelease(fromId: string, key: string): void
}

export class LeaseClient implements FillPeers {
  readonly selfId: string

  constructor(
    private readonly c: { membership: Membership; clock: Clock; logger: Logger },
    private readonly timeoutMs: number
  ) {
    this.selfId = c.membership.nodeId
  }

  aliveMembers(): readonly string[] {
    const out = [this.selfId]
    for (const m of this.c.membership.table.all()) if (m.state === 0 && m.nodeId !== this.selfId) out.push(m.nodeId)
    return out
  }

  async requestLease(ownerId: string, key: string, leaseMs: number, signal: AbortSignal): Promise<LeaseReply> {
    const addr = this.addressOf(ownerId)
    const conn = await this.c.membership.openUserStream(addr, StreamTag.Lease, packr.pack([OP_REQUEST, key, leaseMs, this.selfId]))
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

  releaseLease(ownerId: string, key: string): void {
    let addr: string
    try {
      addr = this.addressOf(ownerId)
    } catch {
      return
    }
    this.c.membership.openUserStream(addr, StreamTag.Lease, packr.pack([OP_RELEASE, key, this.selfId])).then(
      (conn) => conn.close(),
      (err) => this.c.logger.debug(`fill: releasing lease of ${key} at ${ownerId} failed: ${String(err)}`)
    )
  }

  private addressOf(nodeId: string): string {
    const m = this.c.membership.table.get(nodeId)
    if (m === undefined) throw new Error(`unknown member ${nodeId}`)
    return m.addr
  }
}

/** Serves a lease stream on the owner side. Never throws; bad input closes the stream. */
export function serveLease(conn: StreamConn, payload: Buffer, owner: LeaseOwner): void {
  try {
    const raw = safeUnpack(payload, 0)
    if (!Array.isArray(raw)) throw new DecodeError('shape', 'lease message')
    const [op, key, a, b] = raw as unknown[]
    if (typeof key !== 'string' || key.length === 0) throw new DecodeError('field', 'lease key')
    if (op === OP_REQUEST && typeof a === 'number' && Number.isFinite(a) && a > 0 && typeof b === 'string' && b.length > 0) {
      const reply = owner.handleLeaseRequest(b, key, a)
      conn.send(packr.pack(reply.granted ? [true, '', reply.expiresAt] : [false, reply.holder, reply.expiresAt]))
    } else if (op === OP_RELEASE && typeof a === 'string' && a.length > 0) {
      owner.handleLeaseRelease(a, key)
    } else {
      throw new DecodeError('field', 'lease message')
    }
    conn.close()
  } catch {
    conn.destroy()
  }
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
