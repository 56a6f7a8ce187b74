/**
 * Spawns and drives cache-node processes (see cache-node.ts) for the cache
 * benchmarks: request/reply over IPC. Every child is tracked and killed by
 * `killAllCaches()`; children also exit on their own when this process goes
 * away (IPC disconnect).
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ChildRegistry } from './child-registry.js'

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
let nextId = 1

/** Node flags of every cache-node: a GC for memory readings, room for 1M+ keys. */
const EXEC_ARGV = ['--expose-gc', '--max-old-space-size=6144', '--enable-source-maps']

/** Forks one cache node; resolves once it is created (joined and synced). */
export function spawnCacheNode(args: string[], readyTimeoutMs = 150_000, execArgv: string[] = EXEC_ARGV): Promise<CacheProcess> {
  const child = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv })
  children.track(child)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    resolve(code)
  }))
  const fails: Array<{ nodeId: string; at: number }> = []
  child.on('message', (msg: { type: string; event?: string; nodeId?: string; at?: number }) => {
    if (msg.type === 'event' && msg.event === 'fail') fails.push({ nodeId: msg.nodeId!, at: msg.at! })
  })
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  child.on('message', (msg: { type: string; id?: number; result?: unknown; error?: string }) => {
    if (msg.type !== 'reply') return
    const p = pending.get(msg.id!)
    if (p === undefined) return
    pending.delete(msg.id!)
    if (msg.error !== undefined) p.reject(new Error(msg.error))
    else p.resolve(msg.result)
  })
  void exited.then((code) => {
    for (const p of pending.values()) p.reject(new Error(`cache node exited with ${code}`))
    pending.clear()
  })
  const call = <T>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++
      const timer = setTimeout(() => {
        pending.delete(id)
        reject(new Error(`no reply to ${cmd} within ${timeoutMs} ms`))
      }, timeoutMs)
      pending.set(id, {
        resolve: (v) => { clearTimeout(timer); resolve(v as T) },
        reject: (e) => { clearTimeout(timer); reject(e) }
      })
      if (!child.connected) {
        pending.delete(id)
        clearTimeout(timer)
        reject(new Error(`cache node is gone (${cmd})`))
        return
      }
      child.send({ ...args, id, cmd })
    })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`cache node ${args.join(' ')} not ready within ${readyTimeoutMs} ms`))
    }, readyTimeoutMs)
    child.on('message', (msg: { type: string; nodeId?: string; address?: string; join?: JoinTimes }) => {
      if (msg.type !== 'ready') return
      clearTimeout(timer)
      resolve({ child, nodeId: msg.nodeId!, address: msg.address!, join: msg.join, fails, exited, call })
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`cache node exited with ${code} before it was ready`))
    })
  })
}

/** Starts `n` cache nodes: the first alone, the others joining it. */
export async function spawnCacheCluster(n: number, extraArgs: (i: number) => string[] = () => []): Promise<CacheProcess[]> {
  const first = await spawnCacheNode(['--node-id', 'c0', ...extraArgs(0)])
  const rest = await Promise.all(Array.from({ length: n - 1 }, (_, i) =>
    spawnCacheNode(['--node-id', `c${i + 1}`, '--join', first.address, ...extraArgs(i + 1)])))
  return [first, ...rest]
}

/** Polls until every node sees `count` alive members (itself included). */
export async function waitForCacheMembers(nodes: CacheProcess[], count: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const views = await Promise.all(nodes.map((n) => n.call<{ members: number }>('stats')))
    if (views.every((v) => v.members === count)) return
    if (Date.now() > deadline) throw new Error(`cache cluster did not converge to ${count} alive members`)
    await new Promise((r) => setTimeout(r, 100))
  }
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
