/**
 * Runs one scenario: starts the nodes, applies every operation in order
 * (virtual time `gapMs` passes before each), checks on the spot what can be
 * checked on the spot (a write is visible on its writer at once and is
 * captured at set time), then heals every fault, runs to quiescence and
 * hands the final state to `invariants.ts`. Every node is closed at the end
 * and the shared clock must have no timer left.
 */
import { packValue } from '../../lib/store/value-codec.js'
import { sizeOf } from '../../lib/store/entry.js'
import { SimCluster, type SimNode } from './cluster.js'
import { checkAcksSettled, checkFinal, converged } from './invariants.js'
import { acksNeeded } from '../../lib/replication/acked-writes.js'
import { canon, materialize, mutate, show, type Fault, type Op, type Scenario } from './model.js'
import { Oracle } from './oracle.js'
import { startFill } from './fills.js'
import { checkFetchesSettled, markOwnerDown, markPendingDown, recordFaultViews, recordView, startFetch } from './partition-checks.js'

/** Runs `scenario`; the oracle holds the trace and the violations. */
export async function runScenario(scenario: Scenario): Promise<Oracle> {
  const o = new Oracle()
  const sim = new SimCluster(scenario.netSeed)
  if (scenario.replicas !== undefined) sim.replicas = scenario.replicas
  o.log(`family ${scenario.family}, ${scenario.nodes.length} nodes, ${scenario.ops.length} ops, netSeed ${scenario.netSeed}${scenario.replicas === undefined ? '' : `, replicas ${scenario.replicas}`}`)
  for (const [i, config] of scenario.nodes.entries()) {
    const peers = sim.live().slice(0, 1).map((n) => n.transport.address)
    const node = await sim.start(config, `n${i}`, peers)
    o.log(node instanceof Error ? `start n${i} refused: ${node.message}` : `start #${node.idx} n${i} ${describe(config)}`)
    recordView(sim, o)
  }
  for (const [i, op] of scenario.ops.entries()) {
    if (op.gapMs > 0) {
      o.turn++
      await sim.drive(op.gapMs)
    }
    if (sim.live().length === 0) break
    await apply(sim, o, op, i)
  }
  heal(sim, o)
  await sim.drive(3000)
  const waited = await untilConverged(sim, o)
  o.log(`quiescence after ${waited} ms`)
  const relayed = sim.all.reduce((n, x) => n + x.cache.stats().replication.relayDatagrams, 0)
  if (relayed > 0) o.log(`  ${relayed} datagrams forwarded by relays`)
  checkFinal(sim, o)
  await sim.closeAll()
  await sim.drive(5000, 50)
  checkAcksSettled(o)
  checkFetchesSettled(o)
  for (const n of sim.all) {
    const after = n.cache.stats().replication.antiEntropy.rounds - (n.roundsAtClose ?? 0)
    if (n.roundsAtClose !== undefined && after > 0) o.violate('no-round-after-close', `#${n.idx} completed ${after} anti-entropy rounds after close() was called`)
  }
  const left = sim.base.pending()
  if (left > 0) o.violate('no-timer-left', `${left} timers pending on the shared clock after every node closed`)
  return o
}

function describe(c: Scenario['nodes'][number]): string {
  return `maxKeys=${c.maxKeys} maxBytes=${c.maxBytes} deletionDelay=${c.deletionDelay} ${c.profile} maxValueBytes=${c.maxValueBytes} maxFrameBytes=${c.maxFrameBytes} offset=${c.offsetMs}ms drift=${c.drift} seed=${c.randomSeed}${c.mode === 'replicate' ? '' : ` ${c.mode}`}${c.eagerFanout === 32 ? '' : ` eagerFanout=${c.eagerFanout}`}`
}

/** Runs until the live nodes agree (checked every second), at most 60 s, and past the tombstone purge window. */
async function untilConverged(sim: SimCluster, o: Oracle): Promise<number> {
  const start = sim.base.now()
  const fillsDone = (): boolean => o.fills.every((f) => f.calls.every((c) => c.settledAt !== undefined))
  while (sim.base.now() - start < 60_000 && !(converged(sim, o) && fillsDone())) await sim.drive(1000, 10)
  const shortDelay = Math.min(...sim.live().map((n) => n.config.deletionDelay))
  const purgedBy = o.lastDeleteAt + shortDelay + 8000
  if (shortDelay <= 5000 && sim.base.now() < purgedBy) await sim.drive(purgedBy - sim.base.now(), 10)
  return sim.base.now() - start
}

function pick(sim: SimCluster, n: number): SimNode {
  const live = sim.live()
  return live[n % live.length]!
}

