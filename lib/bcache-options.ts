/**
 * Options of `Bcache.create`, their defaults and validation. Everything is
 * checked before any socket is bound, with the validators of
 * `option-checks.ts`: a bad value throws `TypeError` or `RangeError` whose
 * message starts with `option <path>: ` (`maxKeys`, `peers[0]`,
 * `fill.concurrency`); an unknown option name is refused at every level,
 * with the known name it resembles; options that contradict each other
 * (a value limit no frame can carry) are refused too.
 */
import { silentLogger, type Logger } from './logger.js'
import { resolveMode, type ModeOptions, type ReplicationMode } from './mode-options.js'
import { FRAME_MARGIN_BYTES, checkValueFitsFrame, resolveLimits } from './limit-options.js'
import { bool, describeValue, finiteIn, knownKeys, nonNegativeInt, object, oneOf, optionMessage, positiveInt, underPath, withMethods } from './option-checks.js'
import { checkNodeId, resolveTuning, type ProfileName, type Tuning } from './options.js'
import { parseAddress } from './transport/transport.js'
import { resolveFillerInit, type FillerConfig, type FillerInit } from './fill/filler-options.js'
import { MAX_EXPIRES_AT } from './replication/delta.js'
import { Keyring } from './transport/keyring.js'
import { checkLabel } from './transport/secure-transport.js'
import type { PeersOption } from './membership/peer-source.js'
import { NO_TAGS, checkTags, type Tags } from './wire/tags.js'

/** Default of `joinTimeoutMs` per profile. */
const DEFAULT_JOIN_TIMEOUT_MS: Readonly<Record<ProfileName, number>> = { lan: 30_000, local: 10_000, wan: 60_000 }

