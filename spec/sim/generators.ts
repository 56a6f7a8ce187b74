/**
 * fast-check arbitraries for simulator scenarios. One family per kind of
 * defect, so a fixed seed of each family keeps exercising it (see
 * `sim.spec.ts`); `mixed` draws any family. A family sets the weights of the
 * operations and the ranges of the node configurations; everything else is
 * shared (in `stall`, bursts come from the first live node and the stalled
 * reader is the second, so a writer keeps pushing toward a peer that stopped
 * reading). The `partition` family also draws `replicas`, once per
 * scenario. All choices are plain data, so fast-check shrinks a failing
 * scenario by dropping operations, nodes and faults and by simplifying
 * values, keys and sizes.
 */
import fc from 'fast-check'
import type { Fault, NodeConfig, Op, Scenario, ValueSpec } from './model.js'

export const FAMILIES = ['baseline', 'configs', 'ttl', 'bursts', 'values', 'tombstones', 'stall', 'random', 'skew', 'fill', 'churn', 'acked', 'invalidate', 'relay', 'partition'] as const
export type Family = (typeof FAMILIES)[number] | 'mixed'

/** Keys of ordinary writes: a small pool, so writes to one key collide. */
export const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7']
/** Keys of the `values` family: unicode, lone surrogates, a long key. */
export const EXOTIC_KEYS = [...KEYS.slice(0, 4), 'ключ', '键🔑', 'e\u0301', '\uD800x', 'y\uDC00', 'L'.repeat(300)]

const MiB = 1024 * 1024

interface Shape {
  /** operation weights */
  w: Partial<Record<Op['op'] | 'fault', number>>
  nodes: [number, number]
  ops: [number, number]
  config?: Partial<Record<keyof NodeConfig, fc.Arbitrary<number | string>>>
  /** burst sizes: [min, max] count and [min, max] bytes per value @default [[200, 3000], [10, 2000]] */
  burst?: [[number, number], [number, number]]
  /** fault weights (absent kinds: 1) */
  faults?: Partial<Record<Fault['f'], number>>
}

