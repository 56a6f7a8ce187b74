/**
 * One in-flight fill of one key on this node, and the callers waiting on it
 * (single flight, as in groupcache's `singleflight`).
 *
 * The first caller creates the flight; its filler, `ttl` and timeout are the
 * flight's. Later callers join and share the outcome: every waiter receives
 * the same value or the same error object. A flight ends exactly once, in one
 * of five ways; the first to happen wins and the others are no-ops:
 *
 * - `value`: the fill (or a value that arrived by replication) succeeded;
 * - `error`: the filler failed, here or (told by the lease owner) at the node
 *   holding the lease; the error is not kept anywhere;
 * - `timeout`: the flight's deadline passed (`FillTimeoutError`);
 * - `abandoned`: every waiter left (own signal or own shorter timeout);
 * - `closed`: the filler was closed (`ClosedError`).
 *
 * On every end but `value` the flight's `signal` (the filler's `ctx.signal`,
 * and the parent of every wait the fill machinery does) aborts with that
 * error, so the filler can stop and no internal wait outlives the flight (a
 * filler that failed has already stopped: the abort is a no-op for it).
 *
 * A waiter leaving does not disturb the others: its own promise rejects at
 * once (`FillAbortedError` with the signal's reason as `cause`, or
 * `FillTimeoutError` for a joiner's own timeout shorter than the flight's).
 * A joiner's longer timeout cannot extend the flight's deadline.
 */
import type { Clock, Timer } from '../clock.js'
import { FillAbortedError, FillTimeoutError } from '../errors.js'

/** What a filler is given besides the key. */
export interface FillContext {
  /** Aborts when nobody waits for the fill any more (its timeout, every caller left, close). */
  signal: AbortSignal
  /**
   * Sets the TTL, in ms, the filled value is stored with (0 = no expiry),
   * over the caller's `ttl` and the cache's default: for a source that
   * knows how long its answer holds (an HTTP `max-age`, a token's expiry),
   * as the Go library's filler returns an expiry. The last call before the
   * filler returns wins. Throws `TypeError`/`RangeError` for anything but a
   * finite number of ms >= 0 (the filler then fails with that error unless
   * it catches it).
   */
  setTtl(ms: number): void
}

/** Loads the value of a missing key (see {@link FillContext}). */
export type FillFn<V> = (key: string, ctx: FillContext) => Promise<V> | V

/** How a {@link Flight} ended. */
export type FlightEnd = 'value' | 'error' | 'timeout' | 'abandoned' | 'closed'

interface Waiter<V> {
  resolve(value: V): void
  reject(err: unknown): void
  cleanup(): void
}

/** Short, printable form of a key for error messages. */
export function describeKey(key: string): string {
  return JSON.stringify(key.length > 64 ? `${key.slice(0, 64)}…` : key)
}

/** The shared state of one key's fill on this node. */
export class Flight<V> {
  /** The owner that granted this flight the lease; released when it ends. */
  leaseOwner: string | undefined
  /** The granted lease's id (its `expiresAt` in the owner's clock), sent back with the release. */
  leaseId: number | undefined
  /** The owner this flight last asked for the lease (itself included). */
  askedOwner: string | undefined
  /** Set once this node runs (or queues) the filler itself: no failure elsewhere applies then. */
  filling = false
  private readonly controller = new AbortController()
  // callers still waiting; emptied when the flight ends
  private readonly waiters = new Set<Waiter<V>>()
  private ended = false
  private readonly timer: Timer | undefined
  // absolute deadline of the flight (Infinity without a timeout)
  private readonly deadline: number

  constructor(
    private readonly clock: Clock,
    readonly key: string,
    readonly fn: FillFn<V>,
    readonly ttl: number | undefined,
    timeoutMs: number,
    private readonly onEnd: (how: FlightEnd, outcome: unknown) => void
  ) {
    if (timeoutMs > 0) {
      this.deadline = clock.now() + timeoutMs
      this.timer = clock.setTimeout(() => {
        this.end('timeout', new FillTimeoutError(`fill of ${describeKey(key)} timed out after ${timeoutMs} ms`))
      }, timeoutMs)
    } else {
      this.deadline = Infinity
    }
  }

  /** Aborts when the flight times out, is abandoned or closed. */
  get signal(): AbortSignal {
    return this.controller.signal
  }

  /** Whether the flight has ended (its outcome is delivered). */
  get done(): boolean {
    return this.ended
  }

  /** Callers still waiting. */
  get waiterCount(): number {
    return this.waiters.size
  }

  /**
   * Adds a caller. It leaves early when `signal` aborts, or after `timeoutMs`
   * when that is sooner than the flight's deadline (`0`/`undefined`: none).
   */
  join(signal?: AbortSignal, timeoutMs?: number): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      let timer: Timer | undefined
      const onAbort = (): void => {
        this.leave(w, new FillAbortedError(`fill of ${describeKey(this.key)} aborted by the caller`, { cause: signal?.reason }))
      }
      const w: Waiter<V> = {
        resolve,
        reject,
        cleanup: () => {
          signal?.removeEventListener('abort', onAbort)
          if (timer !== undefined) this.clock.clearTimeout(timer)
        }
      }
      this.waiters.add(w)
      signal?.addEventListener('abort', onAbort, { once: true })
      if (timeoutMs !== undefined && timeoutMs > 0 && this.clock.now() + timeoutMs < this.deadline) {
        timer = this.clock.setTimeout(() => {
          this.leave(w, new FillTimeoutError(`fill of ${describeKey(this.key)} timed out after ${timeoutMs} ms`))
        }, timeoutMs)
      }
    })
  }

  /** Ends the flight with a value for every waiter. */
  resolve(value: V): void {
    this.end('value', value)
  }

  /** Ends the flight with the filler's error for every waiter. */
  reject(err: unknown): void {
    this.end('error', err)
  }

  /** Ends the flight because the node is closing. */
  close(err: Error): void {
    this.end('closed', err)
  }

  private leave(w: Waiter<V>, err: Error): void {
    if (!this.waiters.delete(w)) return
    w.cleanup()
    w.reject(err)
    if (this.waiters.size === 0) {
      this.end('abandoned', new FillAbortedError(`fill of ${describeKey(this.key)} abandoned: every caller left`))
    }
  }

  private end(how: FlightEnd, outcome: unknown): void {
    if (this.ended) return
    this.ended = true
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    const waiters = [...this.waiters]
    this.waiters.clear()
    for (const w of waiters) {
      w.cleanup()
      if (how === 'value') w.resolve(outcome as V)
      else w.reject(outcome)
    }
    if (how !== 'value') this.controller.abort(outcome)
    this.onEnd(how, outcome)
  }
}
