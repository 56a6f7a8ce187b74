/**
 * Assembles the layers of one cache node from resolved options: transport
 * (plus the security envelope), store, membership, replication and fill.
 * The facade (bcache.ts) owns the result; nothing here starts a timer or
 * joins anything.
 */
import type { ResolvedOptions } from './bcache-options.js'
import { systemClock, type Clock } from './clock.js'
import { Filler } from './fill/filler.js'
import { LeaseClient } from './fill/lease-client.js'
import { localFillPeers } from './fill/fill-peers.js'
import type { Logger } from './logger.js'
import { Membership } from './membership/membership.js'
import type { PeerSource } from './membership/join.js'
import { peerSource, systemResolver, type Resolver } from './membership/peer-source.js'
import { defaultNodeId } from './membership/start.js'
import type { Random } from './random.js'
import { Replicator } from './replication/replicator.js'
import { withRelayTag } from './replication/relay-push.js'
import { writeOrigin } from './replication/write-origin.js'
import { VersionedStore, type EvictReason, type Version } from './store/versioned-store.js'
import { SecureTransport, secureOverhead } from './transport/secure-transport.js'
import { parseAddress, type Transport } from './transport/transport.js'
import { UdpTcpTransport } from './transport/udp-tcp-transport.js'

/** Injected collaborators, for tests and the simulator; production uses none. */
export interface BcacheComponents {
  /** A bound transport (e.g. from `MemoryNetwork`); then `listenAddr` may be omitted. */
  transport?: Transport
  clock?: Clock
  random?: Random
  /** Runs a function after the current event-loop turn. @default setImmediate */
  defer?: (fn: () => void) => void
  /** Resolves a peer host name to its IP addresses (A and AAAA). @default `dns.lookup(host, { all: true })` */
  resolve?: Resolver
}

/** How the facade hears of changes it turns into events (called only after `assembleNode` returned). */
export interface NodeHooks<V> {
  /** Writes a filled value (through the facade's `set`, so it is checked and replicated like any write). */
  setValue: (key: string, value: V, ttl: number | undefined) => void
  /** Invalidation mode: keeps a filled value locally (checked like a write) if nothing newer was heard of since `floor`. */
  keepFilled: (key: string, value: V, ttl: number | undefined, floor: Version | undefined) => void
  /** A live entry left by LRU eviction or TTL expiry (the store's `onEvict`). */
  onEvict: (key: string, reason: EvictReason) => void
  /** A peer's write or delete changed the store. */
  onRemoteApplied: (key: string, tombstone: boolean) => void
  /** Replication toward every peer caught up after `set` returned false. */
  onDrain: () => void
}

/** The parts of one node, wired. */
export interface NodeParts<V> {
  clock: Clock
  logger: Logger
  transport: SecureTransport
  store: VersionedStore
  membership: Membership
  replicator: Replicator
  filler: Filler<V>
  /** The seeds, read afresh from `peers` (host names resolved) on every call. */
  peers: PeerSource
}

/** Binds the transport and builds every layer, calling back the facade through `hooks`. */
export async function assembleNode<V>(
  opts: ResolvedOptions,
  components: BcacheComponents,
  hooks: NodeHooks<V>
): Promise<NodeParts<V>> {
  const clock = components.clock ?? systemClock
  const random = components.random ?? Math.random
  const logger = opts.logger
  const defer = components.defer ?? ((fn) => setImmediate(fn))
  // Every datagram and frame goes through the security envelope (a no-op without keys and label).
  const overhead = secureOverhead(opts.label, opts.encryption)
  const tuning = { ...opts.tuning, packetBudgetBytes: opts.tuning.packetBudgetBytes - overhead }
  if (tuning.packetBudgetBytes < 64) throw new RangeError(`option label: the envelope (${overhead} bytes) leaves less than 64 bytes of tuning.packetBudgetBytes`)
  const bound = components.transport ?? await UdpTcpTransport.bind({ ...parseAddress(opts.listenAddr), logger, maxFrameBytes: opts.maxFrameBytes })
  const transport = new SecureTransport(bound, { keyring: opts.keyring, label: opts.label, allowPlaintext: opts.allowPlaintext, logger })
  const nodeId = opts.nodeId ?? defaultNodeId()
  const invalidate = opts.mode === 'invalidate' // replication/invalidation.ts
  const partition = opts.partition // replication/partition.ts
  const store = new VersionedStore({ maxKeys: opts.maxKeys, maxBytes: opts.maxBytes, deletionDelayMs: opts.deletionDelay, onEvict: hooks.onEvict, highestSeqOnly: partition !== undefined })
  const membership = new Membership({ transport, clock, random, logger }, { ...tuning, nodeId, advertiseAddr: opts.advertiseAddr ?? transport.address, maxMembers: opts.maxMembers, tags: withRelayTag(opts.tags) })
  const replicator = new Replicator(
    { store, cluster: membership, clock, random, logger, defer, origin: writeOrigin(nodeId, clock.now(), random), onRemoteApplied: hooks.onRemoteApplied, onDrain: hooks.onDrain, memberTags: () => membership.members() },
    { ...tuning, maxSyncs: opts.maxSyncs, maxStreamQueueBytes: opts.maxStreamQueueBytes, maxValueBytes: opts.maxValueBytes, deletionDelayMs: opts.deletionDelay, invalidate, partition }
  )
  membership.setDelegate(replicator)
  const leases = new LeaseClient({ cluster: membership, clock, logger }, opts.tuning.tcpTimeoutMs)
  const filler = new Filler<V>({
    clock,
    peers: invalidate ? localFillPeers(nodeId) : leases,
    local: {
      get: (key) => (store.get(key, () => clock.now()) ?? replicator.partition?.near.get(key, clock.now())) as V | undefined,
      setValue: invalidate ? (key, value, ttl, floor) => hooks.keepFilled(key, value, ttl, floor as Version | undefined) : hooks.setValue,
      ...(invalidate ? { beginFill: (key: string) => replicator.versionFloor(key) } : {}),
      waitForValue: (key, signal) => replicator.waitForValue(key, signal) as Promise<V>
    }
  }, opts.fill)
  leases.serve(filler)
  const peers = peerSource(opts.peers, components.resolve ?? systemResolver)
  return { clock, logger, transport, store, membership, replicator, filler, peers }
}
