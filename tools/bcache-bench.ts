#!/usr/bin/env node
/**
 * bcache-bench: what each gossip tuning choice costs and buys, measured on
 * this machine. Parses the command line (bench-args.ts), checks that the
 * chart can be written, runs every combination of the swept tuning options
 * on a fresh cluster (bench-run.ts), prints a table or JSON, and writes an
 * SVG chart (bench-chart.ts). `--simulate` hands over to the in-memory
 * simulator (simulate.ts), with the same table/JSON/chart outputs;
 * `--simulate-replication` to the cost-of-a-write simulator
 * (simulate-replication.ts), with its own flags (replication-args.ts).
 *
 * Every node it starts is stopped on success, on error and on Ctrl-C. On
 * Ctrl-C the runs that finished are still reported (table or JSON, and the
 * chart), after the nodes are stopped; then it exits 130.
 */
import { writeFileSync } from 'node:fs'
import { checkChartPath, combinations, label, parseBenchArgs, USAGE, UsageError, type BenchConfig } from './bench-args.js'
import { formatTable, renderChart, renderSimulationChart } from './bench-chart.js'
import { progressWriter } from './bench-progress.js'
import { runOne, stopEverything, type RunReport } from './bench-run.js'
import { missingSimulationFlags, respawnWithFlags } from './simulate-respawn.js'
import { parseReplicationArgs, REPLICATION_USAGE, wantsReplicationSimulation, type ReplicationConfig } from './replication-args.js'
import { formatReplicationReports } from './replication-report.js'
import { runSimulation, type SimulationReport } from './simulate.js'
import { runReplicationSimulation, type ReplicationReport } from './simulate-replication.js'
import { formatScaleTable, formatTable as formatSimulationTable } from './simulate-report.js'

/** Set while a sweep runs: reports what finished so far (Ctrl-C calls it after the nodes are stopped). */
let reportSoFar: (() => void) | undefined
/** Set on Ctrl-C / SIGTERM: no new run starts. */
let stopping = false

function printSimulation(cfg: BenchConfig, reports: SimulationReport[], chartPath: string | undefined, interrupted: boolean): void {
  const subtitle = `profile ${cfg.profile}, datagram loss ${cfg.lossPercent} %, latency 1-5 ms, seed ${cfg.seed}; virtual time`
  const chart = chartPath !== undefined && reports.length > 0 ? chartPath : undefined
  if (chart !== undefined) writeFileSync(chart, renderSimulationChart(reports, subtitle, cfg.profile))
  if (cfg.json) {
    console.log(JSON.stringify({ simulate: true, reports, chart, ...(interrupted ? { interrupted: true } : {}) }, null, 2))
    return
  }
  if (interrupted) console.log(`\ninterrupted: ${reports.length} simulation(s) finished`)
  for (const tuning of combinations(cfg.sweep)) {
    const mine = reports.filter((r) => (Object.keys(tuning) as Array<keyof typeof tuning>).every((k) => (r.tuning as Record<string, unknown>)[k] === tuning[k]))
    const t = mine[0]?.tuning
    if (t === undefined) continue
    console.log(`\nprofile ${t.profile}: gossip ${t.gossipNodes} nodes every ${t.gossipIntervalMs} ms, retransmitMult ${t.retransmitMult}; loss ${cfg.lossPercent} % (virtual time)`)
    console.log(formatSimulationTable(mine))
    console.log(`\n${formatScaleTable(mine)}`)
  }
  if (chart !== undefined) console.log(`chart written to ${chart}`)
}

async function simulate(cfg: BenchConfig, chartPath: string | undefined): Promise<void> {
  const reports: SimulationReport[] = []
  reportSoFar = () => printSimulation(cfg, reports, chartPath, true)
  for (const tuning of combinations(cfg.sweep)) {
    for (const nodes of cfg.nodes) {
      if (stopping) return
      const r = await runSimulation({
        nodes, lossPercent: cfg.lossPercent, seed: cfg.seed, profile: cfg.profile, ...tuning,
        progress: (line) => console.error(`[simulate N=${nodes} ${label(tuning)}] ${line}`)
      })
      reports.push(r)
    }
  }
  reportSoFar = undefined
  printSimulation(cfg, reports, chartPath, false)
}

function printRuns(cfg: BenchConfig, runs: RunReport[], subtitle: string, chartPath: string | undefined, interrupted: boolean): void {
  const chart = chartPath !== undefined && runs.length > 0 ? chartPath : undefined
  if (chart !== undefined) writeFileSync(chart, renderChart(runs, subtitle, cfg.profile))
  if (cfg.json) {
    console.log(JSON.stringify({ config: cfg, runs, chart, ...(interrupted ? { interrupted: true } : {}) }, null, 2))
    return
  }
  const of = combinations(cfg.sweep).length
  console.log(`\n${subtitle}${interrupted ? `\ninterrupted: ${runs.length} of ${of} run(s) finished` : ''}`)
  if (runs.length > 0) console.log(formatTable(runs))
  console.log('lag: set on the writer -> visible on another node; conv: last write -> every node has every write;')
  console.log('KB in/out per node incl. anti-entropy TCP; in/payload: bytes received per payload byte (floor 1.0)')
  if (chart !== undefined) console.log(`chart written to ${chart}`)
}

