/**
 * Re-reading the seeds while running. When `peers` are host names (a
 * Kubernetes headless service, a DNS round-robin) or a function, the set of
 * addresses behind them changes as nodes come and go. Every `refreshMs` the
 * {@link PeerSource} is read again: the result becomes the seeds that the
 * periodic push-pull round re-joins when this node finds itself alone, and
 * every address not in the member table yet gets one push-pull at once (an
 * extra target: this is how two halves started apart find each other).
 * A source that fails is logged at debug level and tried again next time.
 */
import { Ticker, type Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import type { PeerSource } from './join.js'

/** What {@link PeerRefresh} needs. */
export interface PeerRefreshComponents {
  clock: Clock
  logger: Logger
  source: PeerSource
  /** Whether the member table holds a member at `addr`. */
  known: (addr: string) => boolean
  /** Takes the freshly read seeds. */
  setSeeds: (seeds: readonly string[]) => void
  /** One push-pull with a new address (errors are its own). */
  pushPull: (addr: string) => void
}

/** Re-reads the seeds every `refreshMs` (see the file comment). */
export class PeerRefresh {
  private ticker: Ticker | undefined
  private running = false

  constructor(private readonly c: PeerRefreshComponents, private readonly refreshMs: number) {}

  start(): this {
    if (this.refreshMs > 0) this.ticker = new Ticker(this.c.clock, () => this.refreshMs, () => void this.refresh()).start(this.refreshMs)
    return this
  }

  stop(): void {
    this.ticker?.stop()
    this.ticker = undefined
  }

  /** One refresh; overlapping ones (a slow resolver) are skipped. */
  async refresh(): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      const seeds = await this.c.source()
      if (this.ticker === undefined) return
      this.c.setSeeds(seeds)
      for (const addr of seeds) if (!this.c.known(addr)) this.c.pushPull(addr)
    } catch (err) {
      this.c.logger.debug(`membership: refreshing the peers failed: ${String(err)}`)
    } finally {
      this.running = false
    }
  }
}
