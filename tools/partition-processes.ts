/**
 * Spawns and drives partition-node processes (see partition-node.ts) for
 * the partition benchmarks: request/reply over IPC. Every child is tracked
 * and killed by `killAllPartitionNodes()` (and by {@link runPartitionBenchmark}
 * at the end, on error and on Ctrl-C); children also exit on their own when
 * this process goes away (IPC disconnect).
 */
import type { ChildProcess } from 'node:child_process'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { ChildRegistry } from './child-registry.js'
import { startCluster, startNodeProcess } from './node-process.js'
import { pollUntil } from './wait.js'

const script = fileURLToPath(new URL('./partition-node.js', import.meta.url))
const children = new ChildRegistry()
process.on('exit', () => children.killSync())

/** A running partition node. */
export interface PartitionProcess {
  child: ChildProcess
  nodeId: string
  address: string
  /** Epoch ms just before `Bcache.create()` and when it resolved (after the initial segment pull). */
  createStartAt: number
  createdAt: number
  /** Sends `{cmd, ...args}` and resolves with the reply's result. */
  call<T = unknown>(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>
}

/** What the `status` command returns (the parts the benchmarks read). */
export interface NodeStatus {
  at: number
  keys: number
  members: number
  transport: { packetBytesIn: number; packetBytesOut: number; streamBytesIn: number; streamBytesOut: number }
  partition: { ownedSegments: number; handedOff: number; pendingHandOff: number; sync: { rounds: number; bytesOut: number; entriesOut: number; entriesIn: number; differing: number } }
}

/** Forks one partition node (`args`: partition-node options); resolves once it is created. */
export async function spawnPartitionNode(args: string[], readyTimeoutMs = 300_000): Promise<PartitionProcess> {
  const p = await startNodeProcess({
    script, args, execArgv: ['--max-old-space-size=6144', '--enable-source-maps'], label: 'partition node', registry: children,
    readyTimeoutMs, callTimeoutMs: 600_000
  })
  const ready = p.ready as unknown as { nodeId: string; address: string; createStartAt: number; createdAt: number }
  return { child: p.child, nodeId: ready.nodeId, address: ready.address, createStartAt: ready.createStartAt, createdAt: ready.createdAt, call: p.call }
}

/** Starts nodes p0..p(n-1): p0 alone, the others joining it, each with `extraArgs`. */
export function spawnPartitionCluster(n: number, extraArgs: string[]): Promise<PartitionProcess[]> {
  return startCluster(n, (i, join) => spawnPartitionNode(['--node-id', `p${i}`, ...(join !== undefined ? ['--join', join] : []), ...extraArgs]))
}

/** Polls until every node sees `count` alive members (itself included). */
export async function waitForMembers(nodes: PartitionProcess[], count: number, timeoutMs = 30_000): Promise<void> {
  await pollUntil(async () => {
    const views = await Promise.all(nodes.map((n) => n.call<NodeStatus>('status')))
    return views.every((v) => v.members === count)
  }, timeoutMs, () => `partition cluster did not converge to ${count} alive members`)
}

/** Kills every partition node still running and waits for them to exit. */
export function killAllPartitionNodes(): Promise<void> {
  return children.killAll()
}

/** How many partition-node children are still running. */
export const livePartitionNodes = (): number => children.size

/** The 1-, 5- and 15-minute load averages, for the first line of a report. */
export const loadLine = (): string => `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`

/**
 * Runs `main`, then kills every partition node and calls `cleanup` (other
 * children, e.g. redis-server), also on an error (exit 1) and on Ctrl-C /
 * SIGTERM; checks that no partition node is left.
 */
export function runPartitionBenchmark(main: () => Promise<void>, cleanup: () => Promise<void> = async () => {}): void {
  const stop = async (): Promise<void> => { await killAllPartitionNodes(); await cleanup() }
  const bail = (code: number): void => void stop().then(() => process.exit(code))
  process.on('SIGINT', () => bail(130))
  process.on('SIGTERM', () => bail(143))
  main().then(stop, async (err: unknown) => {
    console.error(err)
    await stop()
    process.exit(1)
  }).then(() => {
    if (livePartitionNodes() !== 0) throw new Error(`${livePartitionNodes()} partition nodes still running`)
  }).catch((err: unknown) => {
    console.error(err)
    process.exit(1)
  })
}
