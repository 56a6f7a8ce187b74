/**
 * Spawns and drives member-node processes (see member-node.ts) for the
 * multi-process tests and benchmarks. Every child is tracked and killed by
 * `killAll()`; children also exit on their own when this process goes away.
 */
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { MemberInfo } from '../lib/index.js'
import { ChildRegistry } from './child-registry.js'
import { startCluster, startNodeProcess, type NodeProcess as Proc } from './node-process.js'
import { pollUntil } from './wait.js'

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
  /** Sends a request (`members`, `stats`, `leave`) and resolves with the reply. */
  call: Proc['call']
}

const children = new ChildRegistry()

/** Forks one node; resolves once it is bound and joined. */
export async function spawnNode(args: string[], readyTimeoutMs = 15_000): Promise<NodeProcess> {
  const events: MemberEventRecord[] = []
  const p = await startNodeProcess({
    script, args, label: `node ${args.join(' ')}`, registry: children, readyTimeoutMs, callTimeoutMs: 5_000,
    onMessage: (msg) => {
      if (msg.type !== 'event') return
      const e = msg as unknown as MemberEventRecord
      events.push({ event: e.event, nodeId: e.nodeId, state: e.state, at: e.at })
    }
  })
  return { child: p.child, nodeId: p.ready['nodeId'] as string, address: p.ready['address'] as string, events, exited: p.exited, call: p.call }
}

/** Asks a node for its member list. */
export function membersOf(node: NodeProcess, timeoutMs = 5_000): Promise<MemberInfo[]> {
  return node.call<MemberInfo[]>('members', {}, timeoutMs)
}

/** Starts `n` nodes: the first alone, the others joining it. */
export function spawnCluster(n: number, extraArgs: (i: number) => string[] = () => []): Promise<NodeProcess[]> {
  return startCluster(n, (i, join) => spawnNode(['--node-id', `n${i}`, ...(join !== undefined ? ['--join', join] : []), ...extraArgs(i)]))
}

/** Polls until every node sees `count` alive members. */
export async function waitForAlive(nodes: NodeProcess[], count: number, timeoutMs = 30_000): Promise<void> {
  await pollUntil(async () => {
    const views = await Promise.all(nodes.map((n) => membersOf(n)))
    return views.every((v) => v.filter((m) => m.state === 'alive').length === count)
  }, timeoutMs, () => `cluster did not converge to ${count} alive members`)
}

/** Kills every child still running and waits for them to exit. */
export async function killAll(): Promise<void> {
  await children.killAll()
}
