/**
 * Coverage check: the cheap first step of a periodic anti-entropy round.
 * Two nodes in sync have the same coverage (store/origin-index.ts: per write
 * origin, the seq ranges seen), and a digest names every origin, so with
 * many writers an in-sync round cost bytes that grow with the cluster
 * (about 25 KB/s per idle node at 1,000 writers, benchmarks/README.md
 * "simulate-replication"). Instead the initiator first sends a 52-bit
 * fingerprint of its coverage on a short stream (tag `CoverageCheck`); the
 * peer answers whether its own is the same. Same: the round is done. Not
 * the same, no answer, or an older node that refuses the tag: the full
 * round runs (anti-entropy.ts).
 *
 *   request  first frame UserStream{tag: CoverageCheck, payload: fingerprint (msgpack number)}
 *   reply    one frame: 1 (same) or 0, then close
 *
 * The fingerprint covers every origin with at least one seq seen, in origin
 * order, with its ranges; not the lossy flags (equal ranges leave nothing
 * to send either way).
 */
import { Packr } from 'msgpackr'
import type { Clock } from '../clock.js'
import type { Cluster } from '../membership/cluster.js'
import type { OriginRecord } from '../store/versioned-store.js'
import { FrameQueue } from '../transport/frame-queue.js'
import type { StreamConn } from '../transport/transport.js'
import { Fingerprint } from '../wire/fingerprint.js'
import { safeUnpack } from '../wire/safe-unpack.js'
import { StreamTag } from '../wire/stream-tags.js'

const packr = new Packr({ useRecords: false, moreTypes: false })

/** The fingerprint of a coverage (see the file comment). */
export function coverageFingerprint(coverage: ReadonlyMap<string, OriginRecord>): number {
  const origins = [...coverage.keys()].filter((o) => coverage.get(o)!.ranges.count() > 0).sort()
  const f = new Fingerprint()
  for (const o of origins) {
    f.str(o)
    for (const [s, e] of coverage.get(o)!.ranges.ranges()) f.num(s).num(e)
  }
  return f.value()
}

export interface CoverageCheckComponents {
  cluster: Cluster
  clock: Clock
  /** This node's coverage now. */
  coverage: () => ReadonlyMap<string, OriginRecord>
  /** Bytes sent and received, counted with anti-entropy's. */
  stats: { bytesOut: number; bytesIn: number; inSync: number }
  timeoutMs: number
}

export class CoverageCheck {
  constructor(private readonly c: CoverageCheckComponents) {
    c.cluster.handleStreams(StreamTag.CoverageCheck, (conn, payload) => this.answer(conn, payload))
  }

  /** Whether the member at `addr` has the same coverage as this node; false when unsure (any failure). */
  async same(addr: string): Promise<boolean> {
    const mine = coverageFingerprint(this.c.coverage())
    const request = Buffer.from(packr.pack(mine))
    let conn: StreamConn | undefined
    try {
      conn = await this.c.cluster.openStream(addr, StreamTag.CoverageCheck, request)
      this.c.stats.bytesOut += request.length
      const reply = await new FrameQueue(conn, this.c.clock).next(this.c.timeoutMs)
      this.c.stats.bytesIn += reply.length
      const same = reply.length === 1 && reply[0] === 1 && coverageFingerprint(this.c.coverage()) === mine
      if (same) this.c.stats.inSync++
      return same
    } catch {
      return false
    } finally {
      conn?.close()
    }
  }

  /** The answering side. Never throws; bad input closes the stream. */
  private answer(conn: StreamConn, payload: Buffer): void {
    try {
      const theirs = safeUnpack(payload, 0)
      if (typeof theirs !== 'number') return conn.destroy()
      this.c.stats.bytesIn += payload.length
      const same = theirs === coverageFingerprint(this.c.coverage())
      conn.send(Buffer.from([same ? 1 : 0]))
      this.c.stats.bytesOut += 1
      conn.close()
    } catch {
      conn.destroy()
    }
  }
}
