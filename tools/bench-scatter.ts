/**
 * A hand-written SVG scatter chart for trade-offs: panels side by side, each
 * plotting one cost (x, linear) against one harm (y, log scale) for every
 * run of a sweep, both to be minimised.
 *
 * In each panel the runs no other run beats on both axes (the Pareto front,
 * {@link paretoFront}) are filled and joined by a step line: those are the
 * settings worth choosing between; every other run is a hollow dot, since
 * some front run is at least as good on both counts. The run with the
 * profile's default setting wears a ring and the word "default". Points carry
 * their run number; a label is moved around its point (right, left, above,
 * below) until it overlaps no label already placed, so 24 runs stay legible.
 * The legend below the panels spells out each number.
 */

/** One run's position in a panel; non-finite coordinates are left out. */
export interface ScatterPoint {
  /** The run number shown beside the point (1-based). */
  id: number
  x: number
  y: number
  isDefault: boolean
}

export interface ScatterPanel {
  title: string
  /** Axis titles, with their units. */
  xTitle: string
  yTitle: string
  points: ScatterPoint[]
}

export interface ScatterChart {
  title: string
  subtitles: string[]
  panels: ScatterPanel[]
  /** Legend table: a header row, then one row per run; `bold` rows are on some front. */
  legendHead: string[]
  legend: Array<{ cells: string[]; bold: boolean }>
  /** A line under the legend (what the markers mean, what was left out). */
  notes: string[]
}

/** For each point, whether no other point is ≤ on both axes and < on one (both minimised). */
export function paretoFront(points: ReadonlyArray<{ x: number; y: number }>): boolean[] {
  return points.map((p) => points.every((q) => q === p || !(q.x <= p.x && q.y <= p.y && (q.x < p.x || q.y < p.y))))
}

/** About `count` round tick values covering [lo, hi] (steps of 1, 2 or 5 × 10^k). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) hi = lo + Math.max(1, Math.abs(lo))
  const raw = (hi - lo) / Math.max(1, count)
  const p = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p
  const ticks: number[] = []
  for (let t = Math.floor(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(+t.toPrecision(12))
  if (ticks[ticks.length - 1]! < hi) ticks.push(+(ticks[ticks.length - 1]! + step).toPrecision(12))
  return ticks
}

/**
 * Log-scale ticks from the last at or below `lo` to the first at or above
 * `hi`: 1, 2, 5 × 10^k, or finer steps when those would give fewer than 4.
 */
export function logTicks(lo: number, hi: number): number[] {
  const a = Math.floor(Math.log10(Math.max(lo, 1e-3)))
  const b = Math.max(a + 1, Math.ceil(Math.log10(Math.max(hi, lo, 1e-3))))
  const within = (mantissas: number[]): number[] => {
    const ticks: number[] = []
    for (let e = a; e <= b; e++) for (const m of mantissas) ticks.push(+(m * 10 ** e).toPrecision(6))
    const first = Math.max(0, ticks.filter((t) => t <= lo).length - 1)
    const found = ticks.findIndex((t) => t >= hi)
    return ticks.slice(first, Math.max(found < 0 ? ticks.length - 1 : found, first + 1) + 1)
  }
  const coarse = within([1, 2, 5])
  return coarse.length >= 4 ? coarse : within([1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8])
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
const f1 = (x: number): string => x.toFixed(1)
const tick = (t: number): string => String(+t.toPrecision(3))

const W = 960, PANEL_W = 400, PANEL_H = 300, LEFT = 66, TOP = 92, BOTTOM = 52, ROW = 15
const FRONT = '#d95f02', OTHER = '#7b8fb0'

type Box = [number, number, number, number]
const overlaps = (a: Box, b: Box): boolean => a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]

