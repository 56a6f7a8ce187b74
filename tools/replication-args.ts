/**
 * The command line of `bcache-bench --simulate-replication` (its own flags,
 * parsed here so bench-args.ts stays about the real-socket benchmark):
 * `node:util` parseArgs, messages that name the flag, the help text.
 */
import { parseArgs } from 'node:util'
import type { ProfileName } from '../lib/index.js'
import { UsageError } from './bench-args.js'

export interface ReplicationConfig {
  /** Cluster sizes, one run each (per writer pattern). */
  nodes: number[]
  writers: Array<'uniform' | 'hot'>
  rate: number
  seconds: number
  valueBytes: number
  idleSeconds: number
  seed: number
  profile: ProfileName
  json: boolean
  help: boolean
}

export const REPLICATION_USAGE = `usage: bcache-bench --simulate-replication [options]

What one write costs at scale: N real bcache nodes (eager push, gossip-
piggybacked deltas, push streams, anti-entropy) in this process on the
in-memory network, in virtual time (latency 1-5 ms, no loss). Reports per
write the bytes and datagrams each node sends and receives (UDP and stream
payload bytes, idle traffic subtracted), the time until a write is on every
node (p50/p99/max), and the idle cost per node, before and after the writes.
Same seed, same report.

  --nodes LIST            cluster sizes (default 10,100,1000)
  --writers LIST          uniform (every node writes, round robin) and/or hot
                          (node 0 writes everything) (default uniform,hot)
  --rate N                writes per second, whole cluster (default 1000)
  --seconds S             length of the write phase, virtual (default 2)
  --value-size CHARS      value length (default 100)
  --idle-seconds S        each idle phase, virtual (default 30: one membership
                          push-pull period on lan)
  --profile NAME          lan | local | wan (default lan)
  --seed N                seeds every random draw (default 1)
  --json                  print the reports as JSON
  -h, --help              this text

N = 1000 needs a larger heap (about 1 GiB of heap, 3.2 GB RSS):
  node --expose-gc --max-old-space-size=8192 dist/tools/bcache-bench.js --simulate-replication`

const OPTIONS = {
  'simulate-replication': { type: 'boolean' }, nodes: { type: 'string' }, writers: { type: 'string' }, rate: { type: 'string' },
  seconds: { type: 'string' }, 'value-size': { type: 'string' }, 'idle-seconds': { type: 'string' }, profile: { type: 'string' },
  seed: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }
} as const

/** Whether the command line asks for this mode (then {@link parseReplicationArgs} parses it). */
export function wantsReplicationSimulation(argv: readonly string[]): boolean {
  return argv.includes('--simulate-replication')
}

function num(flag: string, s: string, min: number, max: number, integer: boolean): number {
  const x = s.trim() === '' ? NaN : Number(s)
  if (!Number.isFinite(x) || (integer && !Number.isInteger(x)) || x < min || x > max) {
    throw new UsageError(`--${flag} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got '${s}'`)
  }
  return x
}

/** Parses argv (without node and script). Throws UsageError on anything wrong. */
export function parseReplicationArgs(argv: readonly string[]): ReplicationConfig {
  let v
  try {
    v = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }).values
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)} (with --simulate-replication)`)
  }
  const nodes = (v.nodes ?? '10,100,1000').split(',').map((s) => num('nodes', s, 2, 5000, true))
  const writers = (v.writers ?? 'uniform,hot').split(',').map((s) => s.trim())
  for (const w of writers) if (w !== 'uniform' && w !== 'hot') throw new UsageError(`--writers must list uniform and/or hot, got '${v.writers}'`)
  const profile = v.profile ?? 'lan'
  if (!['lan', 'local', 'wan'].includes(profile)) throw new UsageError(`--profile must be lan, local or wan, got '${profile}'`)
  return {
    nodes,
    writers: [...new Set(writers)] as Array<'uniform' | 'hot'>,
    rate: num('rate', v.rate ?? '1000', 1, 1_000_000, false),
    seconds: num('seconds', v.seconds ?? '2', 0.001, 3600, false),
    valueBytes: num('value-size', v['value-size'] ?? '100', 1, 1_000_000, true),
    idleSeconds: num('idle-seconds', v['idle-seconds'] ?? '30', 1, 3600, false),
    seed: num('seed', v.seed ?? '1', 0, 2 ** 31, true),
    profile: profile as ProfileName,
    json: v.json === true,
    help: v.help === true
  }
}
