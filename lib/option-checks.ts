/**
 * The validators every option goes through (create options, tuning, fill
 * settings, per-call fill options), so that every bad option fails the same
 * way. Each check takes the option's path (`maxKeys`, `tuning.probeIntervalMs`,
 * `peers[0]`), returns the value typed, and throws with a message that starts
 * with `option <path>: `.
 *
 * Which error: a value of the wrong JavaScript type (a string for a number,
 * an object without the needed methods) is a `TypeError`; a value of the
 * right type outside its domain (a fraction where an integer is needed,
 * `NaN`, `Infinity`, below or above a bound, not one of the choices) is a
 * `RangeError`; an unknown option name is a `TypeError`. That is Node's own
 * convention (`ERR_INVALID_ARG_TYPE` versus `ERR_OUT_OF_RANGE`). One
 * exception, kept from before: an empty string where a non-empty one is
 * needed is a `TypeError`, as for an empty key.
 *
 * A leaf: imports nothing of its own.
 */

/** Prefix of every message: `option <path>: `. */
export function optionMessage(path: string, problem: string): string {
  return `option ${path}: ${problem}`
}

/** A short, safe rendering of a bad value for a message. */
export function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === undefined || v === null) return String(v)
  if (typeof v === 'function') return 'a function'
  if (Array.isArray(v)) return 'an array'
  return typeof v === 'object' ? 'an object' : typeof v
}

function number(path: string, v: unknown): number {
  if (typeof v !== 'number') throw new TypeError(optionMessage(path, `must be a number, got ${describeValue(v)}`))
  return v
}

/** An integer in `[min, max]` (both inclusive). */
export function intIn(path: string, v: unknown, min: number, max: number): number {
  const n = number(path, v)
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RangeError(optionMessage(path, `must be an integer from ${min} to ${max}, got ${describeValue(v)}`))
  }
  return n
}

/** An integer ≥ 1 that is exactly representable (at most `Number.MAX_SAFE_INTEGER`). */
export function positiveInt(path: string, v: unknown): number {
  const n = number(path, v)
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(optionMessage(path, `must be a positive integer, got ${describeValue(v)}`))
  return n
}

/** An integer ≥ 0 that is exactly representable. */
export function nonNegativeInt(path: string, v: unknown): number {
  const n = number(path, v)
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(optionMessage(path, `must be a non-negative integer, got ${describeValue(v)}`))
  return n
}

/** A finite number in `[min, max]`; with `minExclusive`, in `(min, max]`. */
export function finiteIn(path: string, v: unknown, min: number, max: number, minExclusive = false): number {
  const n = number(path, v)
  const low = minExclusive ? n > min : n >= min
  if (!Number.isFinite(n) || !low || n > max) {
    const range = max === Number.MAX_VALUE
      ? (minExclusive ? `greater than ${min}` : `at least ${min}`)
      : `from ${min}${minExclusive ? ' (exclusive)' : ''} to ${max}`
    throw new RangeError(optionMessage(path, `must be a finite number ${range}, got ${describeValue(v)}`))
  }
  return n
}

/** A finite number > 0. */
export function positiveFinite(path: string, v: unknown): number {
  return finiteIn(path, v, 0, Number.MAX_VALUE, true)
}

/** A finite number ≥ 0. */
export function nonNegativeFinite(path: string, v: unknown): number {
  return finiteIn(path, v, 0, Number.MAX_VALUE)
}

/** One of `choices` (compared with `===`). */
export function oneOf<T extends string | number>(path: string, v: unknown, choices: readonly T[]): T {
  if (!choices.includes(v as T)) {
    const Err = typeof v === typeof choices[0] ? RangeError : TypeError
    throw new Err(optionMessage(path, `must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')}; got ${describeValue(v)}`))
  }
  return v as T
}

/** `true` or `false`. */
export function bool(path: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw new TypeError(optionMessage(path, `must be a boolean, got ${describeValue(v)}`))
  return v
}

/** A string; with `maxBytes`, of at most that many UTF-8 bytes; with `nonEmpty`, not `''`. */
export function str(path: string, v: unknown, limits: { nonEmpty?: boolean; maxBytes?: number } = {}): string {
  if (typeof v !== 'string') throw new TypeError(optionMessage(path, `must be a string, got ${describeValue(v)}`))
  if (limits.nonEmpty === true && v.length === 0) throw new TypeError(optionMessage(path, 'must not be empty'))
  const max = limits.maxBytes
  if (max !== undefined && v.length * 3 > max && Buffer.byteLength(v) > max) {
    throw new RangeError(optionMessage(path, `must be at most ${max} UTF-8 bytes, got ${Buffer.byteLength(v)}`))
  }
  return v
}

/** A function. */
export function func<F extends (...args: never[]) => unknown>(path: string, v: unknown): F {
  if (typeof v !== 'function') throw new TypeError(optionMessage(path, `must be a function, got ${describeValue(v)}`))
  return v as F
}

/** A non-null object (not an array): an options bag. */
export function object(path: string, v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new TypeError(optionMessage(path, `must be an object, got ${describeValue(v)}`))
  }
  return v as Record<string, unknown>
}

/** An object with every method in `methods` (e.g. a logger). `hint` ends the message. */
export function withMethods<T>(path: string, v: unknown, methods: readonly string[], hint = ''): T {
  const missing = typeof v === 'object' && v !== null ? methods.filter((m) => typeof (v as Record<string, unknown>)[m] !== 'function') : methods
  if (missing.length > 0) {
    const what = typeof v === 'object' && v !== null ? `an object without ${missing.join(', ')}` : describeValue(v)
    throw new TypeError(optionMessage(path, `must be an object with ${methods.join(', ')} functions${hint}, got ${what}`))
  }
  return v as T
}

/**
 * Refuses every own key of `bag` that is not in `known` (a typo must not
 * silently do nothing), naming it and, when one is close, the known option
 * it resembles. `prefix` is the bag's path (`'fill'`), `''` at top level.
 */
export function knownKeys(prefix: string, bag: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(bag)) {
    if (known.includes(key)) continue
    const path = prefix === '' ? key : `${prefix}.${key}`
    const near = closest(key, known)
    const hint = near === undefined ? '' : ` (did you mean ${prefix === '' ? near : `${prefix}.${near}`}?)`
    throw new TypeError(optionMessage(path, `unknown option${hint}`))
  }
}

/** The known name nearest to `name` (case-insensitive edit distance ≤ 2, and under a third of its length), if any. */
export function closest(name: string, known: readonly string[]): string | undefined {
  const a = name.toLowerCase()
  const limit = Math.min(2, Math.ceil(a.length / 3) - 1)
  let best: string | undefined
  let bestDistance = Infinity
  for (const k of known) {
    const d = editDistance(a, k.toLowerCase())
    if (d <= limit && d < bestDistance) {
      best = k
      bestDistance = d
    }
  }
  return best
}

/** Levenshtein distance (insert, delete, substitute; each costs 1). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = cur
  }
  return prev[b.length]!
}

/**
 * Runs a check that lives in a lower layer (an address parser, the keyring)
 * and makes its `TypeError`/`RangeError` start with `option <path>: ` too
 * (unless it already names the option). Other errors pass unchanged.
 */
export function underPath<T>(path: string, check: () => T): T {
  try {
    return check()
  } catch (err) {
    if (!(err instanceof TypeError || err instanceof RangeError) || err.message.startsWith(`option ${path}`)) throw err
    const Err = err instanceof RangeError ? RangeError : TypeError
    throw new Err(optionMessage(path, err.message), { cause: err })
  }
}
