/**
 * bcache-bench's outputs besides JSON: the plain-text table, and the SVG
 * chart that answers "which setting should I pick?": for every run of a
 * sweep, replication lag p99 against what it cost, received bytes per node
 * per second in one panel and CPU per node in the other (bench-scatter.ts
 * draws them, with the Pareto front and the default setting marked). With
 * `--simulate`, one panel per cluster size: time until an update reached
 * every node against the datagrams each node sent per second meanwhile.
 */
import { profiles, type ProfileName } from '../lib/membership-entry.js'
import type { Tuning } from '../lib/index.js'
import type { RunReport } from './bench-run.js'
import { paretoFront, renderScatter, type ScatterPanel, type ScatterPoint } from './bench-scatter.js'
import type { SimulationReport } from './simulate-report.js'

const fmt = (x: number | null | undefined, digits = 1): string =>
  x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits)

/** One line per run; units in the headers. */
export function formatTable(runs: readonly RunReport[]): string {
  const head = ['run', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'conv ms', 'writes/s', 'pkt in/s', 'pkt out/s', 'KB in/s', 'KB out/s', 'in/payload', 'CPU %', 'RSS MiB']
  const withLoss = runs.some((r) => (r.lossPercent ?? 0) > 0)
  const withKill = runs.some((r) => r.detectMs !== undefined)
  if (withLoss) head.push('lost/s')
  if (withKill) head.push('detect ms')
  const rows = runs.map((r) => {
    const cells = [
      r.label, fmt(r.lagMs.p50), fmt(r.lagMs.p90), fmt(r.lagMs.p99), fmt(r.lagMs.max),
      r.convergeMs === null ? `no (${r.missing} missing)` : fmt(r.convergeMs, 0), fmt(r.writesPerSec, 0),
      fmt(r.avg.packetsInPerSec, 0), fmt(r.avg.packetsOutPerSec, 0), fmt(r.avg.bytesInPerSec / 1000), fmt(r.avg.bytesOutPerSec / 1000),
      fmt(r.avg.bytesInPerPayloadByte, 2), fmt(r.avg.cpuPercent, 0), fmt(r.avg.rssMiB, 0)
    ]
    if (withLoss) cells.push(fmt(r.avg.lostPerSec, 0))
    if (withKill) cells.push(r.detectMs === null ? 'none in 60 s' : fmt(r.detectMs, 0))
    return cells
  })
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(head), ...rows.map(line)].join('\n')
}

/** "Nice" axis maximum: 1, 2 or 5 × 10^k at or above `x`. */
export function niceCeil(x: number): number {
  if (!(x > 0)) return 1
  const p = 10 ** Math.floor(Math.log10(x))
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p
  return 10 * p
}

/** Whether every swept value of `t` is the profile's own (an empty tuning is the default). */
export function isDefaultTuning(t: Partial<Tuning>, profile: ProfileName): boolean {
  const base = profiles[profile] as unknown as Record<string, unknown>
  return Object.entries(t).every(([k, v]) => base[k] === v)
}

const NOTE_MARKS = 'Filled orange, bold in the legend: the Pareto front of a panel (no other run has both lower lag and lower cost): pick among these. ' +
  'Ringed: the profile\'s default.'

