#!/usr/bin/env node
/**
 * bcache-bench: what each gossip tuning choice costs and buys, measured on
 * this machine. Parses the command line (bench-args.ts), runs every
 * combination of the swept tuning options on a fresh cluster (bench-run.ts),
 * prints a table or JSON, and writes an SVG chart (bench-chart.ts).
 * `--simulate` hands over to the in-memory simulator (simulate.ts).
 *
 * Every node it starts is stopped on success, on error and on Ctrl-C.
 */
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { combinations, label, parseBenchArgs, USAGE, UsageError, type BenchConfig } from './bench-args.js'
import { formatTable, renderChart } from './bench-chart.js'
import { runOne, stopEverything, type RunReport } from './bench-run.js'
import { runSimulation, type SimulationReport } from './simulate.js'
import { formatTable as formatSimulationTable } from './simulate-report.js'

/** Progress: one rewritten line on a TTY, plain lines (on phase changes only) otherwise. */
function progressWriter(): { update: (s: string) => void; done: () => void } {
  const tty = process.stderr.isTTY === true
  let last = ''
  let lastPhase = ''
  return {
    update(s) {
      if (tty) {
        process.stderr.write(`\r\x1b[2K${s}`)
        last = s
        return
      }
      const phase = s.replace(/[\d.]+(\/[\d.]+)? s\b.*$/, '').replace(/\d+\/\d+ noticed$/, '')
      if (phase !== lastPhase) console.error(s)
      lastPhase = phase
    },
    done() {
      if (tty && last !== '') process.stderr.write('\r\x1b[2K')
      last = ''
    }
  }
}

async function simulate(cfg: BenchConfig): Promise<void> {
  const reports: SimulationReport[] = []
  for (const tuning of combinations(cfg.sweep)) {
    for (const nodes of cfg.nodes) {
      const r = await runSimulation({
        nodes, lossPercent: cfg.lossPercent, seed: cfg.seed, profile: cfg.profile, ...tuning,
        progress: (line) => console.error(`[simulate N=${nodes} ${label(tuning)}] ${line}`)
      })
      reports.push(r)
    }
  }
  if (cfg.json) console.log(JSON.stringify({ simulate: true, reports }, null, 2))
  else {
    for (const tuning of combinations(cfg.sweep)) {
      const mine = reports.filter((r) => (Object.keys(tuning) as Array<keyof typeof tuning>).every((k) => (r.tuning as Record<string, unknown>)[k] === tuning[k]))
      const t = mine[0]?.tuning
      if (t !== undefined) console.log(`\nprofile ${t.profile}: gossip ${t.gossipNodes} nodes every ${t.gossipIntervalMs} ms, retransmitMult ${t.retransmitMult}; loss ${cfg.lossPercent} % (virtual time)`)
      console.log(formatSimulationTable(mine))
    }
  }
}

async function bench(cfg: BenchConfig): Promise<void> {
  const combos = combinations(cfg.sweep)
  const runs: RunReport[] = []
  const progress = progressWriter()
  const where = cfg.mode === 'join' ? `joining ${cfg.join}` : `${cfg.nodes[0]} ${cfg.mode === 'in-process' ? 'in-process' : 'child-process'} nodes`
  const subtitle = `${where}, profile ${cfg.profile}, ${cfg.rate} writes/s for ${cfg.durationSeconds} s, ${cfg.valueBytes}-byte values, ${cfg.keys} keys (${cfg.distribution})`
  if (!cfg.json) console.error(`bcache-bench: ${combos.length} run(s); ${subtitle}`)
  for (const [i, tuning] of combos.entries()) {
    const name = label(tuning)
    const r = await runOne(cfg, tuning, name, (s) => progress.update(`[run ${i + 1}/${combos.length} ${name}] ${s}`))
    progress.done()
    if (!cfg.json) console.error(`[run ${i + 1}/${combos.length} ${name}] lag p99 ${r.lagMs.p99.toFixed(1)} ms, ${(r.avg.bytesInPerSec / 1000).toFixed(1)} KB/s in per node`)
    runs.push(r)
  }
  let chartPath: string | undefined
  if (cfg.chart !== undefined) {
    chartPath = resolve(cfg.chart)
    writeFileSync(chartPath, renderChart(runs, subtitle))
  }
  if (cfg.json) {
    console.log(JSON.stringify({ config: cfg, runs, chart: chartPath }, null, 2))
    return
  }
  console.log(`\n${subtitle}`)
  console.log(formatTable(runs))
  console.log('lag: set on the writer -> visible on another node; conv: last write -> every node has every write;')
  console.log('KB in/out per node incl. anti-entropy TCP; in/payload: bytes received per payload byte (floor 1.0)')
  if (chartPath !== undefined) console.log(`chart written to ${chartPath}`)
}

async function main(argv: string[]): Promise<number> {
  let cfg: BenchConfig
  try {
    cfg = parseBenchArgs(argv)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    console.error(`bcache-bench: ${err.message}\nRun bcache-bench --help for the options.`)
    return 2
  }
  if (cfg.help) {
    console.log(USAGE)
    return 0
  }
  if (cfg.mode === 'simulate') await simulate(cfg)
  else await bench(cfg)
  return 0
}

let stopping = false
const stop = (code: number): void => {
  if (stopping) return
  stopping = true
  process.stderr.write('\nbcache-bench: stopping the cluster...\n')
  void stopEverything().finally(() => process.exit(code))
}
process.on('SIGINT', () => stop(130))
process.on('SIGTERM', () => stop(143))

main(process.argv.slice(2)).then(
  async (code) => {
    await stopEverything()
    process.exitCode = code
  },
  async (err: unknown) => {
    console.error(`bcache-bench: ${err instanceof Error ? err.message : String(err)}`)
    await stopEverything()
    process.exit(1)
  }
)
