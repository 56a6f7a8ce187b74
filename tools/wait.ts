/**
 * Waiting until something holds, in one place for the tools and the specs
 * (`spec/support/virtual-time.ts` builds on it):
 *
 * - on a `ManualClock` (virtual time): {@link runUntil}, {@link runFor},
 *   {@link settle} step the clock in small increments and let promise
 *   callbacks run between steps (one macrotask turn per step), so async code
 *   driven by the clock (push-pull, TCP pings on the in-memory network)
 *   progresses; no wall-clock sleep;
 * - on the wall clock (real sockets, real processes): {@link pollUntil}.
 */
import type { ManualClock } from '../lib/testing.js'

/** Lets pending promise callbacks (and anything queued before) run: one macrotask turn. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** Runs virtual time for `ms`, `stepMs` at a time. */
export async function runFor(clock: ManualClock, ms: number, stepMs: number): Promise<void> {
  const end = clock.now() + ms
  while (clock.now() < end) {
    clock.advance(Math.min(stepMs, end - clock.now()))
    await flush()
  }
}

/**
 * Steps the clock by `stepMs` until `predicate()` holds (checked at once, then
 * every `checkEveryMs` of virtual time: a costly predicate can be checked
 * less often) or `maxMs` passed. Returns the virtual ms it took, or -1.
 */
export async function runUntil(clock: ManualClock, predicate: () => boolean, maxMs: number, stepMs: number, checkEveryMs = stepMs): Promise<number> {
  const start = clock.now()
  let sinceCheck = 0
  for (;;) {
    if (sinceCheck >= checkEveryMs || sinceCheck === 0) {
      if (predicate()) return clock.now() - start
      sinceCheck = 0
    }
    if (clock.now() - start >= maxMs) return -1
    clock.advance(stepMs)
    sinceCheck += stepMs
    await flush()
  }
}

/**
 * Steps the clock until `p` settles and returns (or throws) its outcome.
 * @throws Error when it has not settled after `maxMs` of virtual time.
 */
export async function settle<T>(clock: ManualClock, p: Promise<T>, maxMs: number, stepMs: number): Promise<T> {
  let done = false
  const watched = p.finally(() => { done = true })
  watched.catch(() => {})
  if (await runUntil(clock, () => done, maxMs, stepMs) < 0) throw new Error(`promise did not settle within ${maxMs} ms of virtual time`)
  return watched
}

/**
 * Polls `holds` every `everyMs` of wall-clock time until it is true; throws
 * an Error with `failure()` as its message once more than `timeoutMs` passed.
 * Returns the ms it took.
 */
export async function pollUntil(holds: () => boolean | Promise<boolean>, timeoutMs: number, failure: () => string, everyMs = 100): Promise<number> {
  const t0 = Date.now()
  for (;;) {
    if (await holds()) return Date.now() - t0
    if (Date.now() - t0 > timeoutMs) throw new Error(failure())
    await new Promise((r) => setTimeout(r, everyMs))
  }
}