async function apply(sim: SimCluster, o: Oracle, op: Op, i: number): Promise<void> {
  const t = `[${i}] +${op.gapMs}ms`
  switch (op.op) {
    case 'set': return set(sim, o, t, pick(sim, op.node), op.key, materialize(op.value, o.writes.length), op.ttl, op.mutate)
    case 'setAcked': return setAcked(sim, o, t, op)
    case 'del': return del(sim, o, t, pick(sim, op.node), op.key)
    case 'clear': return clear(o, t, pick(sim, op.node), op.prefix)
    case 'burst': {
      const node = pick(sim, op.node)
      o.log(`${t} burst of ${op.count} sets of ${op.bytes} bytes on #${node.idx} over ${op.keys} keys`)
      const pad = 'x'.repeat(op.bytes)
      for (let k = 0; k < op.count; k++) set(sim, o, '', node, `b${(i * 7919 + k) % op.keys}`, { w: o.writes.length, p: pad }, undefined, false)
      return
    }
    case 'delBurst': {
      const node = pick(sim, op.node)
      o.log(`${t} ${op.count} deletes on #${node.idx} (keys d${op.from}..)`)
      for (let k = 0; k < op.count; k++) del(sim, o, '', node, `d${op.from + k}`)
      return
    }
    case 'fill': return startFill(sim, o, t, op, i)
    case 'crash':
    case 'close': {
      if (sim.live().length <= 2) return o.log(`${t} ${op.op} skipped (2 nodes left)`)
      const node = pick(sim, op.node)
      // What its push streams still hold (queued, or sent but unread) a crash loses: those writes
      // are at risk too, whatever turn made them (README: the at-risk window).
      const inFlight = node.cache.stats().replication.pushQueuedBytes + node.transport.bufferedBytes()
      // Relayed pushes (relay family) are as safe as their relays: one that died undetected forwards
      // nothing, and its group waits for the writer's gossip — which a crash also stops. With a handful
      // of groups every live holder can be in such a group, so writes within a detection window are at risk.
      const relayed = node.config.eagerFanout < 32
      const since = op.op !== 'crash' ? undefined : relayed ? sim.base.now() - 30_000 : inFlight > 0 ? sim.base.now() - 5000 : undefined
      o.markAtRisk(node.idx, since)
      o.log(`${t} ${op.op} #${node.idx} ${node.nodeId}`)
      markOwnerDown(sim, o, node)
      markPendingDown(sim, o, node)
      if (op.op === 'crash') sim.crash(node)
      else sim.close(node)
      return recordView(sim, o)
    }
    case 'restart': return restart(sim, o, t).then(() => recordView(sim, o))
    case 'join': return join(sim, o, t, op).then(() => recordView(sim, o))
    case 'fetch': return startFetch(sim, o, t, pick(sim, op.node), op.key, i)
    case 'fault': return fault(sim, o, t, op.fault)
    case 'heal': return heal(sim, o, t)
  }
}

type Write = (key: string, value: unknown, ttl: number | undefined) => void

function set(sim: SimCluster, o: Oracle, t: string, node: SimNode, key: string, value: unknown, ttl: number | undefined, mut: boolean, write?: Write): void {
  const snapshot = canon(value)
  const id = o.writes.length
  try {
    if (write !== undefined) write(key, value, ttl)
    else node.cache.set(key, value, ttl === undefined ? undefined : { ttl })
  } catch (err) {
    if (t !== '') o.log(`${t} set #${node.idx} ${JSON.stringify(key)} refused: ${(err as Error).message}`)
    return
  }
  const entry = SimCluster.entry(node, key)
  const got = canon(node.cache.get(key))
  const visible = got === snapshot
  const packed = packValue(value)
  o.writes.push({
    id, key, node: node.idx, del: false, canon: snapshot, bytes: packed.length, size: sizeOf(key, packed),
    expiresAt: entry?.expiresAt ?? 0, version: visible ? entry?.version : undefined,
    at: sim.base.now(), turn: o.turn, epoch: o.faulty || partialView(sim, node) ? -1 : o.faultEpoch, atRisk: false
  })
  if (t !== '') o.log(`${t} set #${node.idx} ${JSON.stringify(key)} = ${show(value)}${ttl === undefined ? '' : ` ttl=${ttl}`}${mut ? ' (mutated after)' : ''} -> w${id}`)
  if (!visible) o.violate('visible-at-once', `w${id}: get(${JSON.stringify(key)}) on writer #${node.idx} right after set returned ${show(node.cache.get(key))}, not ${show(value)} (held version ${JSON.stringify(entry?.version)})`)
  if (!mut) return
  mutate(value)
  const after = canon(node.cache.get(key))
  if (visible && after !== snapshot) o.violate('captured-at-set', `w${id}: mutating the object after set changed what the writer #${node.idx} reads for ${JSON.stringify(key)}`)
}

