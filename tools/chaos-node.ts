/**
 * chaos-node: one Bcache node in its own process, over a `FaultTransport`
 * wrapping the real `UdpTcpTransport`, driven over IPC by the chaos suite
 * (spawn it with `tools/chaos-cluster.ts`).
 *
 * Options: the shared ones (see `node-child.ts`: --listen, --join,
 * --node-id, --profile, default local), --max-keys N, --seed N (the fault
 * stage's random; default: Math.random), --mode replicate|invalidate|partition,
 * --replicas N (partition mode's owners per key; only with --mode partition),
 * --tuning JSON (overrides of the profile's tuning; default none).
 *
 * To the parent: {type:'ready', nodeId, address} once created (joined and
 * synced), then {type:'reply', id, result | error} for every request
 * {id, cmd, ...}, and {type:'event', event, nodeId, state, at} for every
 * 'fail' and every 'update' to 'suspect' this node sees. Commands: see
 * `handlers` below. Exits when the parent goes away (IPC disconnect).
 */
import { createHash } from 'node:crypto'
import { Bcache, type ReplicationMode, type Tuning } from '../lib/index.js'
import { FaultTransport, seededRandom, UdpTcpTransport, type PacketFaults } from '../lib/testing.js'
import { exitWithParent, parseNodeArgs, runNode, send, serveRequests, type Handlers } from './node-child.js'

const args = parseNodeArgs({ 'max-keys': '1000000', seed: undefined, mode: 'replicate', replicas: undefined, tuning: undefined }, 'local')

/** One write the parent asks for; `value` absent = delete. */
export interface ChaosOp {
  key: string
  value?: string
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

/** Whether the node keeps `key` in its store, not its near cache (no public API says so: the store's live entries). */
function stores(cache: Bcache<string>, key: string): boolean {
  return (cache as unknown as { p: { store: { live: { holds(k: string): boolean } } } }).p.store.live.holds(key)
}

/** Writes, digests and values: what the checker reads and writes. */
function dataHandlers(cache: Bcache<string>): Handlers {
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
    /**
     * Partition mode: the value of each of `keys` this node keeps in its
     * store (as an owner, or its own write not handed off yet), null for a
     * key it does not store (absent, or only in its near cache).
     */
    stored(r) {
      return (r.keys as string[]).map((k) => (stores(cache, k) ? cache.get(k) ?? null : null))
    }
  }
}

/** Datagram faults and partitions, on the fault stage. */
function faultHandlers(transport: FaultTransport): Handlers {
  return {
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
    }
  }
}

/** Event-loop stalls: `stall` starts them, `stopStall` stops them and reports. */
function stallHandlers(): Handlers {
  let stallTimer: NodeJS.Timeout | undefined
  const stalls: number[] = []
  return {
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
    }
  }
}

/** Every command this node answers. */
function handlers(cache: Bcache<string>, transport: FaultTransport): Handlers {
  return {
    ...dataHandlers(cache),
    ...faultHandlers(transport),
    ...stallHandlers(),
    members() {
      return cache.members()
    },
    stats() {
      const s = cache.stats()
      return {
        keys: s.keys, tombstones: s.tombstones, evictions: s.evictions, expirations: s.expirations,
        replication: s.replication, dropped: s.dropped, faults: transport.faultStats(), partition: s.partition,
        alive: cache.members().filter((m) => m.state === 'alive').length
      }
    }
  }
}

async function main(): Promise<void> {
  const [host, port] = splitAddress(args.base.listenAddr)
  const seed = args.maybe('seed')
  const random = seed === undefined ? Math.random : seededRandom(Number(seed))
  const transport = new FaultTransport(await UdpTcpTransport.bind({ host, port }), { random })
  const replicas = args.maybe('replicas'), tuning = args.maybe('tuning')
  const cache = await Bcache.create<string>({
    ...args.base,
    listenAddr: transport.address,
    maxKeys: Number(args.get('max-keys')),
    mode: args.get('mode') as ReplicationMode,
    ...(replicas !== undefined ? { replicas: Number(replicas) } : {}),
    ...(tuning !== undefined ? { tuning: JSON.parse(tuning) as Partial<Tuning> } : {}),
    statsInterval: 0
  }, { transport })
  serveRequests(handlers(cache, transport))
  const at = (): number => performance.timeOrigin + performance.now()
  cache.on('fail', (m) => send({ type: 'event', event: 'fail', nodeId: m.nodeId, state: m.state, at: at() }))
  cache.on('update', (m) => {
    if (m.state === 'suspect') send({ type: 'event', event: 'suspect', nodeId: m.nodeId, state: m.state, at: at() })
  })
  exitWithParent(() => cache.close())
  send({ type: 'ready', nodeId: cache.nodeId, address: cache.address })
}

function splitAddress(addr: string): [string, number] {
  const i = addr.lastIndexOf(':')
  return [addr.slice(0, i).replace(/^\[|\]$/g, ''), Number(addr.slice(i + 1))]
}

runNode('chaos-node', main)
