/**
 * Test harness: several Bcache nodes on one in-memory network with a manual
 * clock and seeded randomness. Deterministic for a given seed.
 */
import { Bcache } from '../../lib/bcache.js'
import type { BcacheOptions } from '../../lib/bcache-options.js'
import { seededRandom } from '../../lib/random.js'
import { MemoryNetwork } from '../../lib/transport/memory-network.js'
import { VirtualTime } from './virtual-time.js'

export type CacheOptions = Partial<BcacheOptions>

export class CacheCluster extends VirtualTime {
  readonly net: MemoryNetwork
  readonly nodes: Array<Bcache<unknown>> = []
  private readonly random: () => number
  private count = 0

  constructor(seed = 1, private readonly defaults: CacheOptions = {}) {
    super(5)
    this.random = seededRandom(seed)
    this.net = new MemoryNetwork({ clock: this.clock, random: seededRandom(seed * 31 + 7) })
  }

  /** Starts a node joining `peers` (default: the first node, if any). */
  async add(opts: CacheOptions = {}, address?: string): Promise<Bcache<unknown>> {
    const i = this.count++
    const transport = this.net.bind(address)
    const peers = opts.peers ?? (this.nodes.length > 0 ? [this.nodes[0]!.address] : [])
    const p = Bcache.create<unknown>(
      { maxKeys: 100_000, profile: 'lan', nodeId: `n${i}`, ...this.defaults, ...opts, peers, listenAddr: undefined as unknown as string },
      { transport, clock: this.clock, random: seededRandom(Math.floor(this.random() * 2 ** 31)), defer: (fn) => this.clock.setTimeout(fn, 0) }
    )
    const node = await this.settle(p)
    this.nodes.push(node)
    return node
  }

  async start(n: number, opts: CacheOptions = {}): Promise<Array<Bcache<unknown>>> {
    for (let i = 0; i < n; i++) await this.add(opts)
    const ok = await this.until(() => this.nodes.every((a) => a.members().filter((m) => m.state === 'alive').length === this.nodes.length), 30_000)
    if (ok < 0) throw new Error('cache cluster did not converge')
    return this.nodes
  }




  /** True when every node answers `get` identically for every key in `keys`. */
  agree(keys: readonly string[], nodes = this.nodes): boolean {
    for (const k of keys) {
      const first = JSON.stringify(nodes[0]!.get(k) ?? null)
      for (const n of nodes) if (JSON.stringify(n.get(k) ?? null) !== first) return false
    }
    return true
  }

  async closeAll(): Promise<void> {
    await this.settle(Promise.all(this.nodes.map((n) => n.close())))
  }
}
