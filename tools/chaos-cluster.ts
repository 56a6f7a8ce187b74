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
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { MemberInfo, PacketFaults } from '../lib/index.js'
import { ChildRegistry } from './child-registry.js'

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
let nextId = 1
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

/** Starts one chaos node; resolves once it has joined and synced. */
export function spawnChaosNode(opts: ChaosSpawnOptions, events: ChaosEvent[] = []): Promise<ChaosNode> {
  hookExit()
  const args = [
    '--enable-source-maps', script,
    '--node-id', opts.nodeId,
    '--listen', opts.listen ?? '127.0.0.1:0',
    '--profile', opts.profile ?? 'local',
    '--join', (opts.join ?? []).join(',')
  ]
  const [cmd, ...pre] = [...(opts.wrap ?? []), process.execPath]
  const child = spawn(cmd!, [...pre, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  children.track(child)
  let running = true
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    running = false
    resolve(code)
  }))
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  child.on('message', (msg: { type: string; id?: number; result?: unknown; error?: string; event?: string; nodeId?: string; at?: number }) => {
    if (msg.type === 'event') {
      events.push({ event: msg.event as ChaosEvent['event'], by: opts.nodeId, nodeId: msg.nodeId!, at: msg.at! })
      return
    }
    if (msg.type !== 'reply') return
    const p = pending.get(msg.id!)
    if (p === undefined) return
    pending.delete(msg.id!)
    if (msg.error !== undefined) p.reject(new Error(`${opts.nodeId}: ${msg.error}`))
    else p.resolve(msg.result)
  })
  void exited.then((code) => {
    for (const p of pending.values()) p.reject(new Error(`chaos node ${opts.nodeId} exited with ${code}`))
    pending.clear()
  })
  const call = <T>(cmd: string, extra: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (!child.connected) return reject(new Error(`chaos node ${opts.nodeId} is gone (${cmd})`))
      const id = nextId++
      const timer = setTimeout(() => {
        pending.delete(id)
        reject(new Error(`${opts.nodeId}: no reply to ${cmd} within ${timeoutMs} ms`))
      }, timeoutMs)
      pending.set(id, {
        resolve: (v) => { clearTimeout(timer); resolve(v as T) },
        reject: (e) => { clearTimeout(timer); reject(e) }
      })
      child.send({ ...extra, id, cmd })
    })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`chaos node ${opts.nodeId} not ready within ${opts.readyTimeoutMs ?? 20_000} ms`))
    }, opts.readyTimeoutMs ?? 20_000)
    child.on('message', (msg: { type: string; address?: string }) => {
      if (msg.type !== 'ready') return
      clearTimeout(timer)
      resolve({
        nodeId: opts.nodeId,
        address: msg.address!,
        options: opts,
        child,
        exited,
        alive: () => running,
        call,
        setFaults: (faults) => call('faults', { faults }),
        isolate: (addrs) => call('isolate', { addrs }),
        heal: () => call('heal'),
        members: () => call('members')
      })
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`chaos node ${opts.nodeId} exited with ${code} before it was ready`))
    })
  })
}

/**
 * Starts `n` nodes `${prefix}0..n-1` on 127.0.0.1 (or per `listen(i)`): the
 * first alone, the others joining it.
 */
export async function spawnChaosCluster(
  n: number,
  events: ChaosEvent[],
  opts: { prefix?: string; profile?: ChaosSpawnOptions['profile']; listen?: (i: number) => string; wrap?: (i: number) => string[] } = {}
): Promise<ChaosNode[]> {
  const spec = (i: number): ChaosSpawnOptions => ({
    nodeId: `${opts.prefix ?? 'n'}${i}`,
    ...(opts.profile !== undefined ? { profile: opts.profile } : {}),
    ...(opts.listen !== undefined ? { listen: opts.listen(i) } : {}),
    ...(opts.wrap !== undefined ? { wrap: opts.wrap(i) } : {})
  })
  const first = await spawnChaosNode(spec(0), events)
  const rest = await Promise.all(Array.from({ length: n - 1 }, (_, i) => spawnChaosNode({ ...spec(i + 1), join: [first.address] }, events)))
  return [first, ...rest]
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
export async function waitForAliveMembers(nodes: ChaosNode[], count: number, timeoutMs = 20_000): Promise<number> {
  const t0 = Date.now()
  for (;;) {
    const views = await Promise.all(nodes.map((n) => n.members()))
    if (views.every((v) => v.filter((m) => m.state === 'alive').length === count)) return Date.now() - t0
    if (Date.now() - t0 > timeoutMs) {
      const seen = views.map((v, i) => `${nodes[i]!.nodeId}: ${v.filter((m) => m.state === 'alive').map((m) => m.nodeId).join(',')}`)
      throw new Error(`members did not converge to ${count} alive within ${timeoutMs} ms (${seen.join('; ')})`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** SIGKILLs every chaos node still running and waits for them to exit. */
export async function killAllChaos(): Promise<void> {
  await children.killAll()
}

/** How many chaos nodes are still running. */
export const liveChaosCount = (): number => children.size
