/**
 * chaos-node: one Bcache node in its own process, over a `FaultTransport`
 * wrapping the real `UdpTcpTransport`, driven over IPC by the chaos suite
 * (spawn it with `tools/chaos-cluster.ts`).
 *
 * Options: --listen host:port (default 127.0.0.1:0), --join a,b,
 * --node-id ID, --profile lan|local|wan, --max-keys N, --seed N (the fault
 * stage's random; default: Math.random).
 *
 * To the parent: {type:'ready', nodeId, address} once created (joined and
 * synced), then {type:'reply', id, result | error} for every request
 * {id, cmd, ...}, and {type:'event', event, nodeId, state, at} for every
 * 'fail' and every 'update' to 'suspect' this node sees. Commands: see
 * `handlers` below. Exits when the parent goes away (IPC disconnect).
 */
import { createHash } from 'node:crypto'
import { parseArgs } from 'node:util'
import { Bcache, FaultTransport, seededRandom, UdpTcpTransport, type PacketFaults, type ProfileName } from '../lib/index.js'

const { values } = parseArgs({
  options: {
    listen: { type: 'string', default: '127.0.0.1:0' },
    join: { type: 'string', default: '' },
    'node-id': { type: 'string' },
    profile: { type: 'string', default: 'local' },
    'max-keys': { type: 'string', default: '1000000' },
    seed: { type: 'string' }
  }
})

/** One write the parent asks for; `value` absent = delete. */
export interface ChaosOp {
  key: string
  value?: string
}

type Req = { id: number; cmd: string } & Record<string, unknown>

function send(msg: unknown): void {
  if (process.send !== undefined && process.connected) process.send(msg)
}

/** Blocks the event loop for `ms` (a GC pause, a slow handler, an overloaded host). */
function busy(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) { /* spin */ }
}

/** sha256 over `key \0 value \n` of every present key, in the order given (the parent sorts). */
function digestOf(cache: Bcache<string>, keys: string[]): { digest: string; present: number } {
  const h = createHash('sha256')
  let present = 0
  for (const k of keys) {
    const v = cache.get(k)
    if (v === undefined) continue
    present++
    h.update(k).update('\0').update(v).update('\n')
  }
  return { digest: h.digest('hex'), present }
}

function handlers(cache: Bcache<string>, transport: FaultTransport): Record<string, (r: Req) => unknown> {
  let stallTimer: NodeJS.Timeout | undefined
  const stalls: number[] = []
  return {
    /** Applies `ops` in order, synchronously; the reply is the acknowledgement. */
    write(r) {
      for (const op of r.ops as ChaosOp[]) {
        if (op.value === undefined) cache.delete(op.key)
        else cache.set(op.key, op.value)
      }
      return { applied: (r.ops as ChaosOp[]).length }
    },
    /** Digest of the given keys' current values (see `digestOf`), and the live key count. */
    digest(r) {
      return { ...digestOf(cache, r.keys as string[]), keys: cache.stats().keys }
    },
    /** Current values of `keys` (null when absent), for diagnostics. */
    values(r) {
      return (r.keys as string[]).map((k) => cache.get(k) ?? null)
    },
    /** Sets datagram faults (see `PacketFaults`); `{}` clears them. */
    faults(r) {
      const f = r.faults as Partial<PacketFaults>
      if (Object.keys(f).length === 0) transport.clearFaults()
      else transport.setFaults(f)
      return transport.getFaults()
    },
    /** Blocks exactly `addrs` (partition); `heal` unblocks all. */
    isolate(r) {
      transport.isolate(r.addrs as string[])
      return transport.blockedAddresses()
    },
    heal() {
      transport.heal()
      return []
    },
    /**
     * Stalls the event loop for a random `minMs..maxMs` every `everyMs`
     * until `stopStall`. Returns at once.
     */
    stall(r) {
      const minMs = r.minMs as number, maxMs = r.maxMs as number, everyMs = r.everyMs as number
      clearInterval(stallTimer)
      stallTimer = setInterval(() => {
        const ms = minMs + Math.random() * (maxMs - minMs)
        stalls.push(ms)
        busy(ms)
      }, everyMs)
      return { started: true }
    },
    stopStall() {
      clearInterval(stallTimer)
      stallTimer = undefined
      return { stalls: stalls.length, totalMs: stalls.reduce((a, b) => a + b, 0), maxMs: Math.max(0, ...stalls) }
    },
    members() {
      return cache.members()
    },
    stats() {
      const s = cache.stats()
      return {
        keys: s.keys, tombstones: s.tombstones, evictions: s.evictions, expirations: s.expirations,
        replication: s.replication, dropped: s.dropped, faults: transport.faultStats(),
        alive: cache.members().filter((m) => m.state === 'alive').length
      }
    }
  }
}

async function main(): Promise<void> {
  const [host, port] = splitAddress(values.listen!)
  const random = values.seed === undefined ? Math.random : seededRandom(Number(values.seed))
  const transport = new FaultTransport(await UdpTcpTransport.bind({ host, port }), { random })
  const cache = await Bcache.create<string>({
    listenAddr: transport.address,
    peers: values.join!.split(',').filter((s) => s.length > 0),
    ...(values['node-id'] !== undefined ? { nodeId: values['node-id'] } : {}),
    maxKeys: Number(values['max-keys']),
    profile: values.profile as ProfileName,
    statsInterval: 0
  }, { transport })
  const h = handlers(cache, transport)
  process.on('message', (msg: Req) => {
    const fn = h[msg.cmd]
    if (fn === undefined) return send({ type: 'reply', id: msg.id, error: `unknown command ${msg.cmd}` })
    Promise.resolve()
      .then(() => fn(msg))
      .then((result) => send({ type: 'reply', id: msg.id, result }), (err: unknown) => send({ type: 'reply', id: msg.id, error: String(err) }))
  })
  const at = (): number => performance.timeOrigin + performance.now()
  cache.on('fail', (m) => send({ type: 'event', event: 'fail', nodeId: m.nodeId, state: m.state, at: at() }))
  cache.on('update', (m) => {
    if (m.state === 'suspect') send({ type: 'event', event: 'suspect', nodeId: m.nodeId, state: m.state, at: at() })
  })
  const bye = (): void => void cache.close().finally(() => process.exit(0))
  process.on('disconnect', bye)
  process.on('SIGTERM', bye)
  send({ type: 'ready', nodeId: cache.nodeId, address: cache.address })
}

function splitAddress(addr: string): [string, number] {
  const i = addr.lastIndexOf(':')
  return [addr.slice(0, i).replace(/^\[|\]$/g, ''), Number(addr.slice(i + 1))]
}

main().catch((err: unknown) => {
  console.error(`chaos-node: ${String(err)}`)
  process.exit(1)
})