/** The chart for a sweep of real runs (any number ≥ 1). */
export function renderChart(runs: readonly RunReport[], subtitle: string, profile: ProfileName = 'lan'): string {
  const points = (x: (r: RunReport) => number): ScatterPoint[] =>
    runs.map((r, i) => ({ id: i + 1, x: x(r), y: r.lagMs.p99, isDefault: isDefaultTuning(r.tuning, profile) }))
  const panels: ScatterPanel[] = [
    { title: 'lag p99 against bandwidth', xTitle: 'received per node, KB/s (datagrams and streams)', yTitle: 'lag p99, ms (log scale)', points: points((r) => r.avg.bytesInPerSec / 1000) },
    { title: 'lag p99 against CPU', xTitle: 'CPU per node, % of one core', yTitle: 'lag p99, ms (log scale)', points: points((r) => r.avg.cpuPercent) }
  ]
  const fronts = panels.map((p) => frontIds(p.points))
  const loss = runs[0]?.lossPercent ?? 0
  return renderScatter({
    title: `bcache-bench: replication lag against cost, ${runs.length} run(s)`,
    subtitles: [subtitle, `lag p99: set on the writer -> visible on another node, over every write and node${loss > 0 ? `; ${loss} % of every node's datagrams dropped` : ''}. Lower left is better.`],
    panels,
    legendHead: ['#', 'tuning', 'p99 ms', 'KB/s', 'CPU %', 'front'],
    legend: runs.map((r, i) => {
      const on = fronts.map((f, k) => (f.has(i + 1) ? ['KB/s', 'CPU'][k]! : '')).filter((s) => s !== '')
      return { cells: [String(i + 1), r.label + (isDefaultTuning(r.tuning, profile) ? ' (default)' : ''), fmt(r.lagMs.p99), fmt(r.avg.bytesInPerSec / 1000), fmt(r.avg.cpuPercent, 0), on.join(', ')], bold: on.length > 0 }
    }),
    notes: [NOTE_MARKS, ...(runs.some((r) => !(r.lagMs.p99 > 0)) ? ['Runs without a lag figure are left out of the panels.'] : [])]
  })
}

/** Run numbers on the Pareto front of one panel's finite points. */
function frontIds(points: ScatterPoint[]): Set<number> {
  const ok = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && p.y > 0)
  const front = paretoFront(ok)
  return new Set(ok.filter((_, i) => front[i]).map((p) => p.id))
}

/** A short label of a simulated run's tuning. */
const simLabel = (t: SimulationReport['tuning']): string => `nodes=${t.gossipNodes} interval=${t.gossipIntervalMs} mult=${t.retransmitMult}`

/** The chart for `--simulate`: one panel per cluster size; a run numbered once per tuning. */
export function renderSimulationChart(reports: readonly SimulationReport[], subtitle: string, profile: ProfileName = 'lan'): string {
  const labels = [...new Set(reports.map((r) => simLabel(r.tuning)))]
  const base = profiles[profile]
  const isDefault = (t: SimulationReport['tuning']): boolean =>
    t.gossipNodes === base.gossipNodes && t.gossipIntervalMs === base.gossipIntervalMs && t.retransmitMult === base.retransmitMult
  const sizes = [...new Set(reports.map((r) => r.nodes))]
  const panels: ScatterPanel[] = sizes.map((n) => ({
    title: `N = ${n}: time to reach every node against datagram rate`,
    xTitle: 'datagrams sent per node per second while spreading',
    yTitle: 'update reached all nodes, ms (virtual, log)',
    points: reports.filter((r) => r.nodes === n && r.skipped === undefined && r.dissemination.reachedAll)
      .map((r) => ({ id: labels.indexOf(simLabel(r.tuning)) + 1, x: r.load.dissemination.avg, y: r.dissemination.timeToAllMs, isDefault: isDefault(r.tuning) }))
  }))
  const fronts = panels.map((p) => frontIds(p.points))
  const cell = (r: SimulationReport | undefined): string =>
    r === undefined ? '' : r.skipped !== undefined ? 'skipped' : r.dissemination.reachedAll ? `${fmt(r.dissemination.timeToAllMs, 0)} ms / ${fmt(r.load.dissemination.avg, 0)}` : 'not all'
  return renderScatter({
    title: `bcache-bench --simulate: spread time against datagram rate, ${labels.length} tuning(s)`,
    subtitles: [subtitle],
    panels,
    legendHead: ['#', 'tuning', ...sizes.map((n) => `N=${n}: ms / dgrams/s`)],
    legend: labels.map((l, i) => ({
      cells: [String(i + 1), l + (reports.some((r) => simLabel(r.tuning) === l && isDefault(r.tuning)) ? ' (default)' : ''),
        ...sizes.map((n) => cell(reports.find((r) => r.nodes === n && simLabel(r.tuning) === l)))],
      bold: fronts.some((f) => f.has(i + 1))
    })),
    notes: [NOTE_MARKS.replace('lower cost', 'fewer datagrams'), 'Runs that never reached every node, or were skipped, are left out of the panels.']
  })
}
