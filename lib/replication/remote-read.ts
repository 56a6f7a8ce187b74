/**
 * Partition mode's `fetch`: the value of a key this node does not hold,
 * read from one of its owners over a short stream.
 *
 *   request  first frame UserStream{tag: Fetch, payload: msgpack key}
 *   reply    one frame: the owner's entry for the key as a delta (a value or
 *            a tombstone), or a lone nil when it holds none; then it closes
 *
 * The requester asks the owners in rank order and takes the first that
 * holds the key; an owner that holds nothing (one still receiving its
 * segments after a join) or cannot be reached passes to the next. A bad
 * request or reply is dropped and counted; nothing throws out of a handler.
 */
import type { Clock } from '../clock.js'
import type { DropCounts } from '../drop-counts.js'
import type { Cluster } from '../membership/cluster.js'
import type { VersionedStore } from '../store/versioned-store.js'
import { FrameQueue } from '../transport/frame-queue.js'
import type { StreamConn } from '../transport/transport.js'
import { DecodeError } from '../wire/decode-error.js'
import { safeUnpack } from '../wire/safe-unpack.js'
import { StreamTag } from '../wire/stream-tags.js'
import { Packr } from 'msgpackr'
import { decodeDelta, encodeEntry, MAX_KEY_BYTES, type Delta } from './delta.js'
import { utf8Within } from '../wire/utf8.js'

const packr = new Packr({ useRecords: false, moreTypes: false })
const NIL = Buffer.from([0xc0])

export interface FetchStats {
  /** Reads sent to an owner. */
  requests: number
  /** Reads an owner answered with a value. */
  found: number
  /** Reads that found no owner holding the key. */
  missed: number
  /** Owners that could not be reached or answered badly. */
  failed: number
  /** Reads served to peers. */
  served: number
}

export function newFetchStats(): FetchStats {
  return { requests: 0, found: 0, missed: 0, failed: 0, served: 0 }
}

export interface RemoteReadComponents {
  cluster: Cluster
  clock: Clock
  store: VersionedStore
  drops: DropCounts
  stats: FetchStats
  timeoutMs: number
}

export class RemoteRead {
  private closed = false

  constructor(private readonly c: RemoteReadComponents) {
    c.cluster.handleStreams(StreamTag.Fetch, (conn, payload) => this.serve(conn, payload))
  }

  /**
   * The newest entry any of `owners` (ids, best first; this node skipped)
   * holds for `key`, as a delta; undefined when none holds one.
   */
  async read(key: string, owners: readonly string[]): Promise<Delta | undefined> {
    for (const id of owners) {
      if (this.closed) return undefined
      if (id === this.c.cluster.nodeId) continue
      const addr = this.c.cluster.addressOf(id)
      if (addr === undefined) continue
      this.c.stats.requests++
      let d: Delta | undefined
      try {
        d = await this.ask(addr, key)
      } catch {
        this.c.stats.failed++
        continue
      }
      if (d !== undefined) {
        this.c.stats.found++
        return d
      }
    }
    this.c.stats.missed++
    return undefined
  }

  close(): void {
    this.closed = true
  }

  private async ask(addr: string, key: string): Promise<Delta | undefined> {
    const conn = await this.c.cluster.openStream(addr, StreamTag.Fetch, packr.pack(key))
    try {
      const frame = await new FrameQueue(conn, this.c.clock).next(this.c.timeoutMs)
      if (frame.length === 1 && frame[0] === 0xc0) return undefined
      const d = decodeDelta(frame)
      if (d.key !== key || d.clear === true) throw new DecodeError('field', 'fetch reply for another key')
      return d
    } catch (err) {
      this.c.drops.count(err instanceof DecodeError ? `fetch-${err.reason}` : 'fetch')
      throw err
    } finally {
      conn.destroy()
    }
  }

  private serve(conn: StreamConn, payload: Buffer): void {
    if (this.closed) return conn.destroy()
    let key: unknown
    try {
      key = safeUnpack(payload, 0)
    } catch {
      key = undefined
    }
    if (typeof key !== 'string' || !utf8Within(key, MAX_KEY_BYTES)) {
      this.c.drops.count('fetch-request')
      return conn.destroy()
    }
    this.c.stats.served++
    const now = this.c.clock.now()
    const e = this.c.store.peek(key)
    const live = e !== undefined && (e.tombstone ? e.expiresAt === 0 : e.expiresAt === 0 || e.expiresAt > now)
    conn.send(live ? encodeEntry(e) : NIL)
    conn.close()
  }
}
