import { expect } from 'chai'
import { formatTable, isDefaultTuning, niceCeil, renderChart, renderSimulationChart } from '../../tools/bench-chart.js'
import type { RunReport } from '../../tools/bench-run.js'
import { logTicks, niceTicks, paretoFront } from '../../tools/bench-scatter.js'
import type { SimulationReport } from '../../tools/simulate-report.js'

function run(label: string, p50: number, kbIn: number, tuning: RunReport['tuning'] = {}, cpuPercent = 12): RunReport {
  const fig = { packetsInPerSec: 100, packetsOutPerSec: 110, bytesInPerSec: kbIn * 1000, bytesOutPerSec: kbIn * 1000, bytesInPerPayloadByte: 1.5, cpuPercent, rssMiB: 80, lostPerSec: 0 }
  return {
    label, tuning, mode: 'cluster', nodes: 3, writers: 3, lossPercent: 0,
    lagMs: { count: 100, p50, p90: p50 * 3, p99: p50 * 10, max: p50 * 20 },
    missing: 0, convergeMs: 4, writesPerSec: 999, avg: fig, perNode: [{ nodeId: 'a', ...fig }]
  }
}

const circles = (svg: string): Array<{ cx: number; cy: number; r: number; fill: string }> =>
  [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)" r="([\d.]+)" fill="([^"]+)"/g)].map((m) => ({ cx: Number(m[1]), cy: Number(m[2]), r: Number(m[3]), fill: m[4]! }))

