/**
 * One seed, one scenario, through fast-check: `fc.check` over an
 * `fc.asyncProperty` of the seed's family, with `numRuns: 1` so seed N always
 * means the same scenario. Why a scenario record and not `fc.commands`: a
 * cluster run is one long async interaction whose operations depend on
 * virtual time passing between them; as plain data (node configs, an array
 * of operations with their gaps, faults) fast-check shrinks it by dropping
 * and simplifying operations while every shrunk candidate stays runnable
 * (operations address nodes modulo the live ones), and the whole scenario
 * prints as a readable trace. Model-based commands would need an async model
 * of the cluster's eventual state, which is exactly what the oracle computes
 * after the fact.
 *
 * Without shrinking (`endOnFailure`), a failing seed costs one run: the
 * sweep's mode. With shrinking, fast-check replays smaller scenarios until
 * none fails any more (bounded by `shrinkMs`), and the result carries the
 * `path` that replays the shrunk scenario directly.
 */
import fc from 'fast-check'
import { scenarioArb, type Family } from './generators.js'
import type { Scenario } from './model.js'
import type { Oracle } from './oracle.js'
import { runScenario } from './run.js'

export interface SeedResult {
  seed: number
  family: Family
  failed: boolean
  /** the oracle of the (shrunk) failing run, or of the one run when it passed */
  oracle?: Oracle
  scenario?: Scenario
  /** fast-check's path of the reported run (replays it with `--path`) */
  path?: string
  /** an exception thrown by the simulator itself (not an invariant) */
  error?: string
  /** fast-check runs made (1 without shrinking) */
  runs: number
  /** the run was replayed from a given path (a shrunk case) */
  replayed: boolean
  ms: number
}

export interface SeedOptions {
  shrink?: boolean
  /** replay the run at this fast-check path */
  path?: string
  /** stop shrinking after this much wall time @default 120000 */
  shrinkMs?: number
}

class InvariantsBroken extends Error {}

export async function checkSeed(seed: number, family: Family, opts: SeedOptions = {}): Promise<SeedResult> {
  const started = performance.now()
  let last: { oracle: Oracle; scenario: Scenario } | undefined
  let lastFailing: typeof last
  let runs = 0
  const prop = fc.asyncProperty(scenarioArb(family), async (scenario) => {
    runs++
    const oracle = await runScenario(scenario)
    last = { oracle, scenario }
    if (oracle.violations.length > 0) {
      lastFailing = last
      throw new InvariantsBroken(oracle.violations.map((v) => v.invariant).join(', '))
    }
  })
  const details = await fc.check(prop, {
    seed, numRuns: 1, endOnFailure: opts.shrink !== true, ...(opts.path === undefined ? {} : { path: opts.path }),
    ...(opts.shrink === true ? { interruptAfterTimeLimit: opts.shrinkMs ?? 120_000 } : {})
  })
  const ms = performance.now() - started
  const shown = details.failed ? (lastFailing ?? last) : last
  const error = details.failed && !(details.errorInstance instanceof InvariantsBroken) ? String((details.errorInstance as Error)?.stack ?? details.errorInstance) : undefined
  return {
    seed, family, failed: details.failed, oracle: shown?.oracle, scenario: shown?.scenario,
    path: opts.path ?? details.counterexamplePath ?? undefined, error, runs, replayed: opts.path !== undefined, ms
  }
}
