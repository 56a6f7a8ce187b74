/**
 * member-node: one membership node in its own process, driven over IPC.
 * Used by the multi-process tests and the failure-detection benchmark
 * (spawn it with `child_process.fork`).
 *
 * Options: --listen host:port (default 127.0.0.1:0), --join a,b,
 * --node-id ID, --profile lan|local|wan, --tuning JSON,
 * --stall-ms N --stall-every-ms M (busy-loop the event loop N ms every M ms).
 *
 * To the parent: {type:'ready', nodeId, address}, then
 * {type:'event', event, nodeId, state, at} for every membership event
 * (`at` = Date.now() in this process). From the parent: {type:'members'}
 * (answered with {type:'members', members}), {type:'stats'}, {type:'leave'}
 * (graceful leave, then exit 0). Exits when the parent goes away.
 */
import { parseArgs } from 'node:util'
import { startMembership, type Membership, type MemberEvent, type ProfileName } from '../lib/index.js'

const { values } = parseArgs({
  options: {
    listen: { type: 'string', default: '127.0.0.1:0' },
    join: { type: 'string', default: '' },
    'node-id': { type: 'string' },
    profile: { type: 'string', default: 'lan' },
    tuning: { type: 'string', default: '{}' },
    'stall-ms': { type: 'string', default: '0' },
    'stall-every-ms': { type: 'string', default: '1000' }
  }
})

function send(msg: unknown): void {
  if (process.send !== undefined && process.connected) process.send(msg)
}

async function main(): Promise<void> {
  const node: Membership = await startMembership({
    listenAddr: values.listen!,
    peers: values.join!.split(',').filter((s) => s.length > 0),
    ...(values['node-id'] !== undefined ? { nodeId: values['node-id'] } : {}),
    profile: values.profile as ProfileName,
    tuning: JSON.parse(values.tuning!) as Record<string, never>
  })
  for (const event of ['join', 'update', 'leave', 'fail'] as MemberEvent[]) {
    node.on(event, (m) => send({ type: 'event', event, nodeId: m.nodeId, state: m.state, at: Date.now() }))
  }
  const stallMs = Number(values['stall-ms'])
  if (stallMs > 0) {
    setInterval(() => {
      const until = Date.now() + stallMs
      while (Date.now() < until) { /* busy: stall the event loop on purpose */ }
    }, Number(values['stall-every-ms']))
  }
  const stop = async (code: number): Promise<never> => {
    await node.leave().catch(() => {})
    await node.shutdown()
    process.exit(code)
  }
  process.on('message', (msg: { type?: string }) => {
    if (msg.type === 'members') send({ type: 'members', members: node.members() })
    else if (msg.type === 'stats') send({ type: 'stats', stats: node.stats() })
    else if (msg.type === 'leave') void stop(0)
  })
  process.on('disconnect', () => void node.shutdown().then(() => process.exit(0)))
  process.on('SIGTERM', () => void stop(0))
  send({ type: 'ready', nodeId: node.nodeId, address: node.address })
}

main().catch((err: unknown) => {
  console.error(`member-node: ${String(err)}`)
  process.exit(1)
})
