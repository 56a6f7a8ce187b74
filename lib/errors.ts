/**
 * Error classes. Every error bcache raises on purpose is a {@link BcacheError}
 * with a stable `code`; the README keeps the table of codes.
 */
export class BcacheError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'BcacheError'
    this.code = code
  }
}

/** The node (or transport) was closed; the operation cannot run. */
export class ClosedError extends BcacheError {
  constructor(what = 'node') {
    super('BCACHE_ERR_CLOSED', `${what} is closed`)
    this.name = 'ClosedError'
  }
}

/** A network operation (dial, stream exchange, join) did not finish in time. */
export class TimeoutError extends BcacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BCACHE_ERR_TIMEOUT', message, options)
    this.name = 'TimeoutError'
  }
}

/** Joining the cluster failed: no seed could be reached. */
export class JoinError extends BcacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BCACHE_ERR_JOIN', message, options)
    this.name = 'JoinError'
  }
}

/** Joining found another live member with this node's id: ids must be unique in a cluster. */
export class DuplicateNodeIdError extends BcacheError {
  constructor(message: string) {
    super('BCACHE_ERR_DUPLICATE_NODE_ID', message)
    this.name = 'DuplicateNodeIdError'
  }
}

/** A stream peer broke the protocol or the connection failed. */
export class StreamError extends BcacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BCACHE_ERR_STREAM', message, options)
    this.name = 'StreamError'
  }
}

/** Binding the listen address failed. */
export class BindError extends BcacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BCACHE_ERR_BIND', message, options)
    this.name = 'BindError'
  }
}

/**
 * A `getWithFiller` call did not finish within its `timeoutMs` (lease waits,
 * queueing and the filler itself included). The filler's signal is aborted.
 */
export class FillTimeoutError extends BcacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BCACHE_ERR_FILL_TIMEOUT', message, options)
    this.name = 'FillTimeoutError'
  }
}

/**
 * A `getWithFiller` caller stopped waiting: its `signal` aborted (the reason
 * is the `cause`), or every caller did and the shared fill was abandoned.
 */
export class FillAbortedError extends BcacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BCACHE_ERR_FILL_ABORTED', message, options)
    this.name = 'FillAbortedError'
  }
}

/**
 * A filler failed without an `Error` of its own: it threw a non-Error value
 * (kept as the `cause`) or returned `undefined`. A filler's own `Error` is
 * passed to the callers as is.
 */
export class FillError extends BcacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('BCACHE_ERR_FILL', message, options)
    this.name = 'FillError'
  }
}

/**
 * A call that is well-formed but not allowed in the current state, e.g.
 * `keyring.remove(key)` on the primary key (`use()` another key first) or
 * `Membership.setDelegate()` after `start()`. The message says what to do.
 */
export class InvalidStateError extends BcacheError {
  constructor(message: string) {
    super('BCACHE_ERR_INVALID_STATE', message)
    this.name = 'InvalidStateError'
  }
}

/** Why a {@link AckError} was raised (stable strings). */
export type AckFailure = 'too-few-members' | 'timeout' | 'unreachable' | 'closed'

/**
 * A `setAcked` write was not held by as many nodes as asked within its
 * `timeoutMs`. The write stays applied on this node and replicates as any
 * write does; only the acknowledgement failed. `acked` nodes (this one
 * included) were known to hold it, `needed` were asked for. `reason`:
 * `'too-few-members'` (fewer live members than `needed` at the call: raised
 * at once), `'timeout'`, `'unreachable'` (too many peers refused the write or
 * failed to answer for `needed` to be reachable), `'closed'` (this node closed
 * while waiting).
 */
export class AckError extends BcacheError {
  readonly acked: number
  readonly needed: number
  readonly reason: AckFailure
  constructor(reason: AckFailure, acked: number, needed: number, message: string, options?: { cause?: unknown }) {
    super('BCACHE_ERR_ACKS', `${message} (${acked} of ${needed} acks)`, options)
    this.name = 'AckError'
    this.reason = reason
    this.acked = acked
    this.needed = needed
  }
}