const SHAPES: Record<(typeof FAMILIES)[number], Shape> = {
  // no known trigger: one configuration, plain values, short TTLs, distinct seeds, small skew; faults and churn
  baseline: { w: { set: 10, del: 3, clear: 2, fault: 3, heal: 2, crash: 1, restart: 1 }, nodes: [3, 6], ops: [10, 40], config: { maxKeys: fc.constant(100_000), maxBytes: fc.constant(0), maxValueBytes: fc.constant(64 * 1024), maxFrameBytes: fc.constant(16 * MiB), deletionDelay: fc.constant(300_000), offsetMs: fc.integer({ min: -2000, max: 2000 }) }, faults: { stall: 0 } },
  configs: { w: { set: 4, del: 1, burst: 4, fault: 4, heal: 2 }, nodes: [3, 6], ops: [10, 40], config: { maxKeys: fc.constantFrom(20, 50, 100_000), maxBytes: fc.constantFrom(0, 0, 200_000) }, burst: [[50, 500], [10, 500]], faults: { partition: 6, block: 2, stall: 0 } },
  ttl: { w: { set: 10, del: 1, fault: 3, heal: 1 }, nodes: [3, 5], ops: [10, 30] },
  bursts: { w: { set: 2, burst: 6, fault: 1, heal: 1 }, nodes: [3, 5], ops: [4, 12], config: { maxFrameBytes: fc.constantFrom(256 * 1024, MiB), maxValueBytes: fc.constantFrom(4096, 64 * 1024) } },
  values: { w: { set: 12, del: 1, fault: 1 }, nodes: [3, 4], ops: [10, 40] },
  tombstones: { w: { delBurst: 6, set: 1, del: 2 }, nodes: [3, 4], ops: [12, 20], config: { deletionDelay: fc.constantFrom(1000, 2000) } },
  stall: { w: { burst: 6, set: 3, fault: 2 }, nodes: [3, 4], ops: [8, 20], burst: [[100, 400], [500, 2000]], faults: { stall: 8 }, config: { maxFrameBytes: fc.constant(MiB), maxValueBytes: fc.constant(16 * 1024), streamHighWaterBytes: fc.constant(64 * 1024) } },
  random: { w: { set: 10, del: 2, fault: 1 }, nodes: [3, 5], ops: [10, 30], config: { randomSeed: fc.constantFrom(1, 2) } },
  skew: { w: { set: 10, del: 2, clear: 2, fault: 1 }, nodes: [3, 5], ops: [10, 30], config: { offsetMs: fc.constantFrom(-180_000, -61_000, 0, 61_000, 180_000, 600_000) } },
  // a healthy network: the fill rules (once per cluster, prompt answers) hold only there
  fill: { w: { fill: 8, set: 2 }, nodes: [3, 5], ops: [4, 16] },
  churn: { w: { set: 8, del: 2, clear: 1, crash: 2, close: 1, restart: 2, join: 2, fault: 1, heal: 1 }, nodes: [3, 5], ops: [10, 30] },
  // acknowledged writes among crashes, closes and faults: a resolved one survives unless as many nodes went down
  acked: { w: { setAcked: 8, set: 2, del: 1, crash: 3, close: 1, restart: 1, fault: 2, heal: 2 }, nodes: [3, 5], ops: [10, 30], config: { maxKeys: fc.constant(100_000), maxBytes: fc.constant(0) } },
  // mode: 'invalidate': writes travel as invalidations; no node may read a value older than the newest write it heard of
  // relayed eager push (k = max(eagerFanout, ceil(sqrt N)) = 2–3 here): writes through relays among faults and churn
  relay: { w: { set: 10, del: 2, burst: 1, clear: 1, fault: 3, heal: 2, crash: 1, restart: 1 }, nodes: [4, 7], ops: [10, 40], config: { eagerFanout: fc.constant(1), maxKeys: fc.constant(100_000), maxBytes: fc.constant(0) } },
  invalidate: { w: { set: 10, del: 2, clear: 1, burst: 1, crash: 1, restart: 1, fault: 3, heal: 2 }, nodes: [3, 5], ops: [10, 30], config: { mode: fc.constant('invalidate'), maxKeys: fc.constant(100_000), maxBytes: fc.constant(0) }, burst: [[50, 300], [10, 200]] },
  // mode: 'partition' (replicas 1–3 per scenario): after quiescence each key's owners among the live nodes store its newest write, non-owners let go, every read is the newest or nothing
  partition: { w: { set: 10, del: 2, clear: 1, burst: 1, fetch: 4, crash: 2, close: 1, restart: 1, join: 1, fault: 3, heal: 2 }, nodes: [3, 6], ops: [10, 35], config: { mode: fc.constant('partition'), maxKeys: fc.constant(100_000), maxBytes: fc.constant(0) }, burst: [[50, 300], [10, 200]] }
}

function configArb(shape: Shape): fc.Arbitrary<NodeConfig> {
  const c = shape.config ?? {}
  const pick = <T>(k: keyof NodeConfig, dflt: fc.Arbitrary<T>): fc.Arbitrary<T> => (c[k] as fc.Arbitrary<T> | undefined) ?? dflt
  return fc.record({
    // eviction (small maxKeys, maxBytes) only in the configs family
    maxKeys: pick('maxKeys', fc.constantFrom(100_000, 10_000)),
    maxBytes: pick('maxBytes', fc.constantFrom(0, 64 * MiB)),
    deletionDelay: pick('deletionDelay', fc.constantFrom(300_000, 120_000, 60_000)),
    profile: pick('profile', fc.constantFrom('lan' as const, 'local' as const)),
    maxValueBytes: pick('maxValueBytes', fc.constantFrom(MiB, 64 * 1024, 4096)),
    maxFrameBytes: pick('maxFrameBytes', fc.constantFrom(16 * MiB, 16 * MiB, 2 * MiB)),
    offsetMs: pick('offsetMs', fc.integer({ min: -2000, max: 2000 })),
    drift: pick('drift', fc.constantFrom(1, 1, 1.0001, 0.9999, 1.001)),
    randomSeed: pick('randomSeed', fc.constant(0)),
    streamHighWaterBytes: pick('streamHighWaterBytes', fc.constantFrom(64 * 1024, 16 * 1024)),
    mode: pick('mode', fc.constant('replicate' as const)), // last, and constants: draw nothing, so other families' seeds are unchanged
    eagerFanout: pick('eagerFanout', fc.constant(32))
  })
}

