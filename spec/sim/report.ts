/**
 * Readable output of the simulator: a one-line summary per failing seed (for
 * the sweep), and the full report of one failure: violations, the operation
 * trace of the (shrunk) scenario, and the exact command that replays it.
 */
import type { SeedResult } from './property.js'

/** The command that replays `r` (the shrunk case when `r.path` is set). */
export function replayCommand(r: Pick<SeedResult, 'seed' | 'family' | 'path' | 'runs' | 'replayed'>): string {
  const family = r.family === 'mixed' ? '' : ` --family ${r.family}`
  const path = r.path === undefined || (r.runs <= 1 && !r.replayed) ? '' : ` --path ${r.path}`
  return `npm run sim -- --seed ${r.seed}${family}${path}`
}

/** The distinct invariants a run broke, most frequent first. */
export function brokenInvariants(r: SeedResult): string[] {
  const counts = new Map<string, number>()
  for (const v of r.oracle?.violations ?? []) counts.set(v.invariant, (counts.get(v.invariant) ?? 0) + 1)
  if (r.error !== undefined) counts.set('simulator-error', 1)
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => (n > 1 ? `${k}×${n}` : k))
}

export function summaryLine(r: SeedResult): string {
  const fam = r.oracle?.trace[0]?.split(',')[0] ?? r.family
  return `seed ${r.seed} (${fam}): ${brokenInvariants(r).join(', ')}  ->  ${replayCommand(r)}`
}

/** The full report of one seed: violations, trace, replay command. */
export function fullReport(r: SeedResult, traceLines = 400): string {
  const out: string[] = []
  const shrunk = r.failed && (r.runs > 1 || r.replayed)
  out.push(`${r.failed ? 'FAILED' : 'passed'}: seed ${r.seed}, family ${r.family}${shrunk ? `, shrunk to path ${r.path}` : ''} (${r.runs} runs, ${Math.round(r.ms)} ms)`)
  if (r.error !== undefined) out.push(`simulator error: ${r.error}`)
  const o = r.oracle
  if (o !== undefined) {
    if (o.violations.length > 0) {
      out.push(`violations (${o.violations.length}):`)
      for (const v of o.violations.slice(0, 30)) out.push(`  - ${v.invariant}: ${v.detail}`)
    }
    out.push(`trace${shrunk ? ' of the shrunk scenario' : ''}:`)
    for (const line of o.trace.slice(0, traceLines)) out.push(`  ${line}`)
    if (o.trace.length > traceLines) out.push(`  … ${o.trace.length - traceLines} more lines`)
  }
  out.push(`replay: ${replayCommand(r)}`)
  return out.join('\n')
}
