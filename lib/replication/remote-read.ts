/**
 * Partition mode's `fetch`: the value of a key this node does not hold,
 * read from one of its owners over a short stream.
 *
 *   request  msgpack key: the first in the stream's opening frame
 *            UserStream{tag: Fetch, payload}, later ones as frames on it
 *   reply    one frame per request, in order: the owner's entry for the key
 *            as a delta (a value or a tombstone), or a lone nil when it
 *            holds none
 *
 * The stream stays open for the next reads (read-channels.ts); a reader
 * that lets more than 64 replies pile up unread is cut off.
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
import { MAX_IN_FLIGHT, ReadChannels } from './read-channels.js'
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

  private readonly channels: ReadChannels
  /** Read streams peers opened to this node. */
  private readonly serving = new Set<StreamConn>()

  constructor(private readonly c: RemoteReadComponents) {
    this.channels = new ReadChannels((addr, first) => c.cluster.openStream(addr, StreamTag.Fetch, first), c.clock, c.timeoutMs)
    c.cluster.handleStreams(StreamTag.Fetch, (conn, payload) => this.serve(conn, payload))
    c.cluster.onPeerGone((p) => this.channels.forget(p.address))
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

  /** The member at `addr` is gone: its read stream goes too. */
  forget(addr: string): void {
    this.channels.forget(addr)
  }

  close(): void {
    this.closed = true
    this.channels.closeAll()
    for (const conn of this.serving) conn.destroy()
    this.serving.clear()
  }

  private async ask(addr: string, key: string): Promise<Delta | undefined> {
    const frame = await this.channels.request(addr, packr.pack(key))
    try {
      if (frame.length === 1 && frame[0] === 0xc0) return undefined
      const d = decodeDelta(frame)
      if (d.key !== key || d.clear === true) throw new DecodeError('field', 'fetch reply for another key')
      return d
    } catch (err) {
      this.c.drops.count(err instanceof DecodeError ? `fetch-${err.reason}` : 'fetch')
      this.channels.forget(addr) // out of step: the next read opens a new stream
      throw err
    }
  }

  /** A peer's read stream: answers its first request and every later one, in order. */
  private serve(conn: StreamConn, payload: Buffer): void {
    if (this.closed) return conn.destroy()
    this.serving.add(conn)
    let backlog = 0
    const answer = (request: Buffer): void => {
      if (backlog > MAX_IN_FLIGHT) { // a reader that does not read its replies
        this.c.drops.count('fetch-backlog')
        return conn.destroy()
      }
      const reply = this.reply(request)
      if (reply === undefined) return conn.destroy()
      if (!conn.send(reply)) {
        backlog++
        void conn.drain().then(() => { backlog = 0 })
      }
    }
    conn.onFrame(answer)
    conn.onClose(() => this.serving.delete(conn))
    answer(payload)
  }

  /** The reply to one request, or undefined for a bad one (counted). */
  private reply(request: Buffer): Buffer | undefined {
    let key: unknown
    try {
      key = safeUnpack(request, 0)
    } catch {
      key = undefined
    }
    if (typeof key !== 'string' || !utf8Within(key, MAX_KEY_BYTES)) {
      this.c.drops.count('fetch-request')
      return undefined
    }
    this.c.stats.served++
    const now = this.c.clock.now()
    const e = this.c.store.peek(key)
    const live = e !== undefined && (e.tombstone ? e.expiresAt === 0 : e.expiresAt === 0 || e.expiresAt > now)
    return live ? encodeEntry(e) : NIL
  }
}
