import { expect } from 'chai'
import { formatTable, niceCeil, renderChart } from '../../tools/bench-chart.js'
import type { RunReport } from '../../tools/bench-run.js'

function run(label: string, p50: number, kbIn: number): RunReport {
  const fig = { packetsInPerSec: 100, packetsOutPerSec: 110, bytesInPerSec: kbIn * 1000, bytesOutPerSec: kbIn * 1000, bytesInPerPayloadByte: 1.5, cpuPercent: 12, rssMiB: 80 }
  return {
    label, tuning: {}, mode: 'cluster', nodes: 3, writers: 3,
    lagMs: { count: 100, p50, p90: p50 * 3, p99: p50 * 10, max: p50 * 20 },
    missing: 0, convergeMs: 4, writesPerSec: 999, avg: fig, perNode: [{ nodeId: 'a', ...fig }]
  }
}

describe('tools/bench-chart', () => {
  const runs = [run('nodes=1 interval=50', 0.5, 90), run('nodes=3 interval=50', 0.7, 140), run('<odd & "label">', 1.2, 100)]

  it('draws both panels with one point per run and series', () => {
    const svg = renderChart(runs, 'subtitle & more')
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).to.equal(true)
    expect(svg.trimEnd().endsWith('</svg>')).to.equal(true)
    expect(svg.match(/<polyline /g)).to.have.length(4) // p50, p90, p99, KB in/s
    expect(svg.match(/<circle /g)).to.have.length(12)
    expect(svg).to.include('nodes=3 interval=50')
    expect(svg).to.include('&lt;odd &amp; &quot;label&quot;&gt;')
    expect(svg).to.include('subtitle &amp; more')
    expect(svg).not.to.include('NaN')
    // Every point lies inside the drawing.
    for (const m of svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)) {
      expect(Number(m[1])).to.be.within(0, 720)
      expect(Number(m[2])).to.be.within(0, 700)
    }
    // Small: a few kB, no external references.
    expect(svg.length).to.be.below(10_000)
    expect(svg).not.to.match(/href|<script/)
  })

  it('copes with one run and missing figures', () => {
    const r = run('defaults', NaN, 0)
    const svg = renderChart([r], '')
    expect(svg).not.to.include('NaN')
    expect(svg.match(/<polyline /g)).to.equal(null)
  })

  it('rounds axis maxima up to 1, 2 or 5 × 10^k', () => {
    const table: Array<[number, number]> = [[0.7, 1], [1, 1], [1.1, 2], [3, 5], [7, 10], [140, 200], [0, 1]]
    for (const [x, want] of table) expect(niceCeil(x), String(x)).to.equal(want)
  })

  it('formats a table with one line per run', () => {
    const lines = formatTable(runs).split('\n')
    expect(lines).to.have.length(4)
    expect(lines[0]).to.match(/^run\s+p50 ms\s+p90 ms\s+p99 ms\s+max ms\s+conv ms\s+writes\/s/)
    expect(lines[1]).to.match(/^nodes=1 interval=50\s+0\.5\s+1\.5\s+5\.0\s+10\.0\s+4\s+999\s+100\s+110\s+90\.0\s+90\.0\s+1\.50\s+12\s+80$/)
    const withKill = formatTable([{ ...runs[0]!, detectMs: 5123 }, { ...runs[1]!, detectMs: null, convergeMs: null, missing: 3 }]).split('\n')
    expect(withKill[0]).to.match(/detect ms$/)
    expect(withKill[1]).to.match(/5123$/)
    expect(withKill[2]).to.match(/no \(3 missing\).*none in 60 s$/)
  })
})