/** One panel's SVG elements, its plot area's top-left corner at (x0, y0). */
function panel(p: ScatterPanel, x0: number, y0: number): string[] {
  const pts = p.points.filter((q) => Number.isFinite(q.x) && Number.isFinite(q.y) && q.y > 0)
  const xsAll = pts.map((q) => q.x), ysAll = pts.map((q) => q.y)
  const xMin = Math.min(...xsAll, Infinity), xMax = Math.max(...xsAll, -Infinity)
  const pad = pts.length === 0 ? 1 : Math.max((xMax - xMin) * 0.08, Math.abs(xMax) * 0.02, 1e-3)
  const xt = pts.length === 0 ? [0, 1] : niceTicks(Math.max(0, xMin - pad), xMax + pad)
  const yt = pts.length === 0 ? [1, 10] : logTicks(Math.min(...ysAll), Math.max(...ysAll))
  const [xLo, xHi] = [xt[0]!, xt[xt.length - 1]!]
  const [yLo, yHi] = [yt[0]!, yt[yt.length - 1]!]
  const X = (x: number): number => x0 + ((x - xLo) / (xHi - xLo)) * PANEL_W
  const Y = (y: number): number => y0 + PANEL_H - ((Math.log10(y) - Math.log10(yLo)) / (Math.log10(yHi) - Math.log10(yLo))) * PANEL_H
  const out = [`<text x="${x0}" y="${y0 - 12}" class="t">${esc(p.title)}</text>`,
    `<rect x="${x0}" y="${y0}" width="${PANEL_W}" height="${PANEL_H}" class="f"/>`]
  for (const t of xt) {
    out.push(`<line x1="${f1(X(t))}" x2="${f1(X(t))}" y1="${y0}" y2="${y0 + PANEL_H}" class="g"/>`,
      `<text x="${f1(X(t))}" y="${y0 + PANEL_H + 15}" class="a" text-anchor="middle">${tick(t)}</text>`)
  }
  for (const t of yt) {
    out.push(`<line x1="${x0}" x2="${x0 + PANEL_W}" y1="${f1(Y(t))}" y2="${f1(Y(t))}" class="${/^[1]/.test(tick(t)) ? 'g d' : 'g'}"/>`,
      `<text x="${x0 - 6}" y="${f1(Y(t) + 4)}" class="a" text-anchor="end">${tick(t)}</text>`)
  }
  out.push(`<text x="${x0 + PANEL_W / 2}" y="${y0 + PANEL_H + 36}" class="a" text-anchor="middle">${esc(p.xTitle)}</text>`,
    `<text x="${x0 - 48}" y="${y0 + PANEL_H / 2}" class="a" transform="rotate(-90 ${x0 - 48} ${y0 + PANEL_H / 2})" text-anchor="middle">${esc(p.yTitle)}</text>`)
  const front = paretoFront(pts)
  const line = pts.filter((_, i) => front[i]).sort((a, b) => a.x - b.x)
  if (line.length > 1) {
    const d = line.map((q, i) => (i === 0 ? `M${f1(X(q.x))},${f1(Y(q.y))}` : `H${f1(X(q.x))}V${f1(Y(q.y))}`)).join('')
    out.push(`<path d="${d}" fill="none" stroke="${FRONT}" stroke-width="1.5" stroke-dasharray="5 3"/>`)
  }
  const placed: Box[] = []
  // Front points last, so they are drawn on top.
  const order = pts.map((q, i) => ({ q, on: front[i]! })).sort((a, b) => Number(a.on) - Number(b.on))
  for (const { q, on } of order) {
    const cx = X(q.x), cy = Y(q.y)
    if (q.isDefault) out.push(`<circle cx="${f1(cx)}" cy="${f1(cy)}" r="9" fill="none" stroke="#000" stroke-width="1.5"/>`)
    out.push(on
      ? `<circle cx="${f1(cx)}" cy="${f1(cy)}" r="5" fill="${FRONT}" stroke="#fff" stroke-width="0.8"/>`
      : `<circle cx="${f1(cx)}" cy="${f1(cy)}" r="4" fill="#fff" stroke="${OTHER}" stroke-width="1.5"/>`)
    placed.push([cx - 5, cy - 5, cx + 5, cy + 5])
  }
  for (const { q, on } of order) out.push(pointLabel(q, X(q.x), Y(q.y), on, placed))
  return out
}

