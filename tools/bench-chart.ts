/**
 * bcache-bench's outputs besides JSON: the plain-text table and a small
 * hand-written SVG with two panels over the runs of a sweep: replication lag
 * percentiles (p50, p90, p99; log scale) and bytes received per node per
 * second. One x position per run, labelled with its tuning.
 */
import type { RunReport } from './bench-run.js'

const fmt = (x: number | null | undefined, digits = 1): string =>
  x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(digits)

/** One line per run; units in the headers. */
export function formatTable(runs: readonly RunReport[]): string {
  const head = ['run', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'conv ms', 'writes/s', 'pkt in/s', 'pkt out/s', 'KB in/s', 'KB out/s', 'in/payload', 'CPU %', 'RSS MiB']
  const withKill = runs.some((r) => r.detectMs !== undefined)
  if (withKill) head.push('detect ms')
  const rows = runs.map((r) => {
    const cells = [
      r.label, fmt(r.lagMs.p50), fmt(r.lagMs.p90), fmt(r.lagMs.p99), fmt(r.lagMs.max),
      r.convergeMs === null ? `no (${r.missing} missing)` : fmt(r.convergeMs, 0), fmt(r.writesPerSec, 0),
      fmt(r.avg.packetsInPerSec, 0), fmt(r.avg.packetsOutPerSec, 0), fmt(r.avg.bytesInPerSec / 1000), fmt(r.avg.bytesOutPerSec / 1000),
      fmt(r.avg.bytesInPerPayloadByte, 2), fmt(r.avg.cpuPercent, 0), fmt(r.avg.rssMiB, 0)
    ]
    if (withKill) cells.push(r.detectMs === null ? 'none in 60 s' : fmt(r.detectMs, 0))
    return cells
  })
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(head), ...rows.map(line)].join('\n')
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
const W = 720, PANEL_H = 220, LEFT = 70, RIGHT = 20, TOP = 56, GAP = 70

/** "Nice" axis maximum: 1, 2 or 5 × 10^k at or above `x`. */
export function niceCeil(x: number): number {
  if (!(x > 0)) return 1
  const p = 10 ** Math.floor(Math.log10(x))
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p
  return 10 * p
}

interface Series { name: string; color: string; values: number[] }

function panel(title: string, unit: string, top: number, xs: number[], series: Series[], log: boolean): string[] {
  const all = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v) && v > 0)
  const hiRaw = all.length === 0 ? 1 : Math.max(...all)
  const lo = log ? 10 ** Math.floor(Math.log10(Math.max(0.01, Math.min(...all, hiRaw)))) : 0
  const hi = log ? 10 ** Math.ceil(Math.log10(Math.max(hiRaw, lo * 10))) : niceCeil(hiRaw)
  const y = (v: number): number => {
    const f = log ? (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : v / hi
    return top + PANEL_H - f * PANEL_H
  }
  const out = [`<text x="${LEFT}" y="${top - 12}" class="t">${esc(title)}</text>`]
  const ticks = log
    ? Array.from({ length: Math.round(Math.log10(hi / lo)) + 1 }, (_, i) => lo * 10 ** i)
    : [0, 0.25, 0.5, 0.75, 1].map((f) => f * hi)
  for (const t of ticks) {
    out.push(`<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" class="g"/>`)
    out.push(`<text x="${LEFT - 6}" y="${(y(t) + 4).toFixed(1)}" class="a" text-anchor="end">${+t.toPrecision(3)}</text>`)
  }
  out.push(`<text x="14" y="${top + PANEL_H / 2}" class="a" transform="rotate(-90 14 ${top + PANEL_H / 2})" text-anchor="middle">${esc(unit)}</text>`)
  series.forEach((s, k) => {
    const pts = s.values.map((v, i) => (Number.isFinite(v) ? `${xs[i]!.toFixed(1)},${y(v).toFixed(1)}` : '')).filter((p) => p !== '')
    if (pts.length > 1) out.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"/>`)
    for (const p of pts) out.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3.5" fill="${s.color}"/>`)
    out.push(`<rect x="${W - RIGHT - 230 + k * 78}" y="${top - 22}" width="10" height="10" fill="${s.color}"/>` +
      `<text x="${W - RIGHT - 216 + k * 78}" y="${top - 13}" class="a">${esc(s.name)}</text>`)
  })
  return out
}

/** The SVG document for a sweep (any number of runs ≥ 1). */
export function renderChart(runs: readonly RunReport[], subtitle: string): string {
  const n = runs.length
  const step = (W - LEFT - RIGHT) / Math.max(1, n)
  const xs = runs.map((_, i) => LEFT + step * (i + 0.5))
  const top2 = TOP + 20 + PANEL_H + GAP
  const h = top2 + PANEL_H + 70
  const body = [
    `<text x="${LEFT}" y="20" class="h">bcache-bench: replication lag and bandwidth per tuning</text>`,
    `<text x="${LEFT}" y="36" class="a">${esc(subtitle)}</text>`,
    ...panel('replication lag, set → visible on another node', 'ms (log)', TOP + 20, xs, [
      { name: 'p50', color: '#1b9e77', values: runs.map((r) => r.lagMs.p50) },
      { name: 'p90', color: '#7570b3', values: runs.map((r) => r.lagMs.p90) },
      { name: 'p99', color: '#d95f02', values: runs.map((r) => r.lagMs.p99) }
    ], true),
    ...panel('received per node', 'KB/s', top2, xs, [
      { name: 'KB in/s', color: '#386cb0', values: runs.map((r) => r.avg.bytesInPerSec / 1000) }
    ], false),
    ...runs.map((r, i) => `<text x="${xs[i]!.toFixed(1)}" y="${top2 + PANEL_H + 18}" class="a" text-anchor="middle">${esc(r.label)}</text>` +
      `<text x="${xs[i]!.toFixed(1)}" y="${top2 + PANEL_H + 34}" class="s" text-anchor="middle">${esc(`${fmt(r.avg.bytesInPerPayloadByte, 1)}× payload`)}</text>`)
  ]
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="sans-serif">`,
    '<style>.h{font-size:15px;font-weight:bold}.t{font-size:13px;font-weight:bold}.a{font-size:11px;fill:#333}.s{font-size:10px;fill:#777}.g{stroke:#ddd;stroke-width:1}</style>',
    `<rect width="${W}" height="${h}" fill="white"/>`,
    ...body,
    '</svg>',
    ''
  ].join('\n')
}
