/**
 * Bounded waits on the injected clock: run an abortable operation, and stop
 * waiting for it when a parent signal aborts or a timeout passes, whichever
 * comes first. The operation's own signal is aborted then, so it can drop its
 * pending state; no listener or timer outlives the wait.
 */
import type { Clock } from '../clock.js'

/** Settings of one {@link raceAbort} wait. */
export interface RaceAbortOptions<T> {
  clock: Clock
  /** Stops the wait (rejecting with its reason) when it aborts. */
  parent: AbortSignal
  /** Stops the wait after this long (rejecting with `timeoutReason()`). */
  timeoutMs: number
  /** The rejection reason on timeout. */
  timeoutReason: () => unknown
  /** Called with a value that arrived after the wait had already stopped. */
  onLate?: (value: T) => void
}

/**
 * Runs `start(signal)` and settles like it, unless `parent` aborts or
 * `timeoutMs` passes first: then `signal` is aborted and the returned promise
 * rejects with the parent's reason or `timeoutReason()`. Rejects at once,
 * without calling `start`, when `parent` is already aborted. A synchronous
 * throw from `start` becomes the rejection.
 */
export function raceAbort<T>(opts: RaceAbortOptions<T>, start: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { clock, parent } = opts
  if (parent.aborted) return Promise.reject(parent.reason)
  return new Promise<T>((resolve, reject) => {
    const ctl = new AbortController()
    let done = false
    const finish = (): boolean => {
      if (done) return false
      done = true
      clock.clearTimeout(timer)
      parent.removeEventListener('abort', onParent)
      ctl.signal.removeEventListener('abort', onAbort)
      return true
    }
    const onParent = (): void => ctl.abort(parent.reason)
    const onAbort = (): void => {
      if (finish()) reject(ctl.signal.reason)
    }
    const timer = clock.setTimeout(() => ctl.abort(opts.timeoutReason()), opts.timeoutMs)
    parent.addEventListener('abort', onParent, { once: true })
    ctl.signal.addEventListener('abort', onAbort, { once: true })
    let p: Promise<T>
    try {
      p = start(ctl.signal)
    } catch (err) {
      p = Promise.reject(err)
    }
    p.then(
      (value) => {
        if (finish()) resolve(value)
        else opts.onLate?.(value)
      },
      (err: unknown) => {
        if (finish()) reject(err)
      }
    )
  })
}