export interface BcacheOptions {
  /** "host:port" to bind (UDP and TCP on the same port); port 0 picks a free one. */
  listenAddr: string
  /**
   * Seeds to join: "host:port" entries (`[]` for the first node), or a
   * function returning them. A host name (`cache.default.svc:7946`, e.g. a
   * Kubernetes headless service) is resolved to every A/AAAA address, on
   * each join attempt and every `peerRefreshMs`; this node's own address
   * among them is skipped. With no seed but itself a node starts at once.
   * @default []
   */
  peers?: readonly string[] | (() => Promise<string[]>)
  /**
   * How long `create` keeps retrying the seeds when none answers (they may
   * not be up yet), ms, with exponential backoff and jitter; 0 = fail at
   * once. A seed that refuses the join (wrong key, missing key, another
   * label) or a duplicate node id fails at once whatever this says.
   * @default 30000 ('lan'), 10000 ('local'), 60000 ('wan')
   */
  joinTimeoutMs?: number
  /**
   * How often `peers` given as host names or as a function are read again,
   * ms: new addresses get a push-pull (two halves started apart find each
   * other), and they are the seeds re-joined when this node is alone.
   * 0 = never. Ignored when every peer is an IP address.
   * @default 30000
   */
  peerRefreshMs?: number
  /**
   * Metadata of this node (zone, version, role…), shown to every node in
   * `members()`; at most 16 tags and 512 UTF-8 bytes of keys and values.
   * Change them at runtime with `cache.setTags()`. The key `bcache.relay`
   * is reserved: the node adds `'bcache.relay': '1'` when the tags leave
   * room for it, announcing relayed eager push (`tuning.eagerFanout`); set
   * it to `'0'` to opt the node out. It is not shown in `members()`.
   * @default {}
   */
  tags?: Record<string, string>
  /** Most keys held; the least recently used is evicted beyond it (locally, never gossiped). Required. */
  maxKeys: number
  /**
   * Most bytes of memory the live entries may take, as the store estimates
   * it per key (its key, its value as held — a string by its length, an
   * object by its encoded bytes and its decoded copy — and about 100 bytes
   * of bookkeeping; README "Sizing"); 0 = no byte bound. A value that would
   * not fit on its own is refused by `set`. @default 0
   */
  maxBytes?: number
  /**
   * Default time to live, in ms, of a write: used by `set` when it is given
   * no `ttl`, and by `getWithFiller` when neither the call nor the filler
   * (`ctx.setTtl`) gives one. 0 = no expiry. An explicit `ttl: 0` on a call
   * still means no expiry.
   * @default 0
   */
  ttl?: number
  /**
   * How long a delete's tombstone is kept, in ms, so a late older write
   * cannot resurrect the key. Longer than any partition you expect to heal
   * through; costs memory per deleted key.
   * @default 300000 (5 min)
   */
  deletionDelay?: number
  /**
   * Largest encoded value accepted by `set`, in bytes. Must leave room in a
   * stream frame for the rest of the frame: `maxValueBytes <= maxFrameBytes -
   * 65536` ({@link FRAME_MARGIN_BYTES}), else `create` throws a `RangeError`
   * (a value no frame can carry would stop every state transfer).
   * @default 1048576 (1 MiB)
   */
  maxValueBytes?: number
  /** Unique id of this node. @default `${hostname}-${pid}-${random}` */
  nodeId?: string
  /** The "host:port" peers should use to reach this node (not port 0). @default the bound address */
  advertiseAddr?: string
  /** Tuning profile. @default 'lan' */
  profile?: ProfileName
  /**
   * What a write sends to the other nodes. `'replicate'`: the value, so
   * every node holds every key. `'invalidate'`: only the key and its version,
   * so every other node drops its older copy; a node holds only the values
   * it wrote or filled itself (README "Invalidation mode"). Every node of a
   * cluster should use the same mode. `'partition'`: each key is held by
   * `replicas` owners (README "Partition mode"); the cluster holds about
   * `nodes × maxKeys / replicas` keys. @default 'replicate'
   */
  mode?: ReplicationMode
  /** Partition mode: owners of each key. @default 2 */
  replicas?: number
  /** Partition mode: most values of keys this node does not own held for reads (the near cache); 0 = none. @default 10000 */
  nearCacheKeys?: number
  /** Partition mode: longest a near-cache value is held, ms (0 = its write's TTL only). @default 60000 */
  nearCacheTtl?: number
  /** Overrides of individual tuning options (see the README's tuning table). */
  tuning?: Partial<Tuning>
  /** Fill coordination settings (each with its default: see FillerInit); unknown names are refused. */
  fill?: FillerInit
  /** How often `stats()` is published on the `bcache:stats` diagnostics channel, ms; 0 = never. @default 10000 */
  statsInterval?: number
  /**
   * Where bcache logs: an object with `debug`, `info`, `warn` and `error`
   * functions, such as `console` (the object, not the string `'console'`)
   * or a pino logger. Anything else is a `TypeError` at `create`.
   * @default silent
   */
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
   * larger one destroys the connection. At least `maxValueBytes + 65536`
   * (see `maxValueBytes`), at most 4294967295 (a frame's 4-byte length).
   * @default 16777216 (16 MiB)
   */
  maxFrameBytes?: number
  /** Most members held; alive messages about new members beyond it are ignored (`max-members`). @default 10000 */
  maxMembers?: number
  /** Most anti-entropy rounds served at once; more are refused (`anti-entropy-busy`). @default 2 */
  maxSyncs?: number
  /**
   * Most bytes queued per stream toward or from one peer: unread on one
   * anti-entropy stream (beyond, the round ends: `queue-overflow`), and
   * waiting in the push channel toward one peer beyond its connection's own
   * buffer (beyond, batches are dropped: `push-backlog`; anti-entropy repairs).
   * @default 8388608 (8 MiB)
   */
  maxStreamQueueBytes?: number
}

export { REPLICATION_MODES, type ReplicationMode } from './mode-options.js'

export interface ResolvedOptions extends ModeOptions {
  listenAddr: string
  peers: PeersOption
  joinTimeoutMs: number
  peerRefreshMs: number
  tags: Tags
  maxKeys: number
  maxBytes: number
  ttl: number
  deletionDelay: number
  maxValueBytes: number
  nodeId: string | undefined
  advertiseAddr: string | undefined
  tuning: Tuning
  fill: FillerConfig
  statsInterval: number
  /** The logger given, or the silent one. */
  logger: Logger
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


/**
 * Largest default `ttl` (about 142,000 years): `now + ttl` must stay within
 * what a delta can carry ({@link MAX_EXPIRES_AT}, checked again on every write).
 */
const MAX_TTL_MS = Math.floor(MAX_EXPIRES_AT / 2)


/** Every option name `create` accepts; anything else is refused (a typo must not silently do nothing). */
const optionNames: Readonly<Record<keyof BcacheOptions, true>> = {
  listenAddr: true, peers: true, joinTimeoutMs: true, peerRefreshMs: true, tags: true, maxKeys: true, maxBytes: true, ttl: true, deletionDelay: true, maxValueBytes: true,
  nodeId: true, advertiseAddr: true, profile: true, mode: true, replicas: true, nearCacheKeys: true, nearCacheTtl: true, tuning: true, fill: true, statsInterval: true, logger: true,
  secretKeys: true, label: true, allowPlaintext: true,
  maxKeyBytes: true, maxFrameBytes: true, maxMembers: true, maxSyncs: true, maxStreamQueueBytes: true
}

/** The methods a logger must have (`console` has them). */
const loggerMethods = ['debug', 'info', 'warn', 'error'] as const

/**
 * Validates and fills defaults. Every message starts with `option <path>: `.
 * @throws TypeError | RangeError naming the option (see `option-checks.ts` for which)
 */
export function resolveOptions(opts: BcacheOptions, listenRequired: boolean): ResolvedOptions {
  const bag = object('options', opts)
  knownKeys('', bag, Object.keys(optionNames))
  const addresses = resolveAddresses(opts, listenRequired)
  if (opts.maxKeys === undefined) throw new TypeError(optionMessage('maxKeys', 'is required (a positive integer: most keys held)'))
  const resolved: ResolvedOptions = {
    ...addresses,
    ...resolveMode(opts),
    maxKeys: positiveInt('maxKeys', opts.maxKeys),
    maxBytes: nonNegativeInt('maxBytes', opts.maxBytes ?? 0),
    ttl: finiteIn('ttl', opts.ttl ?? 0, 0, MAX_TTL_MS),
    deletionDelay: nonNegativeInt('deletionDelay', opts.deletionDelay ?? 300_000),
    maxValueBytes: positiveInt('maxValueBytes', opts.maxValueBytes ?? 1_048_576),
    nodeId: opts.nodeId === undefined ? undefined : checkNodeId(opts.nodeId),
    tuning: resolveTuning(opts.profile ?? 'lan', opts.tuning ?? {}, 'tuning'),
    joinTimeoutMs: nonNegativeInt('joinTimeoutMs', opts.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS[opts.profile ?? 'lan'] ?? 30_000),
    peerRefreshMs: nonNegativeInt('peerRefreshMs', opts.peerRefreshMs ?? 30_000),
    tags: opts.tags === undefined ? NO_TAGS : checkTags(opts.tags, 'option tags:'),
    fill: resolveFillerInit(opts.fill ?? {}, 'fill'),
    statsInterval: nonNegativeInt('statsInterval', opts.statsInterval ?? 10_000),
    logger: opts.logger === undefined ? silentLogger : withMethods<Logger>('logger', opts.logger, loggerMethods, ' (pass console, a pino-like logger, or nothing for silence)'),
    ...resolveSecurity(opts),
    ...resolveLimits(opts)
  }
  checkValueFitsFrame(resolved.maxValueBytes, resolved.maxFrameBytes)
  return resolved
}

function resolveAddresses(opts: BcacheOptions, listenRequired: boolean): Pick<ResolvedOptions, 'listenAddr' | 'peers' | 'advertiseAddr'> {
  if (listenRequired && opts.listenAddr === undefined) {
    throw new TypeError(optionMessage('listenAddr', 'is required ("host:port" to bind; port 0 picks a free one)'))
  }
  if (opts.listenAddr !== undefined) underPath('listenAddr', () => parseAddress(opts.listenAddr))
  const peers = opts.peers ?? []
  if (typeof peers === 'function') return { listenAddr: opts.listenAddr, peers, advertiseAddr: checkAdvertise(opts.advertiseAddr) }
  if (!Array.isArray(peers)) throw new TypeError(optionMessage('peers', `must be an array of "host:port" strings or a function returning one, got ${describeValue(peers)}`))
  peers.forEach((p: unknown, i) => underPath(`peers[${i}]`, () => parseAddress(p as string)))
  return { listenAddr: opts.listenAddr, peers: [...peers], advertiseAddr: checkAdvertise(opts.advertiseAddr) }
}

function checkAdvertise(advertiseAddr: string | undefined): string | undefined {
  if (advertiseAddr !== undefined) {
    const { port } = underPath('advertiseAddr', () => parseAddress(advertiseAddr))
    if (port === 0) throw new RangeError(optionMessage('advertiseAddr', `port 0 cannot be dialled; give the port peers reach this node at, got ${describeValue(advertiseAddr)}`))
  }
  return advertiseAddr
}

function resolveSecurity(opts: BcacheOptions): Pick<ResolvedOptions, 'keyring' | 'encryption' | 'label' | 'allowPlaintext'> {
  return {
    keyring: underPath('secretKeys', () => new Keyring(opts.secretKeys ?? [])),
    encryption: opts.secretKeys !== undefined,
    label: checkLabel(opts.label ?? '', 'option label:'),
    allowPlaintext: bool('allowPlaintext', opts.allowPlaintext ?? false)
  }
}

export { FRAME_MARGIN_BYTES } from './limit-options.js'
