/**
 * Argument and reply checks of the filler: a caller's `fill` arguments, and
 * the shape of a lease reply from the peers seam (untrusted).
 */
import type { LeaseReply } from './fill-peers.js'
import type { FillOptions } from './filler.js'

/** Whether `r` is a well-formed {@link LeaseReply}. */
export function isLeaseReply(r: unknown): r is LeaseReply {
  if (typeof r !== 'object' || r === null) return false
  const o = r as Record<string, unknown>
  if (typeof o['expiresAt'] !== 'number' || !Number.isFinite(o['expiresAt'])) return false
  if (o['granted'] === true) return true
  return o['granted'] === false && typeof o['holder'] === 'string'
}

/** Throws `TypeError`/`RangeError` naming the bad argument of a `fill` call. */
export function validateFill(key: string, fn: unknown, opts: FillOptions): void {
  if (typeof key !== 'string') throw new TypeError(`key must be a string, got ${typeof key}`)
  if (key === '') throw new RangeError('key must not be empty')
  if (typeof fn !== 'function') throw new TypeError(`fn must be a function, got ${typeof fn}`)
  if (typeof opts !== 'object' || opts === null) throw new TypeError('opts must be an object')
  nonNegativeOpt(opts.ttl, 'ttl')
  nonNegativeOpt(opts.timeoutMs, 'timeoutMs')
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) throw new TypeError('signal must be an AbortSignal')
}

function nonNegativeOpt(v: unknown, name: string): void {
  if (v === undefined) return
  if (typeof v !== 'number') throw new TypeError(`${name} must be a number, got ${typeof v}`)
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a non-negative finite number, got ${v}`)
}