/** Values of every type `set` accepts, nested, with the exact-round-trip traps (-0, holes, Buffers, surrogates). */
export const valueArb: fc.Arbitrary<unknown> = fc.letrec<{ leaf: unknown; tree: unknown }>((tie) => ({
  leaf: fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.constantFrom('\uD800', 'a\uDC00b', '', 'é', '🔑'),
    fc.double(),
    fc.constantFrom(-0, 0, 2 ** 53, -(2 ** 53), 2 ** 64, 1e308, Number.MIN_VALUE),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 32 }).map((a) => Buffer.from(a))
  ),
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    tie('leaf'),
    fc.array(tie('tree'), { maxLength: 4 }),
    fc.sparseArray(tie('leaf'), { maxLength: 6 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('tree'), { maxKeys: 4 })
  )
})).tree

/** Values that round-trip through JSON too: the other families test replication, not encoding. */
const plainValueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', maxLength: 20 }),
  fc.integer(),
  fc.array(fc.integer(), { maxLength: 4 }),
  fc.dictionary(fc.string({ unit: 'grapheme-ascii', maxLength: 4 }), fc.string({ maxLength: 8 }), { maxKeys: 3 })
)

const valueSpecArb = (exotic: boolean, big: boolean): fc.Arbitrary<ValueSpec> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.record({ wrap: fc.constant(true), v: exotic ? valueArb : plainValueArb }) },
    { weight: exotic ? 2 : 0, arbitrary: fc.record({ wrap: fc.constant(false), v: valueArb }) },
    { weight: big ? 2 : 0, arbitrary: fc.integer({ min: 1000, max: 1_100_000 }).map((n) => ({ wrap: true, v: 'x'.repeat(n) })) }
  )

const ttlArb = fc.oneof(
  fc.integer({ min: 50, max: 5000 }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 40, 1e12, 365 * 24 * 3600_000)
)

const gapArb = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.integer({ min: 1, max: 50 }) }, { weight: 2, arbitrary: fc.integer({ min: 100, max: 3000 }) })

/** Faults, weighted per family: `w` maps a fault kind to its weight (absent: 1). */
const faultArb = (w: Partial<Record<Fault['f'], number>>, stallNode: fc.Arbitrary<number>): fc.Arbitrary<Fault> =>
  fc.oneof(
    ...[
      { weight: w.loss ?? 1, arbitrary: fc.record({ f: fc.constant('loss' as const), rate: fc.constantFrom(0.1, 0.5, 1) }) as fc.Arbitrary<Fault> },
      { weight: w.dup ?? 1, arbitrary: fc.record({ f: fc.constant('dup' as const), rate: fc.constantFrom(0.1, 0.5) }) },
      { weight: w.delay ?? 1, arbitrary: fc.record({ f: fc.constant('delay' as const), minMs: fc.integer({ min: 0, max: 20 }), maxMs: fc.integer({ min: 20, max: 300 }) }) },
      { weight: w.partition ?? 1, arbitrary: fc.record({ f: fc.constant('partition' as const), cut: fc.nat(10) }) },
      { weight: w.block ?? 1, arbitrary: fc.record({ f: fc.constant('block' as const), from: fc.nat(10), to: fc.nat(10) }) },
      { weight: w.stall ?? 1, arbitrary: fc.record({ f: fc.constant('stall' as const), node: stallNode }) }
    ].filter((a) => a.weight > 0)
  )

function setArb(family: (typeof FAMILIES)[number], keys: fc.Arbitrary<string>): fc.Arbitrary<Op> {
  // very large TTLs only where they are the subject, so other families isolate their own defect
  const ttls = family === 'ttl' ? ttlArb : fc.integer({ min: 50, max: 5000 })
  const ttl = fc.oneof({ weight: family === 'ttl' ? 1 : 8, arbitrary: fc.constant(undefined) }, { weight: family === 'ttl' ? 3 : 1, arbitrary: ttls })
  const value = valueSpecArb(family === 'values', family === 'values' || family === 'configs')
  return fc
    .record({ op: fc.constant('set' as const), gapMs: gapArb, node: fc.nat(11), key: keys, value, mutate: family === 'values' ? fc.boolean() : fc.constant(false), ttl })
    .map(({ ttl, ...o }) => (ttl === undefined ? o : { ...o, ttl }))
}

function setAckedArb(keys: fc.Arbitrary<string>): fc.Arbitrary<Op> {
  const acks = fc.constantFrom<'all' | 'majority' | number>('all', 'majority', 'majority', 1, 2, 3, 6)
  const ttl = fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.integer({ min: 50, max: 5000 }) })
  return fc
    .record({ op: fc.constant('setAcked' as const), gapMs: gapArb, node: fc.nat(11), key: keys, value: valueSpecArb(false, false), ttl, acks, timeoutMs: fc.constantFrom(50, 500, 5000) })
    .map(({ ttl, ...o }) => (ttl === undefined ? o : { ...o, ttl }))
}

