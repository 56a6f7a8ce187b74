/**
 * When anti-entropy rounds run (the protocol itself is anti-entropy.ts):
 *
 * - **Periodic**: every `antiEntropyIntervalMs` (jittered ±50%) with one
 *   random alive member — but never on top of another round this node takes
 *   part in: a round toward a node far behind may move the whole state.
 * - **Initial**: right after joining, from the seeds, before `create()`
 *   resolves. While it runs this node refuses rounds others open (each
 *   would send it the whole state again).
 * - **Not toward a peer being pushed to**: while this node's push channel
 *   toward the chosen peer is congested, the periodic round is skipped. The
 *   push stream is already delivering what the round would find missing
 *   (writes in flight are "missing" too), and a round then sends them a
 *   second time, costing both nodes the CPU the stream needs; under a flat-
 *   out write load that doubled the work. The next interval tries again.
 * - **Checked first**: a periodic round starts with the coverage check
 *   (coverage-check.ts); a peer already in sync costs two small frames,
 *   not two digests that name every write origin.
 * - **Admission**: at most `maxSyncs` rounds served at once; one asked
 *   beyond is refused (stream destroyed, counted `anti-entropy-busy`) and
 *   the peer retries at its next interval.
 */
import { Ticker, type Clock } from '../clock.js'
import type { DropCounts } from '../drop-counts.js'
import type { Logger } from '../logger.js'
import type { Random } from '../random.js'
import type { Cluster } from '../membership/cluster.js'
import type { StreamConn } from '../transport/transport.js'
import { StreamTag } from '../wire/stream-tags.js'
import { initiateRound, respondRound, type AntiEntropyContext } from './anti-entropy.js'

export interface AntiEntropySchedulerComponents {
  cluster: Cluster
  clock: Clock
  random: Random
  logger: Logger
  drops: DropCounts
  round: AntiEntropyContext
  /** Whether this node's push channel toward `addr` is congested (see the file comment). */
  pushingTo?: (addr: string) => boolean
  /** Whether the member at `addr` has this node's coverage (coverage-check.ts); absent: always run the round. */
  inSyncWith?: (addr: string) => Promise<boolean>
}

export interface AntiEntropySchedule {
  /** Mean interval of periodic rounds; 0 = none. */
  antiEntropyIntervalMs: number
  /** Most rounds served at once. */
  maxSyncs: number
}

export class AntiEntropyScheduler {
  private ticker: Ticker | undefined
  private initiated = 0
  private served = 0
  private joining = false
  private closed = false
  /** Streams of the rounds in progress: destroyed by close(), which ends those rounds. */
  private readonly rounds = new Set<StreamConn>()

  constructor(private readonly c: AntiEntropySchedulerComponents, private readonly config: AntiEntropySchedule) {
    c.cluster.handleStreams(StreamTag.AntiEntropy, (conn, payload) => this.serve(conn, payload))
  }

  /** Starts periodic rounds (after the initial transfer). */
  start(): void {
    const every = this.config.antiEntropyIntervalMs
    if (every <= 0 || this.closed) return
    this.ticker = new Ticker(this.c.clock, () => every * (0.5 + this.c.random()), () => this.periodic()).start()
  }

  close(): void {
    this.closed = true
    this.ticker?.stop()
    for (const conn of this.rounds) conn.destroy()
    this.rounds.clear()
  }

  /** One round with the member at `addr`, as initiator. */
  async sync(addr: string): Promise<void> {
    this.initiated++
    let conn: StreamConn | undefined
    try {
      await initiateRound(this.c.round, async (digest) => (conn = this.track(await this.c.cluster.openStream(addr, StreamTag.AntiEntropy, digest))))
    } finally {
      this.initiated--
      if (conn !== undefined) this.rounds.delete(conn)
    }
  }

  /**
   * Pulls the current state from the first of `seeds` that completes a
   * round, trying each up to `attempts` times. Resolves false when no seed
   * completed a round.
   */
  async initialSync(seeds: readonly string[], attempts = 3): Promise<boolean> {
    if (seeds.length === 0) return true // the first node: nobody to wait for
    this.joining = true
    try {
      for (let attempt = 0; attempt < attempts; attempt++) {
        for (const seed of seeds) {
          try {
            await this.sync(seed)
            return true
          } catch (err) {
            this.c.logger.debug(`replication: initial state transfer from ${seed} failed: ${String(err)}`)
          }
        }
        if (attempt + 1 < attempts) await new Promise<void>((r) => this.c.clock.setTimeout(r, 100 * (attempt + 1)))
      }
      return false
    } finally {
      this.joining = false
    }
  }

  private track(conn: StreamConn): StreamConn {
    if (this.closed) {
      conn.destroy()
      return conn
    }
    this.rounds.add(conn)
    return conn
  }

  private busy(): boolean {
    return this.joining || this.initiated > 0 || this.served > 0
  }

  private periodic(): void {
    if (this.busy()) return
    const [peer] = this.c.cluster.sampleAlive(1)
    if (peer === undefined || this.c.pushingTo?.(peer.address) === true) return
    this.checkedRound(peer.address).catch((err) => this.c.logger.debug(`replication: anti-entropy with ${peer.address} failed: ${String(err)}`))
  }

  /** A periodic round: the coverage check, then the full round unless the peer was in sync. */
  private async checkedRound(addr: string): Promise<void> {
    let same = false
    this.initiated++ // no other round starts meanwhile
    try {
      same = this.c.inSyncWith !== undefined && await this.c.inSyncWith(addr)
    } finally {
      this.initiated--
    }
    if (!same && !this.closed) await this.sync(addr)
  }

  private serve(conn: StreamConn, digest: Buffer): void {
    if (this.closed || this.joining || this.served >= this.config.maxSyncs) {
      this.c.drops.count('anti-entropy-busy')
      return conn.destroy()
    }
    this.served++
    this.track(conn)
    respondRound(this.c.round, conn, digest).catch((err) => {
      this.c.drops.count('anti-entropy')
      this.c.logger.debug(`replication: serving anti-entropy to ${conn.remoteAddress} failed: ${String(err)}`)
    }).finally(() => {
      this.served--
      this.rounds.delete(conn)
    })
  }
}

/** Anti-entropy rounds served at once by default; more are refused (the initiator retries next interval). */
export const MAX_SERVED_ROUNDS = 2
