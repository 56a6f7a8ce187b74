/**
 * The parent side of a node process (member-node, cache-node, chaos-node):
 * start it, wait for its `ready` message, send it requests and match the
 * replies, and forward what else it reports (membership events).
 *
 * Protocol, shared with `node-child.ts`: the child sends `{type:'ready', …}`
 * once, then `{type:'reply', id, result | error}` for every request
 * `{id, cmd, …args}`, and any other message (`{type:'event', …}`) whenever
 * it likes. A request still open when the child exits is rejected.
 *
 * Every child is tracked in the caller's {@link ChildRegistry}, so a tool
 * can kill them all on exit, error or Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import type { ChildRegistry } from './child-registry.js'

/** How to start one node process. */
export interface NodeProcessSpec {
  /** The compiled script (e.g. `member-node.js`). */
  script: string
  /** Its command-line arguments. */
  args: string[]
  /** Node flags before the script. @default process.execArgv (as `fork` does) */
  execArgv?: string[]
  /** Command prefix, e.g. `['ip', 'netns', 'exec', 'ns1']`. @default none */
  wrap?: string[]
  /** Names the node in error messages ("chaos node n3"). */
  label: string
  /** Tracks the child until it exits. */
  registry: ChildRegistry
  /** Longest wait for `ready`; then the child is SIGKILLed and the start rejects. */
  readyTimeoutMs: number
  /** Default timeout of {@link NodeProcess.call}. */
  callTimeoutMs: number
  /** Every message that is neither `ready` nor `reply` (the child's events). */
  onMessage?: (msg: ChildMessage) => void
}

/** A message from a node process. */
export type ChildMessage = { type: string } & Record<string, unknown>

/** A running node process. */
export interface NodeProcess {
  readonly child: ChildProcess
  /** Resolves with the exit code once the process exited. */
  readonly exited: Promise<number | null>
  /** The `ready` message. */
  readonly ready: ChildMessage
  /** True until the process exits. */
  alive(): boolean
  /** Sends `{cmd, ...args}` and resolves with the reply's result (rejects with its error). */
  call<T = unknown>(cmd: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>
}

interface Pending {
  resolve: (v: unknown) => void
  reject: (e: Error) => void
}

let nextId = 1

/** Starts a node process; resolves once it sent `ready`. */
export function startNodeProcess(spec: NodeProcessSpec): Promise<NodeProcess> {
  const [cmd, ...pre] = [...(spec.wrap ?? []), process.execPath]
  const argv = [...pre, ...(spec.execArgv ?? process.execArgv), spec.script, ...spec.args]
  const child = spawn(cmd!, argv, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  spec.registry.track(child)
  let running = true
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    running = false
    resolve(code)
  }))
  const call = replies(child, spec, exited)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${spec.label} not ready within ${spec.readyTimeoutMs} ms`))
    }, spec.readyTimeoutMs)
    child.on('message', (msg: ChildMessage) => {
      if (msg.type !== 'ready') return
      clearTimeout(timer)
      resolve({ child, exited, ready: msg, alive: () => running, call })
    })
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`${spec.label} exited with ${code} before it was ready`))
    })
  })
}

/** Routes the child's replies to their requests (and its other messages to `onMessage`); returns `call`. */
function replies(child: ChildProcess, spec: NodeProcessSpec, exited: Promise<number | null>): NodeProcess['call'] {
  const pending = new Map<number, Pending>()
  child.on('message', (msg: ChildMessage & { id?: number; result?: unknown; error?: string }) => {
    if (msg.type === 'ready') return
    if (msg.type !== 'reply') return spec.onMessage?.(msg)
    const p = pending.get(msg.id!)
    if (p === undefined) return
    pending.delete(msg.id!)
    if (msg.error !== undefined) p.reject(new Error(`${spec.label}: ${msg.error}`))
    else p.resolve(msg.result)
  })
  void exited.then((code) => {
    for (const p of pending.values()) p.reject(new Error(`${spec.label} exited with ${code}`))
    pending.clear()
  })
  return <T>(cmd: string, args: Record<string, unknown> = {}, timeoutMs = spec.callTimeoutMs): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (!child.connected) return reject(new Error(`${spec.label} is gone (${cmd})`))
      const id = nextId++
      const timer = setTimeout(() => {
        pending.delete(id)
        reject(new Error(`${spec.label}: no reply to ${cmd} within ${timeoutMs} ms`))
      }, timeoutMs)
      pending.set(id, {
        resolve: (v) => { clearTimeout(timer); resolve(v as T) },
        reject: (e) => { clearTimeout(timer); reject(e) }
      })
      // A child killed between the connected check and the write fails the send with EPIPE: with a
      // callback that is this call's error, not an 'error' event nobody listens to (an uncaught
      // exception that failed the chaos kill-restart spec once in CI).
      child.send({ ...args, id, cmd }, (err) => {
        if (err === null || !pending.has(id)) return
        pending.get(id)!.reject(err)
        pending.delete(id)
      })
    })
}

/** Starts `n` nodes: node 0 alone, then the others at once, each joining node 0's address. */
export async function startCluster<T extends { address: string }>(n: number, start: (i: number, join: string | undefined) => Promise<T>): Promise<T[]> {
  const first = await start(0, undefined)
  const rest = await Promise.all(Array.from({ length: n - 1 }, (_, i) => start(i + 1, first.address)))
  return [first, ...rest]
}
