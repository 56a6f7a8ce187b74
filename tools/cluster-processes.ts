/**
 * Spawns and drives member-node processes (see member-node.ts) for the
 * multi-process tests and benchmarks. Every child is tracked and killed by
 * `killAll()`; children also exit on their own when this process goes away.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { MemberInfo } from '../lib/index.js'
import { ChildRegistry } from './child-registry.js'

const script = fileURLToPath(new URL('./member-node.js', import.meta.url))

export interface MemberEventRecord {
  event: 'join' | 'update' | 'leave' | 'fail'
  nodeId: string
  state: string
  at: number
}

export interface NodeProcess {
  child: ChildProcess
  nodeId: string
  address: string
  events: MemberEventRecord[]
  exited: Promise<number | null>
}

const children = new ChildRegistry()

/** Forks one node; resolves once it is bound and joined. */
export function spawnNode(args: string[], readyTimeoutMs = 15_000): Promise<NodeProcess> {
  const child = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  children.track(child)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    resolve(code)
  }))
  const events: MemberEventRecord[] = []
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`node ${args.join(' ')} not ready within ${readyTimeoutMs} ms`))
    }, readyTimeoutMs)
    child.on('message', (msg: { type: string; nodeId?: string; address?: string } & MemberEventRecord) => {
      if (msg.type === 'ready') {
        clearTimeout(timer)
        resolve({ child, nodeId: msg.nodeId!, address: msg.address!, events, exited })
      } else if (msg.type === 'event') {
        events.push({ event: msg.event, nodeId: msg.nodeId, state: msg.state, at: msg.at })
      }
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`node exited with ${code} before it was ready`))
    })
  })
}

/** Asks a node for its member list. */
export function membersOf(node: NodeProcess, timeoutMs = 5_000): Promise<MemberInfo[]> {
  return request(node, 'members', timeoutMs) as Promise<MemberInfo[]>
}

function request(node: NodeProcess, type: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      node.child.off('message', onMsg)
      reject(new Error(`no ${type} reply`))
    }, timeoutMs)
    const onMsg = (msg: { type: string; members?: unknown; stats?: unknown }): void => {
      if (msg.type !== type) return
      clearTimeout(timer)
      node.child.off('message', onMsg)
      resolve(msg.members ?? msg.stats)
    }
    node.child.on('message', onMsg)
    node.child.send({ type })
  })
}

/** Starts `n` nodes: the first alone, the others joining it. */
export async function spawnCluster(n: number, extraArgs: (i: number) => string[] = () => []): Promise<NodeProcess[]> {
  const first = await spawnNode(['--node-id', 'n0', ...extraArgs(0)])
  const rest = await Promise.all(Array.from({ length: n - 1 }, (_, i) =>
    spawnNode(['--node-id', `n${i + 1}`, '--join', first.address, ...extraArgs(i + 1)])))
  return [first, ...rest]
}

/** Polls until every node sees `count` alive members. */
export async function waitForAlive(nodes: NodeProcess[], count: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const views = await Promise.all(nodes.map((n) => membersOf(n)))
    if (views.every((v) => v.filter((m) => m.state === 'alive').length === count)) return
    if (Date.now() > deadline) throw new Error(`cluster did not converge to ${count} alive members`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Kills every child still running and waits for them to exit. */
export async function killAll(): Promise<void> {
  await children.killAll()
}