describe('tools/bench-chart', () => {
  const runs = [
    run('nodes=1 interval=50', 0.5, 90, { gossipNodes: 1, gossipIntervalMs: 50 }),
    run('nodes=3 interval=200', 0.7, 140, { gossipNodes: 3, gossipIntervalMs: 200 }, 10),
    run('<odd & "label">', 1.2, 100, { gossipNodes: 2 }, 20)
  ]

  it('plots lag p99 against KB/s and CPU, marks the front and the default, labels every axis', () => {
    const svg = renderChart(runs, 'subtitle & more')
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).to.equal(true)
    expect(svg.trimEnd().endsWith('</svg>')).to.equal(true)
    expect(svg).to.include('received per node, KB/s')
    expect(svg).to.include('CPU per node, % of one core')
    expect(svg.match(/lag p99, ms \(log scale\)/g)).to.have.length(2)
    // One dot per run and panel; front dots filled, others hollow; one ring per panel for the default (3 nodes / 200 ms on lan).
    const dots = circles(svg).filter((c) => c.fill !== 'none')
    expect(dots).to.have.length(6)
    expect(circles(svg).filter((c) => c.fill === 'none')).to.have.length(2)
    // Bandwidth: runs 1 and 2 trade off, run 3 is beaten by run 1; CPU: run 2 beats both.
    expect(dots.filter((c) => c.fill !== '#fff')).to.have.length(3)
    expect(svg).to.include('nodes=3 interval=200 (default)')
    expect(svg).to.include('2 default')
    expect(svg).to.include('&lt;odd &amp; &quot;label&quot;&gt;')
    expect(svg).to.include('subtitle &amp; more')
    expect(svg).not.to.include('NaN')
    for (const c of circles(svg)) {
      expect(c.cx).to.be.within(0, 960)
      expect(c.cy).to.be.within(0, 500)
    }
    expect(svg).not.to.match(/href|<script/)
  })

  it('stays legible with 24 runs: labels do not overlap, the legend has two columns inside the picture', () => {
    const many = Array.from({ length: 24 }, (_, i) => run(`nodes=${(i % 6) + 1} interval=${[50, 100, 200, 500][i >> 3] ?? 50} mult=${i}`, 0.5 + (i % 5) * 0.1, 80 + (i % 7) * 3, {}, 10 + (i % 4)))
    const svg = renderChart(many, 's')
    expect(circles(svg).filter((c) => c.fill !== 'none')).to.have.length(48)
    const h = Number(/height="(\d+)"/.exec(svg)![1])
    const labels = [...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)" class="n[^"]*">([^<]+)</g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]), w: m[3]!.length * 6.2 }))
    expect(labels).to.have.length(48)
    let overlapping = 0
    for (let i = 0; i < labels.length; i++) {
      for (let j = i + 1; j < labels.length; j++) {
        const a = labels[i]!, b = labels[j]!
        if (Math.abs(a.y - b.y) < 10 && a.x < b.x + b.w && b.x < a.x + a.w) overlapping++
      }
    }
    // 24 runs on 7 × 5 distinct spots: some labels must share a spot's neighbourhood, but few.
    expect(overlapping).to.be.below(8)
    for (const m of svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)"/g)) {
      expect(Number(m[1])).to.be.within(0, 960)
      expect(Number(m[2])).to.be.within(0, h)
    }
    expect(svg).to.include('>24<')
    expect(svg.length).to.be.below(40_000)
  })

  it('copes with one run and missing figures', () => {
    const r = run('defaults', NaN, 0)
    const svg = renderChart([r], '')
    expect(svg).not.to.include('NaN')
    expect(circles(svg)).to.have.length(0)
    expect(svg).to.include('left out of the panels')
  })

  it('draws a --simulate sweep: one panel per cluster size', () => {
    const sim = (nodes: number, gossipNodes: number, ms: number, rate: number): SimulationReport => ({
      nodes, lossPercent: 10, latencyMs: [1, 5], seed: 1,
      tuning: { profile: 'lan', gossipIntervalMs: 200, gossipNodes, retransmitMult: 4, probeIntervalMs: 1000 },
      bootstrap: { method: 'pre-seeded', drainMs: 1, drained: true },
      dissemination: { reached: nodes, reachedAll: ms > 0, timeToAllMs: ms, rounds: 3, boundRounds: 7, withinBound: true, timeToHalfMs: 1, timeTo99Ms: 1,
        timeTo9999Ms: 1, rounds99: 1, rounds9999: 1, model: { rounds99: 1, rounds9999: 1, ms99: 200, ms9999: 200 } },
      load: { quiet: { avg: 2, max: 3 }, dissemination: { avg: rate, max: rate, windowMs: 100 }, quietTraffic: { packetsOut: 2, packetsIn: 2, bytesOut: 100, bytesIn: 100, maxPacketsOut: 3 } },
      quiet: { seconds: 60, falseDeaths: 0, falselyDeadNodes: 0, suspicions: 0 }, heapMiB: 10, wallSeconds: 1,
      memory: { bytesPerRecord: -1, heapMiB: -1, externalMiB: -1, rssMiB: -1, peakRssMiB: 1 }
    })
    const svg = renderSimulationChart([sim(10, 1, 600, 7), sim(100, 1, 1000, 7), sim(10, 3, 300, 11), sim(100, 3, -1, 11)], 'sub')
    expect(svg).to.include('N = 10:')
    expect(svg).to.include('N = 100:')
    expect(svg).to.include('datagrams sent per node per second')
    expect(circles(svg).filter((c) => c.fill !== 'none')).to.have.length(3) // N=100 gossip 3 never reached all
    expect(svg).to.include('not all')
    expect(svg).to.include('(default)') // lan: 3 nodes every 200 ms, mult 4
    expect(svg).not.to.include('NaN')
  })

  it('finds the Pareto front (both axes minimised)', () => {
    expect(paretoFront([{ x: 1, y: 5 }, { x: 2, y: 2 }, { x: 3, y: 3 }, { x: 5, y: 1 }, { x: 2, y: 2 }])).to.deep.equal([true, true, false, true, true])
    expect(paretoFront([])).to.deep.equal([])
  })

  it('knows the profile default', () => {
    expect(isDefaultTuning({}, 'lan')).to.equal(true)
    expect(isDefaultTuning({ gossipNodes: 3, gossipIntervalMs: 200 }, 'lan')).to.equal(true)
    expect(isDefaultTuning({ gossipNodes: 3, gossipIntervalMs: 200 }, 'local')).to.equal(false)
    expect(isDefaultTuning({ gossipNodes: 1 }, 'lan')).to.equal(false)
  })

  it('picks round ticks', () => {
    expect(niceTicks(83, 131)).to.deep.equal([80, 90, 100, 110, 120, 130, 140])
    expect(niceTicks(0, 1)).to.deep.equal([0, 0.2, 0.4, 0.6, 0.8, 1])
    expect(logTicks(3, 40)).to.deep.equal([2, 5, 10, 20, 50])
    expect(logTicks(0.5, 0.5)).to.deep.equal([0.5, 0.6])
    expect(logTicks(1669, 1808)).to.deep.equal([1500, 2000])
    expect(logTicks(11, 35)).to.deep.equal([10, 12, 15, 20, 25, 30, 40])
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
    const lossy = { ...runs[0]!, lossPercent: 10, avg: { ...runs[0]!.avg, lostPerSec: 42 } }
    expect(formatTable([lossy]).split('\n')[1]).to.match(/\s42$/)
  })
})
