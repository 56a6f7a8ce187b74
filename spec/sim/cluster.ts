/**
 * The simulated cluster: `Bcache` nodes on one `MemoryNetwork`, every node
 * with its own `SkewedClock` over one shared `ManualClock`, its own seeded
 * random and its own configuration. Time moves only in {@link SimCluster.drive}:
 * advance the shared clock a step, then let promise callbacks run (one
 * `setImmediate` turn), so a run is a pure function of the scenario.
 *
 * A crash closes the node's transport first (nothing more leaves it, no
 * leave message reaches anyone) and only then closes the node, so its timers
 * are released; a close is the graceful path. Either way the node's address
 * is freed for a restart under the same node id.
 */
import { Bcache } from '../../lib/bcache.js'
import { ManualClock } from '../../lib/clock.js'
import { seededRandom } from '../../lib/random.js'
import type { Entry, VersionedStore } from '../../lib/store/versioned-store.js'
import { MemoryNetwork, type MemoryTransport } from '../../lib/transport/memory-network.js'
import { SkewedClock } from '../support/skewed-clock.js'
import type { NodeConfig } from './model.js'

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** One process start of a node. */
export interface SimNode {
  /** index in {@link SimCluster.all}: the trace's name for it (`#3`) */
  readonly idx: number
  readonly nodeId: string
  readonly config: NodeConfig
  readonly clock: SkewedClock
  readonly transport: MemoryTransport
  readonly cache: Bcache<unknown>
  alive: boolean
  /** true once a later start reused this node's id and address */
  replaced: boolean
  closing?: Promise<void>
  /** Anti-entropy rounds this node had completed when it was told to close (none may complete after). */
  roundsAtClose?: number
}

export class SimCluster {
  readonly base = new ManualClock()
  readonly net: MemoryNetwork
  /** every node ever started, in order */
  readonly all: SimNode[] = []
  /** Partition mode's `replicas`, given to every node of the scenario. */
  replicas = 2
  private starts = 0

  constructor(netSeed: number) {
    this.net = new MemoryNetwork({ clock: this.base, random: seededRandom(netSeed) })
  }

  live(): SimNode[] {
    return this.all.filter((n) => n.alive)
  }

  /** Runs `ms` of shared virtual time in steps of `stepMs`. */
  async drive(ms: number, stepMs = 5): Promise<void> {
    const end = this.base.now() + ms
    while (this.base.now() < end) {
      this.base.advance(Math.min(stepMs, end - this.base.now()))
      await flush()
    }
  }

  /** Drives time until `p` settles or `maxMs` passed; returns whether it settled. */
  async settle(p: Promise<unknown>, maxMs = 60_000, stepMs = 5): Promise<boolean> {
    let done = false
    void p.then(() => { done = true }, () => { done = true })
    await flush()
    const end = this.base.now() + maxMs
    while (!done && this.base.now() < end) {
      this.base.advance(stepMs)
      await flush()
    }
    return done
  }

  /**
   * Starts a node (a new one, or a restart when `address` is given) joining
   * `peers`. Resolves with the node, or with the error `Bcache.create` threw.
   */
  async start(config: NodeConfig, nodeId: string, peers: string[], address?: string): Promise<SimNode | Error> {
    const gen = this.starts++
    const transport = this.net.bind(address, { maxFrameBytes: config.maxFrameBytes, streamHighWaterBytes: config.streamHighWaterBytes })
    const clock = new SkewedClock(this.base, config.offsetMs, config.drift)
    // a restart is a new process: its random is seeded anew (seed and start number)
    const seed = config.randomSeed === 0 ? 1_000_003 * (gen + 1) : address === undefined ? config.randomSeed : config.randomSeed * 7919 + gen
    const created = Bcache.create<unknown>(
      {
        listenAddr: undefined as unknown as string, peers, nodeId, statsInterval: 0,
        maxKeys: config.maxKeys, maxBytes: config.maxBytes, deletionDelay: config.deletionDelay,
        profile: config.profile, maxValueBytes: config.maxValueBytes, maxFrameBytes: config.maxFrameBytes, mode: config.mode,
        ...(config.mode === 'partition' ? { replicas: this.replicas } : {}),
        ...(config.eagerFanout === 32 ? {} : { tuning: { eagerFanout: config.eagerFanout } })
      },
      { transport, clock, random: seededRandom(seed), defer: (fn) => this.base.setTimeout(fn, 0) }
    )
    let result: Bcache<unknown> | Error = new Error('Bcache.create did not settle within 60 s of virtual time')
    created.then((c) => { result = c }, (err: unknown) => { result = err instanceof Error ? err : new Error(String(err)) })
    await this.settle(created)
    if (result instanceof Error) {
      await transport.close()
      return result
    }
    const node: SimNode = { idx: this.all.length, nodeId, config, clock, transport, cache: result, alive: true, replaced: false }
    this.all.push(node)
    return node
  }

  /** Kills a node: its transport goes first, so nothing it still holds leaves it. */
  crash(node: SimNode): void {
    node.alive = false
    node.roundsAtClose = node.cache.stats().replication.antiEntropy.rounds
    void node.transport.close()
    node.closing = node.cache.close().catch(() => {})
  }

  /** Closes a node gracefully (leave, then shutdown). */
  close(node: SimNode): void {
    node.alive = false
    node.roundsAtClose = node.cache.stats().replication.antiEntropy.rounds
    node.closing = node.cache.close().catch(() => {})
  }

  /** Closes every node and waits (in virtual time) for every close to finish. */
  async closeAll(): Promise<void> {
    for (const n of this.live()) this.close(n)
    await this.settle(Promise.all(this.all.map((n) => n.closing)), 30_000)
  }

  /** The node's store, read by the simulator's oracle only (versions of writes). */
  static store(node: SimNode): VersionedStore {
    return (node.cache as unknown as { p: { store: VersionedStore } }).p.store
  }

  /**
   * The entry of `key` this node holds for its own writes too: its store's,
   * or in partition mode the write waiting in its hand-off list (a key it
   * does not own never enters its store; partition.ts).
   */
  static entry(node: SimNode, key: string): Entry | undefined {
    return SimCluster.store(node).peek(key) ?? SimCluster.pendingEntry(node, key)
  }

  /** Partition mode: this node's own write of `key` waiting in its hand-off list. */
  static pendingEntry(node: SimNode, key: string): Entry | undefined {
    const part = (node.cache as unknown as { p: { replicator: { partition?: { pendingEntry(k: string): Entry | undefined } } } }).p.replicator.partition
    return part?.pendingEntry(key)
  }

  /** Partition mode: the owners of `key` as this node's own table has them (partition.ts). */
  static ownersSeenBy(node: SimNode, key: string): readonly string[] {
    const p = (node.cache as unknown as { p: { replicator: { partition: { ownership: { refresh(): boolean; ownersOfKey(k: string): readonly string[] } } } } }).p
    return p.replicator.partition.ownership.ownersOfKey(key)
  }
}
