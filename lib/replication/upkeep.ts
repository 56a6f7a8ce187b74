/**
 * Store housekeeping on a timer: reclaim tombstones past their delay and
 * entries past their expiry (every second, and again at once while a purge
 * hit its batch bound — so reclaiming keeps up with any write rate,
 * invariant 10), and retire write origins nothing depends on any more.
 */
import { Ticker, type Clock } from '../clock.js'
import { PURGE_BATCH, type VersionedStore } from '../store/versioned-store.js'

/** How often the store is purged, ms. */
export const PURGE_INTERVAL_MS = 1000

export interface UpkeepInit {
  /** Origins idle this long, of which nothing is held, are retired (longer than the tombstone delay). */
  originIdleMs: number
  /** This process's own origin (never retired). */
  origin: string
}

export class StoreUpkeep {
  private readonly ticker: Ticker
  private readonly keep: ReadonlySet<string>
  private closed = false

  constructor(
    private readonly store: VersionedStore,
    private readonly clock: Clock,
    /** Runs `fn` after the current turn (another purge batch without blocking the loop). */
    private readonly defer: (fn: () => void) => void,
    private readonly init: UpkeepInit
  ) {
    this.keep = new Set([init.origin])
    this.ticker = new Ticker(clock, () => PURGE_INTERVAL_MS, () => this.run())
  }

  start(): void {
    this.ticker.start()
  }

  close(): void {
    this.closed = true
    this.ticker.stop()
  }

  /** One purge batch (and more after this turn while batches come back full), then origin retirement. */
  run(): void {
    if (this.closed) return
    const now = this.clock.now()
    const { tombstones, expired } = this.store.purge(now)
    if (tombstones + expired >= PURGE_BATCH) return this.defer(() => this.run())
    this.store.retireOrigins(now, this.init.originIdleMs, this.keep)
  }
}
