/**
 * Settings of the fill machinery, their defaults and their validation.
 */

/** Plain settings of a `Filler`. Every field is optional. */
export interface FillerInit {
  /**
   * Most fillers running at once on this node (across keys). Further fills
   * queue (still single-flight: callers of a queued key share it). Bounds the
   * load a miss storm over many keys puts on the backing source.
   * @default 16
   */
  concurrency?: number
  /**
   * How long a granted lease lets this node fill a key before another node may
   * take over. Longer tolerates slower fillers without duplicate fills; shorter
   * recovers faster when the holder dies (others wait up to
   * `leaseMs + leaseGraceMs`). Not renewable: keep it above the filler's usual
   * duration.
   * @default 10000
   */
  leaseMs?: number
  /**
   * Extra time a refused node waits past the lease's expiry for the holder's
   * value to arrive by replication before it asks again. Covers replication
   * delay and clock skew between nodes.
   * @default 500
   */
  leaseGraceMs?: number
  /**
   * How long a lease request to the owner may take. On failure or timeout the
   * node fills locally (a fallback): availability over once-only.
   * @default 1000
   */
  leaseRequestTimeoutMs?: number
  /**
   * Longest a node waits, refused, for another node's fill before it fills
   * locally anyway (a fallback). Bounds the damage of a holder that is alive
   * but stuck.
   * @default 15000
   */
  maxWaitMs?: number
  /**
   * Timeout of a fill (lease waits, queueing and the filler together) when the
   * caller passes no `timeoutMs`. `0` disables it.
   * @default 30000
   */
  defaultTimeoutMs?: number
  /**
   * Longest a lease this node grants as owner; requests for more are clamped,
   * invalid ones get this node's `leaseMs`.
   * @default 60000
   */
  maxLeaseMs?: number
  /**
   * Most leases this node keeps as owner (see `LeaseTable`).
   * @default 10000
   */
  maxLeases?: number
}

/** {@link FillerInit} with every default filled in and validated. */
export type FillerConfig = Required<FillerInit>

/** The defaults of {@link FillerInit}. */
export const fillerDefaults: Readonly<FillerConfig> = Object.freeze({
  concurrency: 16,
  leaseMs: 10_000,
  leaseGraceMs: 500,
  leaseRequestTimeoutMs: 1_000,
  maxWaitMs: 15_000,
  defaultTimeoutMs: 30_000,
  maxLeaseMs: 60_000,
  maxLeases: 10_000
})

/**
 * Fills defaults and validates. Throws `TypeError` for a non-number and
 * `RangeError` for an out-of-range value, naming the option.
 */
export function resolveFillerInit(init: FillerInit = {}): FillerConfig {
  const c: FillerConfig = { ...fillerDefaults }
  for (const name of Object.keys(fillerDefaults) as Array<keyof FillerConfig>) {
    const v = init[name]
    if (v === undefined) continue
    if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`${name} must be a number, got ${typeof v}`)
    c[name] = v
  }
  positiveInt(c, 'concurrency')
  positiveInt(c, 'maxLeases')
  positive(c, 'leaseMs')
  positive(c, 'leaseRequestTimeoutMs')
  positive(c, 'maxLeaseMs')
  nonNegative(c, 'leaseGraceMs')
  nonNegative(c, 'maxWaitMs')
  nonNegative(c, 'defaultTimeoutMs')
  if (c.leaseMs > c.maxLeaseMs) throw new RangeError(`leaseMs (${c.leaseMs}) must not exceed maxLeaseMs (${c.maxLeaseMs})`)
  return c
}

function positiveInt(c: FillerConfig, name: keyof FillerConfig): void {
  if (!Number.isInteger(c[name]) || c[name] < 1) throw new RangeError(`${name} must be a positive integer, got ${c[name]}`)
}

function positive(c: FillerConfig, name: keyof FillerConfig): void {
  if (!Number.isFinite(c[name]) || c[name] <= 0) throw new RangeError(`${name} must be a positive finite number, got ${c[name]}`)
}

function nonNegative(c: FillerConfig, name: keyof FillerConfig): void {
  if (!Number.isFinite(c[name]) || c[name] < 0) throw new RangeError(`${name} must be a non-negative finite number, got ${c[name]}`)
}
