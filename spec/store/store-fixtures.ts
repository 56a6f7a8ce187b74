/** Helpers shared by the store specs: entries built from short descriptions. */
import { encodeValue, NOT_DECODED, type Entry } from '../../lib/store/versioned-store.js'

/** What a test says about a write; everything else gets a default. */
export interface WriteSpec {
  key?: string
  value?: unknown
  wall: number
  counter?: number
  origin: string
  seq: number
  expiresAt?: number
  /** Leave the value undecoded, as a replicated entry arrives. */
  replicated?: boolean
}

/** A live entry. */
export function write(w: WriteSpec): Entry {
  const value = 'value' in w ? w.value : `${w.origin}@${w.wall}.${w.counter ?? 0}`
  return {
    key: w.key ?? 'k',
    bytes: encodeValue(value),
    value: w.replicated === true ? NOT_DECODED : value,
    version: { wall: w.wall, counter: w.counter ?? 0, origin: w.origin },
    seq: w.seq,
    expiresAt: w.expiresAt ?? 0,
    tombstone: false
  }
}

/** A tombstone (a versioned delete). */
export function del(w: Omit<WriteSpec, 'value' | 'expiresAt' | 'replicated'>): Entry {
  return {
    key: w.key ?? 'k',
    bytes: Buffer.alloc(0),
    value: undefined,
    version: { wall: w.wall, counter: w.counter ?? 0, origin: w.origin },
    seq: w.seq,
    expiresAt: 0,
    tombstone: true
  }
}

/** A copy of `e` as another node would receive it (fresh object, undecoded value). */
export function received(e: Entry): Entry {
  return { ...e, version: { ...e.version }, value: e.tombstone ? undefined : NOT_DECODED }
}

/** A `now` for `get`/`has` that fails the test if it is called. */
export function noClock(): number {
  throw new Error('now() called for a key without TTL')
}

/** All permutations of `items`. */
export function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()]
  const out: T[][] = []
  items.forEach((item, i) => {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)]
    for (const p of permutations(rest)) out.push([item, ...p])
  })
  return out
}
