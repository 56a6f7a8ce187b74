/**
 * The simulator's vocabulary: a scenario (node configurations plus a list of
 * operations and faults, all plain data so fast-check can generate, shrink
 * and print it) and the canonical form used to compare values exactly.
 *
 * Operations name nodes by a small integer that is taken modulo the nodes
 * alive when the operation runs, so every shrunk scenario (an operation
 * removed, a node dropped) is still a valid one. `gapMs` is the virtual time
 * that passes before the operation; 0 means "in the same event-loop turn as
 * the previous one" (how bursts and the at-risk window are expressed).
 */

/** One node's configuration, drawn per node. */
export interface NodeConfig {
  maxKeys: number
  /** 0 = no byte bound */
  maxBytes: number
  deletionDelay: number
  profile: 'lan' | 'local'
  maxValueBytes: number
  /** Passed to the memory transport (largest frame it reads) and to Bcache. */
  maxFrameBytes: number
  /** This node's clock offset from the shared timeline, ms. */
  offsetMs: number
  /** Clock rate relative to the shared timeline. */
  drift: number
  /** Seed of the node's random(); 0 = a distinct one per process start. Equal seeds on two nodes model a shared seeded generator. */
  randomSeed: number
  /** Stream high-water mark of this node's transport. */
  streamHighWaterBytes: number
  /** What writes carry to the other nodes (every node of a scenario has the same). */
  mode: 'replicate' | 'invalidate' | 'partition'
  /** `tuning.eagerFanout`: below the default, writers push through relays already at a few nodes. */
  eagerFanout: number
}

/** A value as generated: `wrap` puts it in `{ w: writeId, v }` so the write can be identified. */
export interface ValueSpec {
  wrap: boolean
  v: unknown
}

export type FillKind = 'ok' | 'throw' | 'hang'

export type Fault =
  | { f: 'loss'; rate: number }
  | { f: 'dup'; rate: number }
  | { f: 'delay'; minMs: number; maxMs: number }
  | { f: 'partition'; cut: number }
  | { f: 'block'; from: number; to: number }
  | { f: 'stall'; node: number }

export type Op =
  | { op: 'set'; gapMs: number; node: number; key: string; value: ValueSpec; ttl?: number; mutate: boolean }
  /** `Bcache.setAcked`: a set that also waits for `acks` nodes (its outcome is recorded on the write) */
  | { op: 'setAcked'; gapMs: number; node: number; key: string; value: ValueSpec; ttl?: number; acks: 'all' | 'majority' | number; timeoutMs: number }
  | { op: 'del'; gapMs: number; node: number; key: string }
  /** `Bcache.clear`, of every key (`prefix` absent) or of the keys starting with `prefix` */
  | { op: 'clear'; gapMs: number; node: number; prefix?: string }
  | { op: 'burst'; gapMs: number; node: number; count: number; bytes: number; keys: number }
  | { op: 'delBurst'; gapMs: number; node: number; count: number; from: number }
  | { op: 'fill'; gapMs: number; nodes: number[]; key: string; kind: FillKind; delayMs: number }
  | { op: 'crash'; gapMs: number; node: number }
  | { op: 'close'; gapMs: number; node: number }
  | { op: 'restart'; gapMs: number }
  | { op: 'join'; gapMs: number; config: NodeConfig; duplicateIdOf?: number }
  | { op: 'fault'; gapMs: number; fault: Fault }
  | { op: 'heal'; gapMs: number }
  /** `Bcache.fetch` (partition mode: a read from an owner on a local miss); its result is judged when it settles (partition-checks.ts) */
  | { op: 'fetch'; gapMs: number; node: number; key: string }

export interface Scenario {
  family: string
  nodes: NodeConfig[]
  ops: Op[]
  /** Seed of the network's random (loss, delays). */
  netSeed: number
  /** Partition mode: owners of each key, the same on every node (absent in the other families). */
  replicas?: number
}

/**
 * A canonical string for a value, exact where JSON is not: -0, NaN and
 * Infinity, holes versus undefined versus null in arrays, Buffers and typed
 * arrays by bytes, key order of objects as inserted (msgpack keeps it).
 */
export function canon(v: unknown): string {
  if (v === undefined) return 'u'
  if (v === null) return 'n'
  if (typeof v === 'number') return Object.is(v, -0) ? '#-0' : `#${String(v)}`
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'boolean') return v ? 't' : 'f'
  if (typeof v === 'bigint') return `${v}n`
  if (v instanceof Uint8Array) return `bin:${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`
  if (Array.isArray(v)) {
    const parts: string[] = []
    for (let i = 0; i < v.length; i++) parts.push(i in v ? canon(v[i]) : 'hole')
    return `[${parts.join(',')}]`
  }
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${JSON.stringify(k)}:${canon(x)}`).join(',')}}`
  }
  return `?${typeof v}`
}

/** The value a {@link ValueSpec} stands for in write number `id`. */
export function materialize(spec: ValueSpec, id: number): unknown {
  const v = structuredCloneValue(spec.v)
  return spec.wrap ? { w: id, v } : v
}

/** A deep copy keeping holes, -0 and Buffers (structuredClone turns Buffers into Uint8Arrays). */
function structuredCloneValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v
  if (Buffer.isBuffer(v)) return Buffer.from(v)
  if (Array.isArray(v)) {
    const out: unknown[] = new Array(v.length)
    for (let i = 0; i < v.length; i++) if (i in v) out[i] = structuredCloneValue(v[i])
    return out
  }
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = structuredCloneValue(x)
  return out
}

/** Changes a value in place the way a careless caller would after `set` (objects and arrays only). */
export function mutate(v: unknown): void {
  if (Buffer.isBuffer(v)) {
    if (v.length > 0) v[0] = (v[0]! + 1) & 255
  } else if (Array.isArray(v)) {
    v.push('mutated')
  } else if (v !== null && typeof v === 'object') {
    ;(v as Record<string, unknown>).mutated = true
  }
}

/** A short, readable rendering of a value for traces (long strings and buffers elided). */
export function show(v: unknown, max = 60): string {
  const c = canon(v)
  return c.length <= max ? c : `${c.slice(0, max)}…(${c.length} chars)`
}
