/**
 * Options of `Bcache.create`, their defaults and validation. Everything is
 * checked before any socket is bound; a bad value throws `TypeError` or
 * `RangeError` naming the option.
 */
import type { Logger } from './logger.js'
import { checkNodeId, resolveTuning, type ProfileName, type Tuning } from './options.js'
import { parseAddress } from './transport/transport.js'
import type { FillerInit } from './fill/filler-options.js'

export interface BcacheOptions {
  /** "host:port" to bind (UDP and TCP on the same port); port 0 picks a free one. */
  listenAddr: string
  /** Seeds to join ("host:port"); `[]` for the first node. @default [] */
  peers?: readonly string[]
  /** Most keys held; the least recently used is evicted beyond it (locally, never gossiped). Required. */
  maxKeys: number
  /** Most bytes of values (plus per-entry overhead) held; 0 = no byte bound. @default 0 */
  maxBytes?: number
  /**
   * How long a delete's tombstone is kept, in ms, so a late older write
   * cannot resurrect the key. Longer than any partition you expect to heal
   * through; costs memory per deleted key.
   * @default 300000 (5 min)
   */
  deletionDelay?: number
  /** Largest encoded value accepted by `set`, in bytes. @default 1048576 (1 MiB) */
  maxValueBytes?: number
  /** Unique id of this node. @default `${hostname}-${pid}-${random}` */
  nodeId?: string
  /** The "host:port" peers should use to reach this node. @default the bound address */
  advertiseAddr?: string
  /** Tuning profile. @default 'lan' */
  profile?: ProfileName
  /** Overrides of individual tuning options (see the README's tuning table). */
  tuning?: Partial<Tuning>
  /** Fill coordination settings (`concurrency` defaults to 16; see FillerInit). */
  fill?: FillerInit
  /** How often `stats()` is published on the `bcache:stats` diagnostics channel, ms; 0 = never. @default 10000 */
  statsInterval?: number
  /** Where bcache logs; `console` works. @default silent */
  logger?: Logger
}

export interface ResolvedOptions {
  listenAddr: string
  peers: string[]
  maxKeys: number
  maxBytes: number
  deletionDelay: number
  maxValueBytes: number
  nodeId: string | undefined
  advertiseAddr: string | undefined
  tuning: Tuning
  fill: FillerInit
  statsInterval: number
}

function posInt(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`option ${name} must be an integer, got ${String(v)}`)
  if (v < min) throw new RangeError(`option ${name} must be at least ${min}, got ${v}`)
  return v
}

/** Validates and fills defaults. @throws TypeError | RangeError naming the option */
export function resolveOptions(opts: BcacheOptions, listenRequired: boolean): ResolvedOptions {
  if (opts === null || typeof opts !== 'object') throw new TypeError('Bcache.create needs an options object')
  if (listenRequired || opts.listenAddr !== undefined) parseAddress(opts.listenAddr)
  const peers = opts.peers ?? []
  if (!Array.isArray(peers)) throw new TypeError('option peers must be an array of "host:port" strings')
  for (const p of peers) parseAddress(p)
  if (opts.advertiseAddr !== undefined) parseAddress(opts.advertiseAddr)
  if (opts.maxKeys === undefined) throw new TypeError('option maxKeys is required (a positive integer)')
  return {
    listenAddr: opts.listenAddr,
    peers: [...peers],
    maxKeys: posInt('maxKeys', opts.maxKeys, 1),
    maxBytes: posInt('maxBytes', opts.maxBytes ?? 0, 0),
    deletionDelay: posInt('deletionDelay', opts.deletionDelay ?? 300_000, 0),
    maxValueBytes: posInt('maxValueBytes', opts.maxValueBytes ?? 1_048_576, 1),
    nodeId: opts.nodeId === undefined ? undefined : checkNodeId(opts.nodeId),
    advertiseAddr: opts.advertiseAddr,
    tuning: resolveTuning(opts.profile ?? 'lan', opts.tuning ?? {}),
    fill: opts.fill ?? {},
    statsInterval: posInt('statsInterval', opts.statsInterval ?? 10_000, 0)
  }
}
