/**
 * Acknowledged writes (`Bcache.setAcked`): a write that resolves once
 * `needed` nodes, this one included, hold it — Akka Distributed Data's
 * `WriteMajority`/`WriteAll`/`WriteTo(n)`, over bcache's `Cluster` seam.
 *
 * The write itself is an ordinary local write (applied here, eagerly pushed
 * at the end of the turn); this part only gathers evidence that peers hold
 * it. Exchange, one short stream per live peer, all opened at once:
 *
 *   request  first frame UserStream{tag: Ack, payload: the write's delta}
 *            (the same bytes the eager push sends)
 *   reply    one frame `[held]`, then the receiver closes
 *
 * The receiver decodes the delta strictly and merges it through
 * {@link RemoteMerge.accept}, exactly as a pushed delta (size refusals, HLC
 * observe, waiters, counters, events), then answers `held` when the version
 * that governs the key here is the write's or newer (`versionFloor`: a live
 * entry, a tombstone, the marker of a write that expired here by TTL, or a
 * covering clear). So a newer write of the key counts, a value refused for
 * its size does not, and neither does a write this node evicted by LRU
 * before the request came (it cannot vouch for it). The eager push and the
 * request may arrive in either order: the second is a duplicate and changes
 * nothing. Bad input (undecodable, a clear) destroys the stream and is
 * counted in `stats().dropped` under `ack-<reason>`; nothing throws.
 *
 * The writer's side of each write is an {@link AckRound} (ack-round.ts says
 * when it settles). Every round still pending when the node closes is
 * rejected with an `AckError` of reason `'closed'` (cause: `ClosedError`).
 */
import type { Clock } from '../clock.js'
import type { DropCounts } from '../drop-counts.js'
import { AckError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Cluster } from '../membership/cluster.js'
import { compareVersions } from '../store/version.js'
import type { VersionedStore } from '../store/versioned-store.js'
import type { StreamConn } from '../transport/transport.js'
import { DecodeError } from '../wire/decode-error.js'
import { StreamTag } from '../wire/stream-tags.js'
import { AckRound, encodeReply } from './ack-round.js'
import { decodeDelta, type Delta } from './delta.js'
import type { RemoteMerge } from './remote-merge.js'

/**
 * Who is asked to hold a write (partition mode: the key's live owners, this
 * node counting only when it is one); absent: every live member, this one included.
 */
export interface AckScope {
  peers: string[]
  selfHolds: boolean
}

/** How many nodes must hold a write: all live ones, a majority of them, or a count (this node included). */
export type AckTarget = 'all' | 'majority' | number

/**
 * Acks a target asks for among `live` nodes (alive or suspect, this one
 * included): `'all'` = live, `'majority'` = ⌊live/2⌋ + 1, a number as is.
 */
export function acksNeeded(target: AckTarget, live: number): number {
  if (target === 'all') return live
  if (target === 'majority') return Math.floor(live / 2) + 1
  return target
}

export interface AckedWritesComponents {
  cluster: Cluster
  clock: Clock
  store: VersionedStore
  merge: RemoteMerge
  drops: DropCounts
  logger: Logger
}

export class AckedWrites {
  /** Rounds not settled yet; each removes itself when it settles. */
  private readonly pending = new Set<AckRound>()
  private closed = false

  constructor(private readonly c: AckedWritesComponents) {
    c.cluster.handleStreams(StreamTag.Ack, (conn, payload) => this.serve(conn, payload))
  }

  /**
   * Waits until `target` nodes (this one included) hold the write `delta`
   * (already applied here). Rejects with `AckError`: at once when fewer
   * nodes are live than needed; after `timeoutMs`; when too many peers
   * refused; when the node closes.
   */
  collect(delta: Buffer, target: AckTarget, timeoutMs: number, scope?: AckScope): Promise<void> {
    const peers = scope?.peers ?? this.c.cluster.livePeers().map((p) => p.address)
    const self = scope === undefined || scope.selfHolds ? 1 : 0
    const members = peers.length + self
    const needed = acksNeeded(target, members)
    if (needed <= self) return Promise.resolve()
    if (this.closed) return Promise.reject(new AckError('closed', self, needed, 'node closed'))
    if (needed > members) {
      return Promise.reject(new AckError('too-few-members', self, needed, `only ${members} live ${scope === undefined ? 'members' : 'owners'}`))
    }
    const open = (addr: string): Promise<StreamConn> => this.c.cluster.openStream(addr, StreamTag.Ack, delta)
    const round = new AckRound({ clock: this.c.clock, drops: this.c.drops, onSettled: (r) => this.pending.delete(r) }, needed, peers, open, timeoutMs, self === 1)
    this.pending.add(round)
    return round.done
  }

  /** Rounds waiting for acks now (tests: a closed node has none). */
  get pendingCount(): number {
    return this.pending.size
  }

  /** Rejects every pending round (`AckError` 'closed') and refuses further requests. */
  close(): void {
    this.closed = true
    for (const round of [...this.pending]) round.close()
  }

  /** The receiving side: merge the delta, answer whether this node now holds it. Never throws. */
  private serve(conn: StreamConn, payload: Buffer): void {
    if (this.closed) return conn.destroy()
    let d: Delta
    try {
      d = decodeDelta(payload)
      if (d.clear === true) throw new DecodeError('type', 'a clear in an ack request')
    } catch (err) {
      this.c.drops.count(err instanceof DecodeError ? `ack-${err.reason}` : 'ack')
      return conn.destroy()
    }
    try {
      this.c.merge.accept(d)
      const floor = this.c.store.versionFloor(d.key)
      conn.send(encodeReply(floor !== undefined && compareVersions(floor, d.version) >= 0))
      conn.close()
    } catch (err) {
      this.c.drops.count('ack')
      this.c.logger.debug(`replication: ack request failed: ${String(err)}`)
      conn.destroy()
    }
  }
}
