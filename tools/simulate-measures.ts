/**
 * What the simulator reads off its nodes between two moments: datagram and
 * byte counters per node per virtual second, and memory after a full GC.
 */
import type { SimulationReport } from './simulate-report.js'

/** Anything with membership counters (a simulated node). */
export interface Counted {
  m: { stats(): { packetsOut: number; packetsIn: number; bytesOut: number; bytesIn: number } }
}

/**
 * `process.memoryUsage()` after a full GC, when node runs with --expose-gc.
 * Twice, a macrotask apart: freed typed-array backing stores are released
 * off the main thread, so `external` settles only after a turn.
 */
export async function memoryAfterGc(): Promise<NodeJS.MemoryUsage | undefined> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) return undefined
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((resolve) => setImmediate(resolve))
  }
  return process.memoryUsage()
}

export function packetsOut(nodes: readonly Counted[]): number[] {
  return nodes.map(({ m }) => m.stats().packetsOut)
}

/** Datagrams per node per virtual second between two snapshots of the same nodes. */
export function rates(before: readonly number[], after: readonly number[], ms: number): { avg: number; max: number } {
  if (ms <= 0) return { avg: 0, max: 0 }
  let sum = 0
  let max = 0
  for (let i = 0; i < before.length; i++) {
    const d = after[i]! - before[i]!
    sum += d
    if (d > max) max = d
  }
  return { avg: (sum / before.length) * 1000 / ms, max: max * 1000 / ms }
}

export type Counters = Array<{ packetsOut: number; packetsIn: number; bytesOut: number; bytesIn: number }>

export function counters(nodes: readonly Counted[]): Counters {
  return nodes.map(({ m }) => {
    const s = m.stats()
    return { packetsOut: s.packetsOut, packetsIn: s.packetsIn, bytesOut: s.bytesOut, bytesIn: s.bytesIn }
  })
}

/** Per node per virtual second between two snapshots of the same nodes: averages, and the busiest sender. */
export function trafficRates(before: Counters, after: Counters, ms: number): SimulationReport['load']['quietTraffic'] {
  const per = 1000 / ms / before.length
  const sum = { packetsOut: 0, packetsIn: 0, bytesOut: 0, bytesIn: 0 }
  let maxOut = 0
  for (let i = 0; i < before.length; i++) {
    for (const k of ['packetsOut', 'packetsIn', 'bytesOut', 'bytesIn'] as const) sum[k] += after[i]![k] - before[i]![k]
    maxOut = Math.max(maxOut, after[i]!.packetsOut - before[i]!.packetsOut)
  }
  return { packetsOut: sum.packetsOut * per, packetsIn: sum.packetsIn * per, bytesOut: sum.bytesOut * per, bytesIn: sum.bytesIn * per, maxPacketsOut: maxOut * 1000 / ms }
}
