/**
 * The simulator's command line (`npm run sim -- ...`):
 *
 *   --seeds K      sweep K seeds from --from (default 1), no shrinking; prints
 *                  each failing seed with its broken invariants and replay
 *                  command, then a summary and the total time
 *   --seed N       run one seed: shrinks a failure (--no-shrink to skip) and
 *                  prints the violations, the trace and the replay command
 *   --path P       with --seed: replay fast-check's path P (a shrunk case)
 *   --family F     one scenario family (default: mixed, any family per seed)
 *   --trace        with --seed: print the trace of a passing run too
 *
 * Exit code 1 when any seed failed.
 */
import { FAMILIES, type Family } from './generators.js'
import { checkSeed } from './property.js'
import { brokenInvariants, fullReport, summaryLine } from './report.js'

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`)
  return i < 0 ? undefined : process.argv[i + 1]
}

function familyArg(): Family {
  const f = arg('family') ?? 'mixed'
  if (f !== 'mixed' && !(FAMILIES as readonly string[]).includes(f)) throw new RangeError(`--family must be mixed or one of ${FAMILIES.join(', ')}`)
  return f as Family
}

async function one(seed: number, family: Family): Promise<boolean> {
  const shrink = !process.argv.includes('--no-shrink')
  const path = arg('path')
  const r = await checkSeed(seed, family, { shrink: shrink && path === undefined, ...(path === undefined ? {} : { path }) })
  if (r.failed || process.argv.includes('--trace')) console.log(fullReport(r))
  else console.log(`seed ${seed} passed (${Math.round(r.ms)} ms)`)
  return !r.failed
}

async function sweep(from: number, count: number, family: Family): Promise<boolean> {
  const started = performance.now()
  const byInvariant = new Map<string, number[]>()
  let failed = 0
  for (let seed = from; seed < from + count; seed++) {
    const r = await checkSeed(seed, family)
    if (!r.failed) continue
    failed++
    console.log(summaryLine(r))
    for (const inv of brokenInvariants(r)) {
      const name = inv.replace(/×\d+$/, '')
      byInvariant.set(name, [...(byInvariant.get(name) ?? []), seed])
    }
  }
  const s = ((performance.now() - started) / 1000).toFixed(1)
  console.log(`\n${count - failed}/${count} seeds passed (family ${family}, seeds ${from}..${from + count - 1}) in ${s} s`)
  for (const [inv, seeds] of [...byInvariant.entries()].sort((a, b) => b[1].length - a[1].length)) {
    console.log(`  ${inv}: ${seeds.length} seeds (${seeds.slice(0, 12).join(' ')}${seeds.length > 12 ? ' …' : ''})`)
  }
  return failed === 0
}

const family = familyArg()
const seed = arg('seed')
const ok = seed !== undefined ? await one(Number(seed), family) : await sweep(Number(arg('from') ?? 1), Number(arg('seeds') ?? 100), family)
process.exitCode = ok ? 0 : 1
