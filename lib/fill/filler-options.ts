/**
 * Settings of the fill machinery, their defaults and their validation, and
 * the validation of a fill's per-call options.
 */
import { bool, describeValue, knownKeys, nonNegativeFinite, object, optionMessage, positiveFinite, positiveInt } from '../option-checks.js'

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

type Check = (path: string, v: unknown) => number

/** The check of each setting: the one place its bound is stated. */
const checks: Readonly<Record<keyof FillerConfig, Check>> = {
  concurrency: positiveInt,
  leaseMs: positiveFinite,
  leaseGraceMs: nonNegativeFinite,
  leaseRequestTimeoutMs: positiveFinite,
  maxWaitMs: nonNegativeFinite,
  defaultTimeoutMs: nonNegativeFinite,
  maxLeaseMs: positiveFinite,
  maxLeases: positiveInt
}
const names = Object.keys(checks)

/**
 * Fills defaults and validates. Throws `TypeError` for a non-number or an
 * unknown setting and `RangeError` for an out-of-range value, the message
 * starting with `option <path>.<name>: ` (`path` is `fill` in `Bcache.create`).
 */
export function resolveFillerInit(init: FillerInit = {}, path = 'fill'): FillerConfig {
  const bag = object(path, init)
  knownKeys(path, bag, names)
  const c: FillerConfig = { ...fillerDefaults }
  for (const name of names as Array<keyof FillerConfig>) {
    const v = bag[name]
    if (v !== undefined) c[name] = checks[name](`${path}.${name}`, v)
  }
  if (c.leaseMs > c.maxLeaseMs) {
    throw new RangeError(optionMessage(`${path}.leaseMs`, `(${c.leaseMs}) must not exceed ${path}.maxLeaseMs (${c.maxLeaseMs})`))
  }
  return c
}

/** Per-call options of a fill (`Filler.fill`, `Bcache.getWithFiller`). */
export interface FillCallChecked {
  ttl?: number
  timeoutMs?: number
  signal?: AbortSignal
  allowStale?: boolean
  allowStaleOnFetchRejection?: boolean
}

/**
 * Validates the per-call options of a fill: `ttl` and `timeoutMs` finite
 * numbers ≥ 0, `signal` an `AbortSignal`, `allowStale` and
 * `allowStaleOnFetchRejection` booleans; absent ones are fine. Called
 * before any lookup, so a bad option fails on a hit as on a miss.
 * @throws TypeError | RangeError whose message starts with `option <name>: `
 */
export function checkFillCallOptions(opts: unknown): FillCallChecked {
  const o = object('options', opts)
  if (o['ttl'] !== undefined) nonNegativeFinite('ttl', o['ttl'])
  if (o['timeoutMs'] !== undefined) nonNegativeFinite('timeoutMs', o['timeoutMs'])
  for (const name of ['allowStale', 'allowStaleOnFetchRejection']) if (o[name] !== undefined) bool(name, o[name])
  if (o['signal'] !== undefined && !(o['signal'] instanceof AbortSignal)) {
    throw new TypeError(optionMessage('signal', `must be an AbortSignal, got ${describeValue(o['signal'])}`))
  }
  return o as FillCallChecked
}
