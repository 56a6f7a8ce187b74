/**
 * One more Bcache node on a {@link CacheCluster}'s network, with what the
 * cluster's own `add` does not expose: its own clock (a {@link SkewedClock}
 * over the shared timeline), its own seeded random, and its transport (to
 * stop it reading streams). The node joins `cluster.nodes`, so
 * `closeAll()` closes it.
 */
import { Bcache } from '../../lib/bcache.js'
import type { Clock } from '../../lib/clock.js'
import { seededRandom } from '../../lib/random.js'
import type { MemoryTransport } from '../../lib/transport/memory-transport.js'
import type { CacheCluster, CacheOptions } from './cache-cluster.js'

export interface ClusterNodeInit {
  clock?: Clock
  /** Seed of the node's random. */
  seed?: number
  streamHighWaterBytes?: number
  /** The transport's frame limit (as `maxFrameBytes` would set on a real socket). */
  maxFrameBytes?: number
}

export interface ClusterNode {
  node: Bcache<unknown>
  transport: MemoryTransport
}

/** Starts a node joining `opts.peers` (default: the cluster's first node). */
export async function addClusterNode(cluster: CacheCluster, opts: CacheOptions, init: ClusterNodeInit = {}): Promise<ClusterNode> {
  const transport = cluster.net.bind(undefined, {
    ...(init.streamHighWaterBytes === undefined ? {} : { streamHighWaterBytes: init.streamHighWaterBytes }),
    ...(init.maxFrameBytes === undefined ? {} : { maxFrameBytes: init.maxFrameBytes })
  })
  const peers = opts.peers ?? (cluster.nodes.length > 0 ? [cluster.nodes[0]!.address] : [])
  const p = Bcache.create<unknown>(
    { maxKeys: 100_000, profile: 'lan', ...opts, peers, listenAddr: undefined as unknown as string },
    {
      transport,
      clock: init.clock ?? cluster.clock,
      random: seededRandom(init.seed ?? 1),
      defer: (fn) => cluster.clock.setTimeout(fn, 0)
    }
  )
  const node = await cluster.settle(p)
  cluster.nodes.push(node)
  return { node, transport }
}
