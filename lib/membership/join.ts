/**
 * Joining with retries. A node often starts before its seeds (a rolling
 * deploy, a Kubernetes StatefulSet whose pods come up together), so a join
 * that reaches no seed is tried again with exponential backoff and jitter,
 * up to `timeoutMs` after the first attempt:
 *
 * - attempt `k` (0-based) waits `min(maxDelayMs, baseDelayMs * 2^k)`, of
 *   which the upper half is random ({@link joinBackoffMs}), so nodes started
 *   together do not retry in lockstep; time and chance are injected;
 * - each attempt re-reads the seeds from the {@link PeerSource} (a host name
 *   may resolve to new addresses as pods appear);
 * - no seed at all (the first node) resolves at once, and so does a first
 *   read that throws because no name resolves (a Kubernetes headless service
 *   has no address until its first pod is ready): that node starts alone,
 *   with a warning, and the peer refresh (peer-refresh.ts) joins it later; `timeoutMs` 0 fails
 *   after the first attempt;
 * - a `DuplicateNodeIdError`, or an attempt where every seed *refused* us
 *   (wrong key, missing key, other label: see transport/refusal.ts), fails at
 *   once: waiting will not fix a misconfiguration, and the user should hear
 *   of it now.
 *
 * The final `JoinError` names every seed and why it failed.
 */
import type { Clock } from '../clock.js'
import { JoinError } from '../errors.js'
import type { Random } from '../random.js'
import { StreamRefusedError } from '../transport/refusal.js'

/** Where the seeds come from: resolved "host:port" addresses, re-read on every attempt. */
export type PeerSource = () => Promise<string[]>

/** Why one seed could not be joined through. */
export interface SeedFailure {
  seed: string
  error: unknown
}

/** The outcome of one join attempt. */
export interface JoinAttempt {
  /** Seeds that answered. */
  ok: number
  failures: SeedFailure[]
}

/** How `Membership.join` retries and refreshes. */
export interface JoinOptions {
  /** Keep retrying seeds this long, ms; 0 = one attempt. @default 0 */
  timeoutMs?: number
  /** Re-read a {@link PeerSource} this often, ms, after joining; 0 = never. @default 0 */
  refreshMs?: number
}

/** Settings of {@link joinWithRetry}. */
export interface JoinRetryInit {
  /** Give up this long after the first attempt; 0 = one attempt. */
  timeoutMs: number
  /** @default 200 */
  baseDelayMs?: number
  /** @default 5000 */
  maxDelayMs?: number
}

/** What {@link joinWithRetry} needs. */
export interface JoinRetryComponents {
  clock: Clock
  random: Random
  /** The seeds, this node's own address excluded by the caller. */
  seeds: PeerSource
  /** One attempt through `seeds`; rejects only with `DuplicateNodeIdError`. */
  attempt: (seeds: readonly string[]) => Promise<JoinAttempt>
  /** True once the node shut down: stop retrying. */
  isClosed: () => boolean
  /** Where a source that could not be read is reported. */
  warn?: (message: string) => void
}

/** The wait before retry `attempt` (0-based): `d/2 + random * d/2`, `d = min(maxMs, baseMs * 2^attempt)`. */
export function joinBackoffMs(attempt: number, random: Random, baseMs = 200, maxMs = 5000): number {
  const d = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30))
  return d / 2 + random() * (d / 2)
}

/**
 * Joins through the seeds, retrying as the file comment says. Resolves with
 * the number of seeds reached (0 when there are none).
 */
export async function joinWithRetry(c: JoinRetryComponents, init: JoinRetryInit): Promise<number> {
  const start = c.clock.now()
  let last: JoinAttempt = { ok: 0, failures: [] }
  for (let attempt = 0; ; attempt++) {
    let seeds: string[] = []
    try {
      seeds = await c.seeds()
    } catch (err) {
      // No name resolves (a headless service answers NXDOMAIN until its first pod is ready): as if no seed.
      c.warn?.(`membership: no peer address could be resolved (${String((err as Error)?.message ?? err)}); ${attempt === 0 ? 'starting alone, the peer refresh keeps trying' : 'retrying'}`)
    }
    // No seed but ourselves: the first node starts alone (a refresh finds the others later).
    if (seeds.length === 0 && attempt === 0) return 0
    if (seeds.length > 0) {
      last = await c.attempt(seeds)
      if (last.ok > 0) return last.ok
      if (last.failures.every((f) => f.error instanceof StreamRefusedError)) throw joinError(last, attempt + 1)
    }
    const wait = joinBackoffMs(attempt, c.random, init.baseDelayMs, init.maxDelayMs)
    if (c.isClosed() || c.clock.now() - start + wait > init.timeoutMs) throw joinError(last, attempt + 1, c.clock.now() - start)
    await sleep(c.clock, wait)
  }
}

function joinError(last: JoinAttempt, attempts: number, elapsedMs?: number): JoinError {
  const causes = last.failures.map((f) => describeFailure(f))
  const tried = attempts > 1 ? ` after ${attempts} attempts over ${Math.round(elapsedMs ?? 0)} ms` : ''
  const what = causes.length === 0 ? 'no seed address (the peer source returned none)' : causes.join('; ')
  return new JoinError(`could not join through any seed${tried} (${what})`, { cause: last.failures[0]?.error })
}

/** One seed's failure, in words a user can act on. */
export function describeFailure(f: SeedFailure): string {
  if (f.error instanceof StreamRefusedError) return `seed ${f.seed} refused the join: ${f.error.explain('the seed')}`
  return `${f.seed}: ${String((f.error as Error)?.message ?? f.error)}`
}

function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms))
}