/** A set through `setAcked`; its outcome is recorded on the write when it settles (oracle.ts: Acknowledged). */
function setAcked(sim: SimCluster, o: Oracle, t: string, op: Extract<Op, { op: 'setAcked' }>): void {
  const node = pick(sim, op.node)
  const internals = node.cache as unknown as { p: { membership: { livePeers(): unknown[] } } }
  const needed = acksNeeded(op.acks, internals.p.membership.livePeers().length + 1)
  let done: Promise<void> | undefined
  const id = o.writes.length
  set(sim, o, `${t} acks=${String(op.acks)} (${needed}) timeoutMs=${op.timeoutMs}`, node, op.key, materialize(op.value, id), op.ttl, false, (key, value, ttl) => {
    const before = node.cache.stats().sets
    done = node.cache.setAcked(key, value, { acks: op.acks, timeoutMs: op.timeoutMs, ...(ttl === undefined ? {} : { ttl }) })
    if (node.cache.stats().sets === before) {
      done.catch(() => {})
      throw new Error('refused before writing')
    }
  })
  const w = o.writes[id]
  if (w === undefined || done === undefined) return
  const ack: NonNullable<typeof w.ack> = { needed }
  w.ack = ack
  done.then(() => {
    ack.outcome = 'resolved'
    ack.downsAtAck = o.downs
    o.log(`  w${id} acked by ${needed}`)
  }, (err: Error & { reason?: string }) => {
    ack.outcome = err.reason ?? err.name
    o.log(`  w${id} not acked: ${ack.outcome}`)
  })
}

function del(sim: SimCluster, o: Oracle, t: string, node: SimNode, key: string): void {
  const id = o.writes.length
  try {
    node.cache.delete(key)
  } catch (err) {
    if (t !== '') o.log(`${t} delete #${node.idx} ${JSON.stringify(key)} refused: ${(err as Error).message}`)
    return
  }
  const entry = SimCluster.entry(node, key)
  const visible = node.cache.get(key) === undefined && entry?.tombstone === true
  const now = node.clock.base.now()
  o.lastDeleteAt = now
  o.writes.push({ id, key, node: node.idx, del: true, canon: '', bytes: 0, size: 0, expiresAt: 0, version: visible ? entry.version : undefined, at: now, turn: o.turn, epoch: o.faulty || partialView(sim, node) ? -1 : o.faultEpoch, atRisk: false })
  if (t !== '') o.log(`${t} delete #${node.idx} ${JSON.stringify(key)} -> w${id}`)
  if (!visible) o.violate('visible-at-once', `w${id}: delete(${JSON.stringify(key)}) on #${node.idx} not visible at once (holds ${JSON.stringify(entry?.version)})`)
}

/** A `clear` is recorded as a delete, at the clear's version, of every key starting with its prefix (oracle.ts). */
function clear(o: Oracle, t: string, node: SimNode, prefix: string | undefined): void {
  const id = 1_000_000 + o.clears.length
  node.cache.clear(prefix === undefined ? undefined : { prefix })
  const p = prefix ?? ''
  const entry = SimCluster.store(node).clearOf(p)
  const left = [...node.cache.keys()].filter((k) => k.startsWith(p))
  const visible = entry !== undefined && left.length === 0
  const now = node.clock.base.now()
  o.lastDeleteAt = now
  o.clears.push({ id, key: p, prefix: p, perKey: new Map(), node: node.idx, del: true, canon: '', bytes: 0, size: 0, expiresAt: 0, version: visible ? entry.version : undefined, at: now, turn: o.turn, epoch: o.faulty ? -1 : o.faultEpoch, atRisk: false })
  o.log(`${t} clear #${node.idx}${prefix === undefined ? '' : ` prefix ${JSON.stringify(prefix)}`} -> w${id}`)
  if (!visible) o.violate('visible-at-once', `w${id}: clear(${JSON.stringify(p)}) on #${node.idx} not visible at once (keys left: ${left.join(', ')})`)
}

