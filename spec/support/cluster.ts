/**
 * Test harness: many membership nodes on one in-memory network, driven by a
 * manual clock and seeded randomness. Deterministic: the same seed gives the
 * same run.
 */
import { silentLogger } from '../../lib/logger.js'
import { Membership } from '../../lib/membership/membership.js'
import type { MembershipDelegate } from '../../lib/membership/delegate.js'
import type { MemberInfo } from '../../lib/membership/member-table.js'
import { resolveTuning, type MembershipTuning, type ProfileName } from '../../lib/options.js'
import { seededRandom } from '../../lib/random.js'
import { MemoryNetwork } from '../../lib/transport/memory-network.js'
import { VirtualTime } from './virtual-time.js'

export { flush } from './virtual-time.js'

export interface NodeOptions {
  nodeId?: string
  address?: string
  profile?: ProfileName
  tuning?: Partial<MembershipTuning>
  delegate?: MembershipDelegate
}

export class Cluster extends VirtualTime {
  readonly net: MemoryNetwork
  readonly nodes: Membership[] = []
  private readonly random: () => number
  private count = 0

  constructor(
    seed = 1,
    private readonly defaults: { profile?: ProfileName; tuning?: Partial<MembershipTuning> } = {}
  ) {
    super(10)
    this.random = seededRandom(seed)
    this.net = new MemoryNetwork({ clock: this.clock, random: seededRandom(seed * 7919 + 1) })
  }

  /** Binds and starts a node (does not join). */
  add(opts: NodeOptions = {}): Membership {
    const i = this.count++
    const transport = this.net.bind(opts.address)
    const tuning = resolveTuning(opts.profile ?? this.defaults.profile ?? 'lan', { ...this.defaults.tuning, ...opts.tuning })
    const node = new Membership(
      {
        transport,
        clock: this.clock,
        random: seededRandom(Math.floor(this.random() * 2 ** 31)),
        logger: silentLogger,
        ...(opts.delegate !== undefined ? { delegate: opts.delegate } : {})
      },
      { ...tuning, nodeId: opts.nodeId ?? `node-${i}`, advertiseAddr: transport.address }
    )
    node.start()
    this.nodes.push(node)
    return node
  }

  /** Starts `n` nodes; each joins through the first. Runs until all see all alive. */
  async start(n: number, opts: NodeOptions = {}): Promise<Membership[]> {
    const first = this.nodes.length
    for (let i = 0; i < n; i++) this.add(opts)
    const seed = this.nodes[0]!.address
    const joins = this.nodes.slice(first).map((node) => node.join([seed]))
    await this.settle(Promise.all(joins))
    const ok = await this.until(() => this.nodes.every((a) => this.nodes.every((b) => state(a, b.nodeId) === 'alive')), 30_000)
    if (ok < 0) throw new Error('cluster did not converge')
    return this.nodes.slice(first)
  }




  /** Crashes a node: stops it without a leave (its sockets vanish). */
  async crash(node: Membership): Promise<void> {
    await this.settle(node.shutdown())
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.shutdown()))
  }
}

/** What `observer` believes about `nodeId` (undefined when unknown). */
export function state(observer: Membership, nodeId: string): MemberInfo['state'] | undefined {
  return observer.members().find((m) => m.nodeId === nodeId)?.state
}
