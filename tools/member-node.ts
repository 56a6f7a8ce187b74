/**
 * member-node: one membership node in its own process, driven over IPC.
 * Used by the multi-process tests and the failure-detection benchmark
 * (spawn it with `tools/cluster-processes.ts`).
 *
 * Options: the shared ones (see `node-child.ts`: --listen, --join,
 * --node-id, --profile, default lan), --tuning JSON,
 * --stall-ms N --stall-every-ms M (busy-loop the event loop N ms every M ms).
 *
 * To the parent: {type:'ready', nodeId, address}, then
 * {type:'event', event, nodeId, state, at} for every membership event
 * (`at` = Date.now() in this process), and a reply to every request
 * (see `node-process.ts`). Commands: `members`, `stats`, `leave` (graceful
 * leave, then exit 0). Exits when the parent goes away.
 */
import { startMembership, type Membership, type MemberEvent } from '../lib/membership-entry.js'
import { exitWithParent, parseNodeArgs, runNode, send, serveRequests } from './node-child.js'

const args = parseNodeArgs({ tuning: '{}', 'stall-ms': '0', 'stall-every-ms': '1000' }, 'lan')

/** Busy-loops the event loop `stallMs` every `everyMs` (0: never). */
function stallEvery(stallMs: number, everyMs: number): void {
  if (stallMs <= 0) return
  setInterval(() => {
    const until = Date.now() + stallMs
    while (Date.now() < until) { /* busy: stall the event loop on purpose */ }
  }, everyMs)
}

async function main(): Promise<void> {
  const node: Membership = await startMembership({
    ...args.base,
    tuning: JSON.parse(args.get('tuning')) as Record<string, never>
  })
  for (const event of ['join', 'update', 'leave', 'fail'] as MemberEvent[]) {
    node.on(event, (m) => send({ type: 'event', event, nodeId: m.nodeId, state: m.state, at: Date.now() }))
  }
  stallEvery(Number(args.get('stall-ms')), Number(args.get('stall-every-ms')))
  const leave = async (): Promise<void> => {
    await node.leave().catch(() => {})
    await node.shutdown()
  }
  serveRequests({
    members: () => node.members(),
    stats: () => node.stats(),
    leave: () => void leave().finally(() => process.exit(0))
  })
  exitWithParent(() => node.shutdown(), leave)
  send({ type: 'ready', nodeId: node.nodeId, address: node.address })
}

runNode('member-node', main)
