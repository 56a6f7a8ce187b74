/**
 * bcache-bench's command line: `node:util` parseArgs, validation with
 * messages that name the flag, and the sweep's
 * combinations (every tuning flag may be a comma-separated list). The
 * --help text is bench-usage.ts.
 */
import { accessSync, constants, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { ProfileName, Tuning } from '../lib/index.js'

/** A bad command line; the CLI prints the message and exits with 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

export type Mode = 'cluster' | 'in-process' | 'join' | 'simulate'

/** The tuning options that may be swept, as lists. */
export interface Sweep {
  gossipNodes?: number[]
  gossipIntervalMs?: number[]
  retransmitMult?: number[]
  packetBudgetBytes?: number[]
}

export interface BenchConfig {
  mode: Mode
  /** One size, except with --simulate (a list of cluster sizes). */
  nodes: number[]
  join: string | undefined
  durationSeconds: number
  /** Writes per second, the whole cluster (split evenly over the writers). */
  rate: number
  /** Reads per write (from --read-ratio R:W). */
  readsPerWrite: number
  keys: number
  distribution: 'uniform' | 'zipf'
  valueBytes: number
  ttlSharePercent: number
  ttlSeconds: number
  deleteSharePercent: number
  /** Number of writing nodes (nodes 0 .. writers-1); `undefined` = all. */
  writers: number | undefined
  profile: ProfileName
  sweep: Sweep
  lossPercent: number
  kill: boolean
  json: boolean
  chart: string | undefined
  seed: number
  convergeTimeoutSeconds: number
  help: boolean
}

export { START_PRESET, USAGE } from './bench-usage.js'
import { START_PRESET } from './bench-usage.js'


const OPTIONS = {
  nodes: { type: 'string' }, 'in-process': { type: 'boolean' }, join: { type: 'string' }, profile: { type: 'string' },
  kill: { type: 'boolean' }, duration: { type: 'string' }, rate: { type: 'string' }, writers: { type: 'string' },
  'read-ratio': { type: 'string' }, keys: { type: 'string' }, distribution: { type: 'string' }, 'value-size': { type: 'string' },
  'ttl-share': { type: 'string' }, ttl: { type: 'string' }, 'delete-share': { type: 'string' }, seed: { type: 'string' },
  'converge-timeout': { type: 'string' }, 'gossip-nodes': { type: 'string' }, 'gossip-interval': { type: 'string' },
  'retransmit-mult': { type: 'string' }, 'packet-budget': { type: 'string' }, simulate: { type: 'boolean' },
  loss: { type: 'string' }, json: { type: 'boolean' }, chart: { type: 'string' }, preset: { type: 'string' },
  help: { type: 'boolean', short: 'h' }
} as const

function num(flag: string, s: string, min: number, max: number, integer: boolean): number {
  const x = s.trim() === '' ? NaN : Number(s)
  if (!Number.isFinite(x) || (integer && !Number.isInteger(x)) || x < min || x > max) {
    throw new UsageError(`--${flag} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got '${s}'`)
  }
  return x
}

function list(flag: string, s: string | undefined, min: number, max: number): number[] | undefined {
  if (s === undefined) return undefined
  const xs = s.split(',').map((p) => num(flag, p.trim(), min, max, true))
  if (new Set(xs).size !== xs.length) throw new UsageError(`--${flag} lists a value twice: '${s}'`)
  return xs
}

/**
 * `--rate -5` as `--rate=-5`: parseArgs refuses a value that starts with a
 * dash as ambiguous; a negative number is a value, so the range check can
 * name the flag and say what is allowed.
 */
function joinNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!, next = argv[i + 1]
    const name = a.startsWith('--') ? a.slice(2) : undefined
    const isString = name !== undefined && (OPTIONS as Record<string, { type: string }>)[name]?.type === 'string'
    if (isString && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${a}=${next}`)
      i++
    } else {
      out.push(a)
    }
  }
  return out
}

/** The flags as given, with `--preset` expanded (flags given explicitly win). */
function readValues(argv: readonly string[]) {
  let parsed
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv), options: OPTIONS, strict: true, allowPositionals: false })
  } catch (err) {
    throw new UsageError((err as Error).message.split('\n')[0]!)
  }
  const v = parsed.values
  if (v.preset === undefined) return v
  if (v.preset !== 'start') throw new UsageError(`--preset must be 'start', got '${v.preset}'`)
  return { ...parseArgs({ args: [...START_PRESET], options: OPTIONS, strict: true }).values, ...v }
}

type Values = ReturnType<typeof readValues>

/** The run mode (at most one of --simulate, --in-process, --join) and the node counts it allows. */
function modeAndNodes(v: Values): { mode: Mode; nodes: number[] } {
  const modes = [v.simulate === true && 'simulate', v['in-process'] === true && 'in-process', v.join !== undefined && 'join'].filter((m) => m !== false)
  if (modes.length > 1) throw new UsageError(`--${modes[0]} and --${modes[1]} cannot be combined`)
  const mode: Mode = (modes[0] as Mode | undefined) ?? 'cluster'
  const nodes = mode === 'simulate'
    ? list('nodes', v.nodes ?? '10,100', 2, 100_000)!
    : [num('nodes', v.nodes ?? '5', 2, 64, true)]
  return { mode, nodes }
}

/** Flags that only some modes support. */
function checkModeFlags(v: Values, mode: Mode): void {
  if (v.join !== undefined && !/^[^:\s]+:\d{1,5}$/.test(v.join)) throw new UsageError(`--join must be HOST:PORT, got '${v.join}'`)
  if (v.kill === true && mode === 'in-process') throw new UsageError('--kill needs child processes (a node in this process cannot be SIGKILLed)')
  if (v.kill === true && mode === 'join') throw new UsageError('--kill needs a cluster this tool started (not --join)')
}

/** The workload's shape: profile, key distribution, reads per write, TTL and delete shares. */
function workloadOf(v: Values): Pick<BenchConfig, 'profile' | 'distribution' | 'readsPerWrite' | 'ttlSharePercent' | 'deleteSharePercent'> {
  const profile = v.profile ?? 'lan'
  if (!['lan', 'local', 'wan'].includes(profile)) throw new UsageError(`--profile must be lan, local or wan, got '${profile}'`)
  const distribution = v.distribution ?? 'uniform'
  if (distribution !== 'uniform' && distribution !== 'zipf') throw new UsageError(`--distribution must be uniform or zipf, got '${distribution}'`)
  const ratio = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(v['read-ratio'] ?? '1:1')
  if (ratio === null || Number(ratio[2]) === 0) throw new UsageError(`--read-ratio must be R:W with W > 0, e.g. 9:1, got '${v['read-ratio']}'`)
  const ttlSharePercent = num('ttl-share', v['ttl-share'] ?? '0', 0, 100, false)
  const deleteSharePercent = num('delete-share', v['delete-share'] ?? '0', 0, 100, false)
  if (ttlSharePercent + deleteSharePercent > 100) throw new UsageError('--ttl-share plus --delete-share must not exceed 100')
  return { profile: profile as ProfileName, distribution, readsPerWrite: Number(ratio[1]) / Number(ratio[2]), ttlSharePercent, deleteSharePercent }
}

/** The swept tuning lists. */
function sweepOf(v: Values, mode: Mode): Sweep {
  const sweep: Sweep = {}
  const gn = list('gossip-nodes', v['gossip-nodes'], 0, 1000)
  const gi = list('gossip-interval', v['gossip-interval'], 1, 86_400_000)
  const rm = list('retransmit-mult', v['retransmit-mult'], 1, 1000)
  const pb = list('packet-budget', v['packet-budget'], 64, 65_000)
  if (gn !== undefined) sweep.gossipNodes = gn
  if (gi !== undefined) sweep.gossipIntervalMs = gi
  if (rm !== undefined) sweep.retransmitMult = rm
  if (pb !== undefined && mode === 'simulate') throw new UsageError('--packet-budget is not modelled by --simulate')
  if (pb !== undefined) sweep.packetBudgetBytes = pb
  return sweep
}

/** Parses argv (without node and script). Throws UsageError on anything wrong. */
export function parseBenchArgs(argv: readonly string[]): BenchConfig {
  const v = readValues(argv)
  const { mode, nodes } = modeAndNodes(v)
  checkModeFlags(v, mode)
  const w = workloadOf(v)
  const writers = v.writers === undefined || v.writers === 'all' ? undefined : num('writers', v.writers, 1, 64, true)
  if (writers !== undefined && writers > nodes[0]! && mode !== 'simulate') throw new UsageError(`--writers ${writers} exceeds --nodes ${nodes[0]}`)
  if (v.chart !== undefined && !v.chart.endsWith('.svg')) throw new UsageError(`--chart must name an .svg file, got '${v.chart}'`)
  const sweep = sweepOf(v, mode)
  return {
    mode,
    nodes,
    join: v.join,
    durationSeconds: num('duration', v.duration ?? '10', 0.5, 86_400, false),
    rate: num('rate', v.rate ?? '1000', 1, 1_000_000, false),
    readsPerWrite: w.readsPerWrite,
    keys: num('keys', v.keys ?? '10000', 1, 10_000_000, true),
    distribution: w.distribution,
    valueBytes: num('value-size', v['value-size'] ?? '100', 1, 1_048_576, true),
    ttlSharePercent: w.ttlSharePercent,
    ttlSeconds: num('ttl', v.ttl ?? '60', 0.001, 86_400, false),
    deleteSharePercent: w.deleteSharePercent,
    writers,
    profile: w.profile,
    sweep,
    lossPercent: num('loss', v.loss ?? '0', 0, 100, false),
    kill: v.kill === true,
    json: v.json === true,
    chart: v.chart,
    seed: num('seed', v.seed ?? '1', 0, 2 ** 31, true),
    convergeTimeoutSeconds: num('converge-timeout', v['converge-timeout'] ?? '30', 0, 3600, false),
    help: v.help === true
  }
}

/**
 * Checks before any run that the chart can be written: its directory exists,
 * is a directory and is writable, and the path is not a directory itself.
 * Returns the absolute path; throws UsageError naming --chart.
 */
export function checkChartPath(path: string): string {
  const abs = resolve(path)
  const dir = dirname(abs)
  let isDir: boolean
  try {
    isDir = statSync(dir).isDirectory()
  } catch {
    throw new UsageError(`--chart: directory ${dir} does not exist`)
  }
  if (!isDir) throw new UsageError(`--chart: ${dir} is not a directory`)
  try {
    accessSync(dir, constants.W_OK)
  } catch {
    throw new UsageError(`--chart: directory ${dir} is not writable`)
  }
  let target
  try {
    target = statSync(abs)
  } catch {
    return abs // a new file
  }
  if (target.isDirectory()) throw new UsageError(`--chart: ${abs} is a directory`)
  try {
    accessSync(abs, constants.W_OK)
  } catch {
    throw new UsageError(`--chart: ${abs} exists and is not writable`)
  }
  return abs
}

/** Every combination of the swept lists (one empty combination when nothing is swept). */
export function combinations(sweep: Sweep): Array<Partial<Tuning>> {
  let out: Array<Partial<Tuning>> = [{}]
  for (const [key, values] of Object.entries(sweep) as Array<[keyof Sweep, number[] | undefined]>) {
    if (values === undefined) continue
    out = out.flatMap((t) => values.map((x) => ({ ...t, [key]: x })))
  }
  return out
}

const SHORT: Record<string, string> = { gossipNodes: 'nodes', gossipIntervalMs: 'interval', retransmitMult: 'mult', packetBudgetBytes: 'budget' }

/** A short label of one combination: "nodes=3 interval=50" ("defaults" when empty). */
export function label(t: Partial<Tuning>): string {
  const parts = Object.entries(t).map(([k, x]) => `${SHORT[k] ?? k}=${String(x)}`)
  return parts.length === 0 ? 'defaults' : parts.join(' ')
}
