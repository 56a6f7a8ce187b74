/**
 * `bcache-bench --simulate --nodes 10000` runs as typed, without node flags:
 * a simulation of N nodes holds N² member records, and two node flags
 * matter for it: `--expose-gc` (so the report can measure bytes per record
 * after a full GC) and, at large N, a V8 heap above the default
 * (`--max-old-space-size`; the records themselves live in typed arrays, off
 * the heap, but each node's probe order is on it). When a flag is missing,
 * the bench runs itself again once, as a child with the flags added and the
 * same arguments, stdio inherited, and exits with the child's code. Ctrl-C
 * reaches the child too (same process group); the parent only waits for it.
 */
import { spawn } from 'node:child_process'
import { totalmem } from 'node:os'

/** Set in the child's environment: never re-spawn twice. */
const RESPAWNED = 'BCACHE_BENCH_RESPAWNED'

/** V8 heap the simulation of `maxNodes` nodes asks for, MiB: the probe orders (×2 while rebuilt) and 2 GiB to spare; within 60 % of RAM. */
export function simulationHeapMiB(maxNodes: number): number {
  const need = Math.ceil((maxNodes * maxNodes * 24 * 2) / 2 ** 20) + 2048
  return Math.min(Math.floor((0.6 * totalmem()) / 2 ** 20), Math.max(4096, need))
}

/** The flags missing from this process for simulating up to `maxNodes` nodes (empty in the re-spawned child). */
export function missingSimulationFlags(maxNodes: number, execArgv: readonly string[] = process.execArgv): string[] {
  if (process.env[RESPAWNED] === '1') return []
  const flags: string[] = []
  if (!execArgv.includes('--expose-gc')) flags.push('--expose-gc')
  if (maxNodes >= 3000 && !execArgv.some((a) => a.startsWith('--max-old-space-size'))) flags.push(`--max-old-space-size=${simulationHeapMiB(maxNodes)}`)
  return flags
}

/** Runs this script again with `flags` and the same arguments; resolves to the child's exit code. */
export function respawnWithFlags(flags: readonly string[]): Promise<number> {
  const script = process.argv[1]!
  process.stderr.write(`bcache-bench: re-running as node ${flags.join(' ')} ${script} …\n`)
  const child = spawn(process.execPath, [...process.execArgv, ...flags, script, ...process.argv.slice(2)], {
    stdio: 'inherit', env: { ...process.env, [RESPAWNED]: '1' }
  })
  // The child gets Ctrl-C from the terminal itself; SIGTERM sent to us alone is passed on.
  process.on('SIGINT', () => {})
  process.on('SIGTERM', () => child.kill('SIGTERM'))
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1)))
    child.on('error', (err) => {
      process.stderr.write(`bcache-bench: could not re-run node: ${err.message}\n`)
      resolve(1)
    })
  })
}
