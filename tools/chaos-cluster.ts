/**
 * Spawns, drives, kills and restarts chaos-node processes (see
 * chaos-node.ts) for the chaos suite: request/reply over IPC, and the
 * membership events ('fail', 'suspect') each node reports.
 *
 * Every child is tracked; `killAllChaos()` SIGKILLs them, and so do this
 * process's 'exit', SIGINT and SIGTERM. Children also exit on their own when
 * the IPC channel closes. A node can run inside a network namespace by
 * passing `wrap` (e.g. `['ip', 'netns', 'exec', 'ns1']`): `ip netns exec`
 * execs node in place, keeping the IPC descriptor, so the pid is node's.
 */
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { MemberInfo, ReplicationMode, Tuning } from '../lib/index.js'
import type { PacketFaults } from '../lib/testing.js'
import { ChildRegistry } from './child-registry.js'
import { startCluster, startNodeProcess } from './node-process.js'
import { pollUntil } from './wait.js'

const script = fileURLToPath(new URL('./chaos-node.js', import.meta.url))

export interface ChaosEvent {
  event: 'fail' | 'suspect'
  /** The node that reported it. */
  by: string
  /** The member it is about. */
  nodeId: string
  at: number
}

export interface ChaosSpawnOptions {
  nodeId: string
  /** "host:port" to bind; port 0 picks one (a restart reuses the one picked). */
  listen?: string
  join?: string[]
  profile?: 'lan' | 'local' | 'wan'
  /** Command prefix, e.g. `['ip', 'netns', 'exec', 'ns1']`. */
  wrap?: string[]
  readyTimeoutMs?: number
  /** The cache's `mode`. @default 'replicate' */
  mode?: ReplicationMode
  /** Partition mode's `replicas` (only with mode 'partition'). @default the library's */
  replicas?: number
  /** Overrides of the profile's tuning. @default none */
  tuning?: Partial<Tuning>
}

export interface ChaosNode {
  readonly nodeId: string
  readonly address: string
  readonly options: ChaosSpawnOptions
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
  /** True until the process exits. */
  alive(): boolean
  call<T = unknown>(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>
  setFaults(faults: Partial<PacketFaults>): Promise<PacketFaults>
  isolate(addrs: string[]): Promise<string[]>
  heal(): Promise<string[]>
  members(): Promise<MemberInfo[]>
}

const children = new ChildRegistry()
let hooked = false

function hookExit(): void {
  if (hooked) return
  hooked = true
  process.once('exit', () => {
    children.killSync()
  })
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      children.killSync()
      process.exit(sig === 'SIGINT' ? 130 : 143)
    })
  }
}

/** The chaos-node command line for `opts`. */
function chaosArgs(opts: ChaosSpawnOptions): string[] {
  return [
    '--node-id', opts.nodeId,
    '--listen', opts.listen ?? '127.0.0.1:0',
    '--profile', opts.profile ?? 'local',
    '--join', (opts.join ?? []).join(','),
    '--mode', opts.mode ?? 'replicate',
    ...(opts.replicas !== undefined ? ['--replicas', String(opts.replicas)] : []),
    ...(opts.tuning !== undefined ? ['--tuning', JSON.stringify(opts.tuning)] : [])
  ]
}

/** Starts one chaos node; resolves once it has joined and synced. */
export async function spawnChaosNode(opts: ChaosSpawnOptions, events: ChaosEvent[] = []): Promise<ChaosNode> {
  hookExit()
  const p = await startNodeProcess({
    script,
    args: chaosArgs(opts),
    execArgv: ['--enable-source-maps'],
    ...(opts.wrap !== undefined ? { wrap: opts.wrap } : {}),
    label: `chaos node ${opts.nodeId}`,
    registry: children,
    readyTimeoutMs: opts.readyTimeoutMs ?? 20_000,
    callTimeoutMs: 10_000,
    onMessage: (msg) => {
      if (msg.type !== 'event') return
      events.push({ event: msg['event'] as ChaosEvent['event'], by: opts.nodeId, nodeId: msg['nodeId'] as string, at: msg['at'] as number })
    }
  })
  const call = p.call
  return {
    nodeId: opts.nodeId,
    address: p.ready['address'] as string,
    options: opts,
    child: p.child,
    exited: p.exited,
    alive: p.alive,
    call,
    setFaults: (faults) => call('faults', { faults }),
    isolate: (addrs) => call('isolate', { addrs }),
    heal: () => call('heal'),
    members: () => call('members')
  }
}

/**
 * Starts `n` nodes `${prefix}0..n-1` on 127.0.0.1 (or per `listen(i)`): the
 * first alone, the others joining it.
 */
export function spawnChaosCluster(
  n: number,
  events: ChaosEvent[],
  opts: {
    prefix?: string; profile?: ChaosSpawnOptions['profile']; listen?: (i: number) => string; wrap?: (i: number) => string[]
    mode?: ChaosSpawnOptions['mode']; replicas?: number; tuning?: Partial<Tuning>
  } = {}
): Promise<ChaosNode[]> {
  const spec = (i: number): ChaosSpawnOptions => ({
    nodeId: `${opts.prefix ?? 'n'}${i}`,
    ...(opts.mode !== undefined ? { mode: opts.mode } : {}),
    ...(opts.replicas !== undefined ? { replicas: opts.replicas } : {}),
    ...(opts.tuning !== undefined ? { tuning: opts.tuning } : {}),
    ...(opts.profile !== undefined ? { profile: opts.profile } : {}),
    ...(opts.listen !== undefined ? { listen: opts.listen(i) } : {}),
    ...(opts.wrap !== undefined ? { wrap: opts.wrap(i) } : {})
  })
  return startCluster(n, (i, join) => spawnChaosNode({ ...spec(i), ...(join !== undefined ? { join: [join] } : {}) }, events))
}

/** SIGKILLs one node and waits for it to exit. */
export async function killChaosNode(node: ChaosNode): Promise<void> {
  if (!node.alive()) return
  node.child.kill('SIGKILL')
  await node.exited
}

/** Restarts a killed node at the same address and node id, joining `seeds`. */
export function restartChaosNode(node: ChaosNode, seeds: string[], events: ChaosEvent[]): Promise<ChaosNode> {
  return spawnChaosNode({ ...node.options, listen: node.address, join: seeds }, events)
}

/** Polls until every node sees exactly `count` alive members; returns the ms it took. */
export function waitForAliveMembers(nodes: ChaosNode[], count: number, timeoutMs = 20_000): Promise<number> {
  let views: MemberInfo[][] = []
  return pollUntil(async () => {
    views = await Promise.all(nodes.map((n) => n.members()))
    return views.every((v) => v.filter((m) => m.state === 'alive').length === count)
  }, timeoutMs, () => {
    const seen = views.map((v, i) => `${nodes[i]!.nodeId}: ${v.filter((m) => m.state === 'alive').map((m) => m.nodeId).join(',')}`)
    return `members did not converge to ${count} alive within ${timeoutMs} ms (${seen.join('; ')})`
  })
}

/** SIGKILLs every chaos node still running and waits for them to exit. */
export async function killAllChaos(): Promise<void> {
  await children.killAll()
}

/** How many chaos nodes are still running. */
export const liveChaosCount = (): number => children.size