async function restart(sim: SimCluster, o: Oracle, t: string): Promise<void> {
  const dead = sim.all.find((n) => !n.alive && !n.replaced)
  if (dead === undefined) return o.log(`${t} restart skipped (no dead node)`)
  await sim.settle(dead.closing ?? Promise.resolve(), 10_000)
  dead.replaced = true
  const peers = sim.live().slice(0, 1).map((n) => n.transport.address)
  const node = await sim.start(dead.config, dead.nodeId, peers, dead.transport.address)
  o.log(node instanceof Error ? `${t} restart ${dead.nodeId} failed: ${node.message}` : `${t} restart #${dead.idx} as #${node.idx} ${node.nodeId}`)
  // A restart that failed to join still ran: peers that saw it as their key's owner may have handed it writes, gone with it.
  if (node instanceof Error) markOwnerDown(sim, o, dead)
}

async function join(sim: SimCluster, o: Oracle, t: string, op: Extract<Op, { op: 'join' }>): Promise<void> {
  const dupOf = op.duplicateIdOf === undefined ? undefined : pick(sim, op.duplicateIdOf)
  const nodeId = dupOf?.nodeId ?? `n${sim.all.length}j`
  const seed = sim.live()[0]
  const peers = seed === undefined ? [] : [seed.transport.address]
  // The seed can only refuse an id it believes alive: after a partition it may hold the other node dead.
  const seedSeesDupAlive = dupOf !== undefined && seed?.cache.members().some((m) => m.nodeId === dupOf.nodeId && m.address === dupOf.transport.address && (m.state === 'alive' || m.state === 'suspect')) === true
  const node = await sim.start(op.config, nodeId, peers)
  if (node instanceof Error) return o.log(`${t} join ${nodeId} refused: ${node.message}`)
  o.log(`${t} join #${node.idx} ${nodeId} ${describe(op.config)}`)
  if (dupOf !== undefined && dupOf.alive && !seedSeesDupAlive) {
    o.log(`${t} (the seed held ${nodeId}'s first node dead or unknown: the join was accepted)`)
    sim.close(node)
  } else if (dupOf !== undefined && dupOf.alive) {
    o.violate('unique-node-id', `#${node.idx} joined with node id ${nodeId} of the live node #${dupOf.idx}: accepted silently`)
    sim.close(node)
  }
}

function fault(sim: SimCluster, o: Oracle, t: string, f: Fault): void {
  const live = sim.live()
  o.faulty = true
  o.faultEpoch++
  switch (f.f) {
    case 'loss': sim.net.setConditions({ lossRate: f.rate }); recordFaultViews(sim, o, f); break
    case 'dup': sim.net.setConditions({ duplicateRate: f.rate }); break
    case 'delay': sim.net.setConditions({ minDelayMs: f.minMs, maxDelayMs: f.maxMs }); break
    case 'partition': {
      const k = 1 + (f.cut % Math.max(1, live.length - 1))
      const addrs = live.map((n) => n.transport.address)
      sim.net.partition(addrs.slice(0, k), addrs.slice(k))
      recordFaultViews(sim, o, f, [live.slice(0, k), live.slice(k)])
      return o.log(`${t} partition {${live.slice(0, k).map((n) => `#${n.idx}`)}} | {${live.slice(k).map((n) => `#${n.idx}`)}}`)
    }
    case 'block': {
      const [a, b] = [pick(sim, f.from), pick(sim, f.to)]
      if (a === b) return o.log(`${t} block skipped (one node)`)
      sim.net.block(a.transport.address, b.transport.address)
      recordFaultViews(sim, o, f)
      return o.log(`${t} block #${a.idx} -> #${b.idx}`)
    }
    case 'stall': {
      const n = pick(sim, f.node)
      n.transport.pauseReading()
      return o.log(`${t} #${n.idx} stops reading its streams`)
    }
  }
  o.log(`${t} fault ${JSON.stringify(f)}`)
}

function heal(sim: SimCluster, o: Oracle, t = 'end:'): void {
  sim.net.heal()
  sim.net.setConditions({ lossRate: 0, duplicateRate: 0, minDelayMs: 0, maxDelayMs: 0 })
  for (const n of sim.all) if (n.transport.readingPaused) n.transport.resumeReading()
  if (o.faulty) o.faultEndedAt = sim.base.now()
  o.faulty = false
  o.log(`${t} heal every fault`)
}

/**
 * Partition mode: whether the writer does not see every live node as up (a
 * join or a heal it has not learned of). Its write then never reaches those
 * nodes, and a near copy there may stay older until `nearCacheTtl` (README
 * "Partition mode", not guaranteed): judged as a write exposed to a fault.
 * Other modes repair such writes by anti-entropy and are judged as before.
 */
function partialView(sim: SimCluster, node: SimNode): boolean {
  if (node.config.mode !== 'partition') return false
  const seen = new Set(node.cache.members().filter((m) => m.state !== 'dead' && m.state !== 'left').map((m) => m.nodeId))
  return sim.live().some((n) => !seen.has(n.nodeId))
}