/** The run number (and "default") beside its point, where it overlaps no earlier label. */
function pointLabel(q: ScatterPoint, cx: number, cy: number, on: boolean, placed: Box[]): string {
  const text = q.isDefault ? `${q.id} default` : String(q.id)
  const w = text.length * 6.2 + 2, h = 11, r = q.isDefault ? 11 : 7
  const candidates: Array<[number, number]> = [[cx + r, cy - h / 2], [cx - r - w, cy - h / 2], [cx - w / 2, cy - r - h], [cx - w / 2, cy + r],
    [cx + r, cy - r - h], [cx - r - w, cy - r - h], [cx + r, cy + r], [cx - r - w, cy + r]]
  const pick = candidates.find(([x, y]) => !placed.some((b) => overlaps(b, [x, y, x + w, y + h]))) ?? candidates[0]!
  placed.push([pick[0], pick[1], pick[0] + w, pick[1] + h])
  return `<text x="${f1(pick[0] + 1)}" y="${f1(pick[1] + h - 2)}" class="${on ? 'n b' : 'n'}">${esc(text)}</text>`
}

/** The legend: two columns of rows under the panels when there are more than 12. */
function legend(c: ScatterChart, top: number): { svg: string[]; height: number } {
  const cols = c.legend.length > 12 ? 2 : 1
  const perCol = Math.ceil(c.legend.length / cols)
  const colW = (W - LEFT - 20) / cols
  const widths = c.legendHead.map((h, i) => Math.max(h.length, ...c.legend.map((r) => r.cells[i]?.length ?? 0)) * 6.9 + 14)
  const out: string[] = []
  for (let k = 0; k < cols; k++) {
    const x0 = LEFT + k * colW
    let x = x0
    c.legendHead.forEach((h, i) => { out.push(`<text x="${f1(x)}" y="${top}" class="a b">${esc(h)}</text>`); x += widths[i]! })
    c.legend.slice(k * perCol, (k + 1) * perCol).forEach((row, j) => {
      let cx = x0
      row.cells.forEach((cell, i) => {
        out.push(`<text x="${f1(cx)}" y="${top + ROW * (j + 1)}" class="${row.bold ? 'a b' : 'a'}">${esc(cell)}</text>`)
        cx += widths[i]!
      })
    })
  }
  const notesTop = top + ROW * (perCol + 1) + 6
  c.notes.forEach((n, i) => out.push(`<text x="${LEFT}" y="${notesTop + ROW * i}" class="s">${esc(n)}</text>`))
  return { svg: out, height: ROW * (perCol + 1) + 6 + ROW * c.notes.length }
}

/** The SVG document: panels two per row, then the legend. */
export function renderScatter(c: ScatterChart): string {
  const rows = Math.max(1, Math.ceil(c.panels.length / 2))
  const top = TOP + 14 * Math.max(0, c.subtitles.length - 2)
  const body: string[] = [`<text x="${LEFT}" y="22" class="h">${esc(c.title)}</text>`]
  c.subtitles.forEach((s, i) => body.push(`<text x="${LEFT}" y="${40 + 14 * i}" class="a">${esc(s)}</text>`))
  c.panels.forEach((p, i) => body.push(...panel(p, LEFT + (i % 2) * (PANEL_W + LEFT), top + Math.floor(i / 2) * (PANEL_H + BOTTOM + 40))))
  const legendTop = top + rows * (PANEL_H + BOTTOM + 40) - 20
  const l = legend(c, legendTop)
  body.push(...l.svg)
  const h = Math.ceil(legendTop + l.height + 10)
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="sans-serif">`,
    '<style>.h{font-size:16px;font-weight:bold}.t{font-size:13px;font-weight:bold}.a{font-size:11px;fill:#333}' +
      '.n{font-size:10px;fill:#555}.b{font-weight:bold;fill:#000}.s{font-size:10.5px;fill:#666}.g{stroke:#e4e4e4;stroke-width:1}.d{stroke:#c8c8c8}.f{fill:none;stroke:#999}</style>',
    `<rect width="${W}" height="${h}" fill="white"/>`,
    ...body,
    '</svg>',
    ''
  ].join('\n')
}