function opArb(family: (typeof FAMILIES)[number], shape: Shape): fc.Arbitrary<Op> {
  const node = fc.nat(11)
  const keys = fc.constantFrom(...(family === 'values' ? EXOTIC_KEYS : KEYS))
  const b = shape.burst ?? [[200, 3000], [10, 2000]]
  const w = shape.w
  const arbs: Array<{ weight: number; arbitrary: fc.Arbitrary<Op> }> = [
    { weight: w.set ?? 0, arbitrary: setArb(family, keys) },
    { weight: w.setAcked ?? 0, arbitrary: setAckedArb(keys) },
    { weight: w.del ?? 0, arbitrary: fc.record({ op: fc.constant('del' as const), gapMs: gapArb, node, key: keys }) },
    { weight: w.clear ?? 0, arbitrary: fc.record({ op: fc.constant('clear' as const), gapMs: gapArb, node, prefix: fc.constantFrom('k', 'k1', 'k3', 'x') }, { requiredKeys: ['op', 'gapMs', 'node'] }) },
    { weight: w.burst ?? 0, arbitrary: fc.record({ op: fc.constant('burst' as const), gapMs: gapArb, node: family === 'stall' ? fc.constant(0) : node, count: fc.integer({ min: b[0][0], max: b[0][1] }), bytes: fc.integer({ min: b[1][0], max: b[1][1] }), keys: fc.constantFrom(500, 2000) }) },
    { weight: w.delBurst ?? 0, arbitrary: fc.record({ op: fc.constant('delBurst' as const), gapMs: fc.integer({ min: 200, max: 1000 }), node, count: fc.integer({ min: 2000, max: 5000 }), from: fc.nat(100_000) }) },
    { weight: w.fill ?? 0, arbitrary: fc.record({ op: fc.constant('fill' as const), gapMs: gapArb, nodes: fc.array(node, { minLength: 1, maxLength: 4 }), key: fc.constantFrom('f0', 'f1', 'f2'), kind: fc.constantFrom('ok' as const, 'throw' as const, 'hang' as const), delayMs: fc.integer({ min: 0, max: 300 }) }) },
    { weight: w.crash ?? 0, arbitrary: fc.record({ op: fc.constant('crash' as const), gapMs: gapArb, node }) },
    { weight: w.close ?? 0, arbitrary: fc.record({ op: fc.constant('close' as const), gapMs: gapArb, node }) },
    { weight: w.restart ?? 0, arbitrary: fc.record({ op: fc.constant('restart' as const), gapMs: gapArb }) },
    { weight: w.join ?? 0, arbitrary: fc.record({ op: fc.constant('join' as const), gapMs: gapArb, config: configArb(shape), duplicateIdOf: fc.option(node, { nil: undefined, freq: 3 }) }, { requiredKeys: ['op', 'gapMs', 'config'] }) },
    { weight: w.fault ?? 0, arbitrary: fc.record({ op: fc.constant('fault' as const), gapMs: gapArb, fault: faultArb(shape.faults ?? {}, family === 'stall' ? fc.constant(1) : node) }) },
    { weight: w.heal ?? 0, arbitrary: fc.record({ op: fc.constant('heal' as const), gapMs: gapArb }) },
    { weight: w.fetch ?? 0, arbitrary: fc.record({ op: fc.constant('fetch' as const), gapMs: gapArb, node, key: keys }) }
  ]
  return fc.oneof(...arbs.filter((a) => a.weight > 0))
}

/** The scenarios of one family (or of any family, for `mixed`). */
export function scenarioArb(family: Family): fc.Arbitrary<Scenario> {
  if (family === 'mixed') return fc.constantFrom(...FAMILIES).chain((f) => scenarioArb(f))
  const shape = SHAPES[family]
  const scenario = fc.record({
    family: fc.constant(family),
    nodes: fc.array(configArb(shape), { minLength: shape.nodes[0], maxLength: shape.nodes[1] }),
    ops: fc.array(opArb(family, shape), { minLength: shape.ops[0], maxLength: shape.ops[1] }),
    netSeed: fc.integer({ min: 1, max: 2 ** 30 })
  })
  // drawn after the rest, and only here: the other families' seeds stay as they were
  if (family !== 'partition') return scenario
  return fc.tuple(scenario, fc.integer({ min: 1, max: 3 })).map(([s, replicas]) => ({ ...s, replicas }))
}