async function bench(cfg: BenchConfig, chartPath: string | undefined): Promise<void> {
  const combos = combinations(cfg.sweep)
  const runs: RunReport[] = []
  const progress = progressWriter()
  const where = cfg.mode === 'join' ? `joining ${cfg.join}` : `${cfg.nodes[0]} ${cfg.mode === 'in-process' ? 'in-process' : 'child-process'} nodes`
  const loss = `, ${cfg.lossPercent} % datagram loss`
  const subtitle = `${where}, profile ${cfg.profile}, ${cfg.rate} writes/s for ${cfg.durationSeconds} s, ${cfg.valueBytes}-byte values, ${cfg.keys} keys (${cfg.distribution})${loss}`
  if (!cfg.json) console.error(`bcache-bench: ${combos.length} run(s); ${subtitle}`)
  reportSoFar = () => { progress.done(); printRuns(cfg, runs, subtitle, chartPath, true) }
  for (const [i, tuning] of combos.entries()) {
    if (stopping) return
    const name = label(tuning)
    const r = await runOne(cfg, tuning, name, (s) => progress.update(`[run ${i + 1}/${combos.length} ${name}] ${s}`))
    progress.done()
    if (stopping) return
    if (!cfg.json) console.error(`[run ${i + 1}/${combos.length} ${name}] lag p99 ${r.lagMs.p99.toFixed(1)} ms, ${(r.avg.bytesInPerSec / 1000).toFixed(1)} KB/s in per node`)
    runs.push(r)
  }
  reportSoFar = undefined
  printRuns(cfg, runs, subtitle, chartPath, false)
}

async function simulateReplication(cfg: ReplicationConfig): Promise<void> {
  const reports: ReplicationReport[] = []
  const print = (interrupted: boolean): void => {
    if (cfg.json) console.log(JSON.stringify({ simulateReplication: true, reports, ...(interrupted ? { interrupted: true } : {}) }, null, 2))
    else console.log(`${interrupted ? `interrupted: ${reports.length} run(s) finished\n` : ''}${formatReplicationReports(reports)}`)
  }
  reportSoFar = () => print(true)
  for (const writers of cfg.writers) {
    for (const nodes of cfg.nodes) {
      if (stopping) return
      reports.push(await runReplicationSimulation({
        nodes, writers, rate: cfg.rate, seconds: cfg.seconds, valueBytes: cfg.valueBytes, idleSeconds: cfg.idleSeconds, seed: cfg.seed, profile: cfg.profile,
        progress: (line) => console.error(`[simulate-replication ${writers}] ${line}`)
      }))
    }
  }
  reportSoFar = undefined
  print(false)
}

/** `--simulate-replication` and its own flags. */
async function replicationMain(argv: string[]): Promise<number> {
  let cfg: ReplicationConfig
  try {
    cfg = parseReplicationArgs(argv)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    console.error(`bcache-bench: ${err.message}\nRun bcache-bench --simulate-replication --help for the options.`)
    return 2
  }
  if (cfg.help) console.log(REPLICATION_USAGE)
  else await simulateReplication(cfg)
  return 0
}

async function main(argv: string[]): Promise<number> {
  if (wantsReplicationSimulation(argv)) return replicationMain(argv)
  let cfg: BenchConfig
  let chartPath: string | undefined
  try {
    cfg = parseBenchArgs(argv)
    if (!cfg.help && cfg.chart !== undefined) chartPath = checkChartPath(cfg.chart)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    console.error(`bcache-bench: ${err.message}\nRun bcache-bench --help for the options.`)
    return 2
  }
  if (cfg.help) {
    console.log(USAGE)
    return 0
  }
  if (cfg.mode === 'simulate') await simulate(cfg, chartPath)
  else await bench(cfg, chartPath)
  return 0
}

/** `--simulate` without the node flags it needs (simulate-respawn.ts): the flags to re-run with, else none. */
function flagsToRespawnWith(argv: string[]): string[] {
  try {
    const cfg = parseBenchArgs(argv)
    return cfg.mode === 'simulate' && !cfg.help ? missingSimulationFlags(Math.max(...cfg.nodes)) : []
  } catch {
    return [] // main() reports the usage error
  }
}

/** Ctrl-C / SIGTERM: stop every node, report the finished runs, exit with `code`. */
const stop = (code: number): void => {
  if (stopping) return
  stopping = true
  process.stderr.write('\nbcache-bench: stopping the cluster...\n')
  void stopEverything()
    .then(() => reportSoFar?.())
    .catch((err: unknown) => console.error(`bcache-bench: ${err instanceof Error ? err.message : String(err)}`))
    .finally(() => process.exit(code))
}
const respawnFlags = flagsToRespawnWith(process.argv.slice(2))
if (respawnFlags.length > 0) {
  void respawnWithFlags(respawnFlags).then((code) => process.exit(code))
} else {
  process.on('SIGINT', () => stop(130))
  process.on('SIGTERM', () => stop(143))
  run()
}

/** The bench itself (in this process). */
function run(): void {
  main(process.argv.slice(2)).then(
    async (code) => {
      if (stopping) return // stop() reports and exits
      await stopEverything()
      process.exitCode = code
    },
    async (err: unknown) => {
      if (stopping) return // a run cut short by Ctrl-C
      console.error(`bcache-bench: ${err instanceof Error ? err.message : String(err)}`)
      await stopEverything()
      process.exit(1)
    }
  )
}
