/**
 * The child side of a node process (member-node, cache-node, chaos-node):
 * the command-line options every node shares, and the IPC request loop
 * (see `node-process.ts` for the protocol).
 *
 * Shared options: --listen host:port (default 127.0.0.1:0), --join a,b,
 * --node-id ID, --profile lan|local|wan. Each node adds its own.
 */
import { parseArgs } from 'node:util'
import type { ProfileName } from '../lib/index.js'

/** What every node is started with: the fields of `startMembership` / `Bcache.create` they set. */
export interface NodeBase {
  listenAddr: string
  peers: string[]
  nodeId?: string
  profile: ProfileName
}

/** Parsed command line of a node. */
export interface NodeArgs {
  base: NodeBase
  /** The value of one of the node's own options (its default when not given). */
  get(name: string): string
  /** Like `get`, for an option without a default. */
  maybe(name: string): string | undefined
}

/**
 * Parses the shared options plus `own` (name → default, `undefined` = no
 * default). Unknown options throw, as `parseArgs` does.
 */
export function parseNodeArgs(own: Record<string, string | undefined>, profileDefault: ProfileName): NodeArgs {
  const options: Record<string, { type: 'string'; default?: string }> = {
    listen: { type: 'string', default: '127.0.0.1:0' },
    join: { type: 'string', default: '' },
    'node-id': { type: 'string' },
    profile: { type: 'string', default: profileDefault }
  }
  for (const [name, def] of Object.entries(own)) options[name] = def === undefined ? { type: 'string' } : { type: 'string', default: def }
  const values = parseArgs({ options }).values as Record<string, string | undefined>
  const nodeId = values['node-id']
  const base: NodeBase = {
    listenAddr: values['listen']!,
    peers: values['join']!.split(',').filter((s) => s.length > 0),
    ...(nodeId !== undefined ? { nodeId } : {}),
    profile: values['profile'] as ProfileName
  }
  return { base, get: (name) => values[name]!, maybe: (name) => values[name] }
}

/** Sends `msg` to the parent, if it is still there. */
export function send(msg: unknown): void {
  if (process.send !== undefined && process.connected) process.send(msg)
}

/** A request from the parent. */
export type Req = { id: number; cmd: string } & Record<string, unknown>

/** Command name → what it does; the result (or a promise of it) is the reply. */
export type Handlers = Record<string, (r: Req) => Promise<unknown> | unknown>

/** Answers every request from the parent with `handlers` (an unknown command or a throw is an error reply). */
export function serveRequests(handlers: Handlers): void {
  process.on('message', (msg: Req) => {
    const fn = handlers[msg.cmd]
    if (fn === undefined) return send({ type: 'reply', id: msg.id, error: `unknown command ${msg.cmd}` })
    Promise.resolve()
      .then(() => fn(msg))
      .then((result) => send({ type: 'reply', id: msg.id, result }), (err: unknown) => send({ type: 'reply', id: msg.id, error: String(err) }))
  })
}

/** Runs `close` then exits 0 when the parent goes away (IPC disconnect) or on SIGTERM. */
export function exitWithParent(onDisconnect: () => Promise<unknown>, onTerm: () => Promise<unknown> = onDisconnect): void {
  const bye = (close: () => Promise<unknown>) => (): void => void close().finally(() => process.exit(0))
  process.on('disconnect', bye(onDisconnect))
  process.on('SIGTERM', bye(onTerm))
}

/** Runs a node's `main`; a failure is printed as `name: error` and exits 1. */
export function runNode(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(`${name}: ${String(err)}`)
    process.exit(1)
  })
}
