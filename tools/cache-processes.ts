/**
 * Spawns and drives cache-node processes (see cache-node.ts) for the cache
 * benchmarks: request/reply over IPC. Every child is tracked and killed by
 * `killAllCaches()`; children also exit on their own when this process goes
 * away (IPC disconnect).
 */
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ChildRegistry } from './child-registry.js'
import { startCluster, startNodeProcess } from './node-process.js'
import { pollUntil } from './wait.js'

const script = fileURLToPath(new URL('./cache-node.js', import.meta.url))

export interface JoinTimes {
  /** From just before `Bcache.create()` until it resolved. */
  createMs: number
  /** Keys held when create() resolved. */
  keysAtCreate: number
  /** From just before create() until the node held --expect-keys keys (undefined: never within 120 s). */
  fullMs: number | undefined
}

export interface CacheProcess {
  child: ChildProcess
  nodeId: string
  address: string
  join: JoinTimes | undefined
  /** Members this node marked dead, with the epoch ms it did. */
  fails: Array<{ nodeId: string; at: number }>
  exited: Promise<number | null>
  /** Sends `{cmd, ...args}` and resolves with the reply's result. */
  call<T = unknown>(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>
}

const children = new ChildRegistry()

/** Node flags of every cache-node: a GC for memory readings, room for 1M+ keys. */
const EXEC_ARGV = ['--expose-gc', '--max-old-space-size=6144', '--enable-source-maps']

/** Forks one cache node; resolves once it is created (joined and synced). */
export async function spawnCacheNode(args: string[], readyTimeoutMs = 150_000, execArgv: string[] = EXEC_ARGV): Promise<CacheProcess> {
  const fails: Array<{ nodeId: string; at: number }> = []
  const p = await startNodeProcess({
    script, args, execArgv, label: 'cache node', registry: children, readyTimeoutMs, callTimeoutMs: 120_000,
    onMessage: (msg) => {
      if (msg.type === 'event' && msg['event'] === 'fail') fails.push({ nodeId: msg['nodeId'] as string, at: msg['at'] as number })
    }
  })
  const ready = p.ready as unknown as { nodeId: string; address: string; join?: JoinTimes }
  return { child: p.child, nodeId: ready.nodeId, address: ready.address, join: ready.join, fails, exited: p.exited, call: p.call }
}

/** Starts `n` cache nodes: the first alone, the others joining it. */
export function spawnCacheCluster(n: number, extraArgs: (i: number) => string[] = () => []): Promise<CacheProcess[]> {
  return startCluster(n, (i, join) => spawnCacheNode(['--node-id', `c${i}`, ...(join !== undefined ? ['--join', join] : []), ...extraArgs(i)]))
}

/** Polls until every node sees `count` alive members (itself included). */
export async function waitForCacheMembers(nodes: CacheProcess[], count: number, timeoutMs = 30_000): Promise<void> {
  await pollUntil(async () => {
    const views = await Promise.all(nodes.map((n) => n.call<{ members: number }>('stats')))
    return views.every((v) => v.members === count)
  }, timeoutMs, () => `cache cluster did not converge to ${count} alive members`)
}

/** Kills every cache node still running and waits for them to exit. */
export async function killAllCaches(): Promise<void> {
  await children.killAll()
}

/** Kills the children on Ctrl-C / SIGTERM, and on a failure of `main`. */
export function runBenchmark(main: () => Promise<void>): void {
  const bail = (code: number): void => void killAllCaches().then(() => process.exit(code))
  process.on('SIGINT', () => bail(130))
  process.on('SIGTERM', () => bail(143))
  main().then(() => killAllCaches(), async (err: unknown) => {
    console.error(err)
    await killAllCaches()
    process.exit(1)
  })
}

/** Small statistics helpers for the benchmark reports. */
export const median = (xs: number[]): number => quantile(xs, 0.5)
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const pos = (s.length - 1) * q
  const lo = Math.floor(pos), hi = Math.ceil(pos)
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo)
}
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
/** How many cache-node children are still running. */
export const liveCacheCount = (): number => children.size
