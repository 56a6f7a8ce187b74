/**
 * Options of `Bcache.create`, their defaults and validation. Everything is
 * checked before any socket is bound; a bad value throws `TypeError` or
 * `RangeError` naming the option.
 */
import type { Logger } from './logger.js'
import { checkNodeId, resolveTuning, type ProfileName, type Tuning } from './options.js'
import { parseAddress } from './transport/transport.js'
import type { FillerInit } from './fill/filler-options.js'
import { DEFAULT_MAX_MEMBERS } from './membership/member-table.js'
import { MAX_KEY_BYTES } from './replication/delta.js'
import { DEFAULT_MAX_QUEUED_BYTES } from './replication/frame-queue.js'
import { MAX_SERVED_ROUNDS } from './replication/replicator.js'
import { Keyring } from './transport/keyring.js'
import { checkLabel } from './transport/secure-transport.js'

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

  // ---- security (see the README's Security section) ----

  /**
   * AES-256-GCM keys (32-byte Buffers), primary first. When non-empty, every
   * datagram and stream frame is encrypted with the primary and accepted
   * under any key of the ring; rotate live with `cache.keyring`. Passing
   * `[]` starts unencrypted but reserves the envelope's 28 bytes in every
   * datagram, so keys can be added later without exceeding `packetBudgetBytes`.
   * **Without keys, nothing is confidential or authenticated.**
   * @default undefined (no encryption)
   */
  secretKeys?: readonly Uint8Array[]
  /**
   * Cluster label (UTF-8, at most 255 bytes), sent with every datagram and
   * frame and authenticated with it when encrypting: traffic with another
   * label (or none) is dropped (`label-mismatch`), so two clusters on one
   * network never mix, even with the same key. Costs 1 + length bytes per datagram.
   * @default '' (none)
   */
  label?: string
  /**
   * Migration window: accept unencrypted traffic although `secretKeys` are
   * set (and answer a peer that sent plaintext in plaintext). Turn on while
   * rolling keys out to a running cluster, off once every node has them.
   * @default false
   */
  allowPlaintext?: boolean

  // ---- limits (bound memory under abuse; see the README's limits table) ----

  /** Longest key accepted by `set`/`delete`/`getWithFiller`, UTF-8 bytes, at most 1024 (the wire limit). @default 1024 */
  maxKeyBytes?: number
  /**
   * Largest stream frame accepted (when bcache binds the sockets itself); a
   * larger one destroys the connection. Must exceed `maxValueBytes` plus
   * ~1 KiB, or large values cannot be replicated over TCP.
   * @default 16777216 (16 MiB)
   */
  maxFrameBytes?: number
  /** Most members held; alive messages about new members beyond it are ignored (`max-members`). @default 10000 */
  maxMembers?: number
  /** Most anti-entropy rounds served at once; more are refused (`anti-entropy-busy`). @default 2 */
  maxSyncs?: number
  /** Most bytes a peer can make us queue unread on one anti-entropy stream (`queue-overflow`). @default 8388608 (8 MiB) */
  maxStreamQueueBytes?: number
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
  /** The live keyring (empty when `secretKeys` was not given). */
  keyring: Keyring
  /** Whether `secretKeys` was given (even empty): the envelope's room is then reserved. */
  encryption: boolean
  label: string
  allowPlaintext: boolean
  maxKeyBytes: number
  maxFrameBytes: number
  maxMembers: number
  maxSyncs: number
  maxStreamQueueBytes: number
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
    statsInterval: posInt('statsInterval', opts.statsInterval ?? 10_000, 0),
    keyring: new Keyring(opts.secretKeys ?? []),
    encryption: opts.secretKeys !== undefined,
    label: checkLabel(opts.label ?? ''),
    allowPlaintext: bool('allowPlaintext', opts.allowPlaintext ?? false),
    maxKeyBytes: upTo('maxKeyBytes', posInt('maxKeyBytes', opts.maxKeyBytes ?? MAX_KEY_BYTES, 1), MAX_KEY_BYTES),
    maxFrameBytes: upTo('maxFrameBytes', posInt('maxFrameBytes', opts.maxFrameBytes ?? 16 * 1024 * 1024, 1024), 0xffff_ffff),
    maxMembers: posInt('maxMembers', opts.maxMembers ?? DEFAULT_MAX_MEMBERS, 2),
    maxSyncs: posInt('maxSyncs', opts.maxSyncs ?? MAX_SERVED_ROUNDS, 1),
    maxStreamQueueBytes: posInt('maxStreamQueueBytes', opts.maxStreamQueueBytes ?? DEFAULT_MAX_QUEUED_BYTES, 1024)
  }
}

function bool(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new TypeError(`option ${name} must be a boolean, got ${typeof v}`)
  return v
}

function upTo(name: string, v: number, max: number): number {
  if (v > max) throw new RangeError(`option ${name} must be at most ${max}, got ${v}`)
  return v
}
