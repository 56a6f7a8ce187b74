/**
 * The live entries' storage, struct-of-arrays: one slot per key, its fields
 * in columns indexed by slot number, and the LRU order as a doubly linked
 * list through two `Uint32Array`s.
 *
 * Why not objects in an `lru-cache`: an entry object, its version object and
 * a `Buffer` view per value cost about 250 bytes per key on top of the key
 * and the value, 1.6–2× what a raw lru-cache holding the same strings
 * takes. Here a key costs its `Map` entry, two array cells (key, value)
 * and 42 bytes of typed-array columns
 * (links, wall, counter, origin id, seq, expiry, size): numbers are stored
 * unboxed and versions are not objects until someone asks for one. lru-cache
 * keeps its own links in typed arrays the same way, but its slot numbers are
 * private, so our columns could not share them: hence this table. Columns
 * grow as keys arrive, up to the `maxKeys` bound (no up-front reservation,
 * so a large `maxKeys` costs nothing until keys arrive): doubling while
 * small, then by a quarter, so that a large table carries little slack.
 *
 * The index maps a key to a *handle*: the slot number for a key without a
 * TTL, its bitwise complement (negative) for a key with one. A read learns
 * whether it must check an expiry from the handle it already loaded, so a
 * key without a TTL never touches the expiry column (one CPU cache miss
 * fewer per read), and one with a TTL needs no second lookup.
 *
 * This module knows nothing of versions or values: it is slots, columns and
 * recency. live-entries.ts gives the columns their meaning.
 */

/** "No slot": the end of the recency list. */
export const NIL = 0xffffffff

/** Initial column length. */
const INITIAL_SLOTS = 1024
/** Columns double up to this length, then grow by a quarter (less slack per key where it counts). */
const DOUBLING_SLOTS = 1 << 16

export class Slots {
  /** Key → handle (slot, or `~slot` for a key with a TTL). Read it freely; change it only through this class. */
  readonly index = new Map<string, number>()
  /** Slot → key (`undefined` when free). */
  readonly keys: (string | undefined)[] = []
  /** Slot → value, as live-entries.ts defines it. */
  readonly vals: unknown[] = []
  /**
   * Slot → encoded bytes of an object value as a latin1 string (one byte per
   * char). A `Map` and not a column: most values in a cache are scalars,
   * which keep no bytes (live-entries.ts), so a column would cost 8 bytes
   * on every key for the few that use it.
   */
  readonly raws = new Map<number, string>()
  next: Uint32Array
  prev: Uint32Array
  wall: Float64Array
  seq: Float64Array
  expiresAt: Float64Array
  counter: Uint16Array
  origin: Uint32Array
  /** Slot → the bytes its entry counts against `maxBytes`. */
  size: Uint32Array
  /** Least recently used slot, or {@link NIL}. */
  head = NIL
  /** Most recently used slot, or {@link NIL}. */
  tail = NIL
  private readonly free: number[] = []
  private capacity: number
  /**
   * The last key {@link find} or {@link setHandle} saw and its handle: a
   * write looks its key up three times (the version floor, the merge, the
   * put), and a lookup of a key among a million is a cache miss or two.
   * Every change of the index goes through this class, which forgets it.
   */
  private memoKey: string | undefined = undefined
  private memoHandle: number | undefined = undefined

  /** @param maxSlots - most keys ever held (the columns never grow past it). */
  constructor(private readonly maxSlots: number) {
    this.capacity = Math.min(maxSlots, INITIAL_SLOTS)
    this.next = new Uint32Array(this.capacity)
    this.prev = new Uint32Array(this.capacity)
    this.wall = new Float64Array(this.capacity)
    this.seq = new Float64Array(this.capacity)
    this.expiresAt = new Float64Array(this.capacity)
    this.counter = new Uint16Array(this.capacity)
    this.origin = new Uint32Array(this.capacity)
    this.size = new Uint32Array(this.capacity)
  }

  /** Keys held. */
  get count(): number {
    return this.index.size
  }

  /** The handle of `key` (slot, or `~slot` with a TTL), if it is held. */
  find(key: string): number | undefined {
    if (key === this.memoKey) return this.memoHandle
    const h = this.index.get(key)
    this.memoKey = key // a miss too: a write of a new key looks it up three times
    this.memoHandle = h
    return h
  }

  /** Sets the handle of `key` (its slot, from {@link add} or {@link find}). */
  setHandle(key: string, h: number): void {
    this.index.set(key, h)
    this.memoKey = key
    this.memoHandle = h
  }

  /** A free slot for `key`, linked as the most recent; the caller fills its columns and sets the handle. */
  add(key: string): number {
    this.memoKey = undefined
    let s = this.free.pop()
    if (s === undefined) {
      s = this.keys.length
      if (s >= this.capacity) this.grow()
      this.keys.push(key)
      this.vals.push(undefined)
    } else {
      this.keys[s] = key
    }
    this.linkTail(s)
    return s
  }

  /** Frees slot `s` (its key leaves the index). */
  remove(s: number): void {
    this.memoKey = undefined
    this.index.delete(this.keys[s]!)
    this.unlink(s)
    this.keys[s] = undefined
    this.vals[s] = undefined
    if (this.raws.size !== 0) this.raws.delete(s)
    this.expiresAt[s] = 0
    this.free.push(s)
  }

  /** Makes `s` the most recently used. */
  touch(s: number): void {
    if (s === this.tail) return
    this.unlink(s)
    this.linkTail(s)
  }

  /** The slots, most recently used first. */
  *byRecency(): Generator<number, void, undefined> {
    for (let s = this.tail; s !== NIL; s = this.prev[s]!) yield s
  }

  clear(): void {
    this.memoKey = undefined
    this.index.clear()
    this.keys.length = 0
    this.vals.length = 0
    this.raws.clear()
    this.free.length = 0
    this.head = this.tail = NIL
    this.expiresAt.fill(0)
  }

  private linkTail(s: number): void {
    this.prev[s] = this.tail
    this.next[s] = NIL
    if (this.tail === NIL) this.head = s
    else this.next[this.tail] = s
    this.tail = s
  }

  private unlink(s: number): void {
    const p = this.prev[s]!, n = this.next[s]!
    if (p === NIL) this.head = n
    else this.next[p] = n
    if (n === NIL) this.tail = p
    else this.prev[n] = p
  }

  private grow(): void {
    const cap = Math.min(this.maxSlots, Math.max(INITIAL_SLOTS, this.capacity < DOUBLING_SLOTS ? this.capacity * 2 : Math.ceil(this.capacity * 1.25)))
    if (cap <= this.capacity) throw new RangeError(`slot table full at ${this.capacity} slots`) // the caller evicts first
    const more = <T extends Uint32Array | Float64Array | Uint16Array>(a: T, make: new (n: number) => T): T => {
      const b = new make(cap)
      b.set(a)
      return b
    }
    this.next = more(this.next, Uint32Array)
    this.prev = more(this.prev, Uint32Array)
    this.wall = more(this.wall, Float64Array)
    this.seq = more(this.seq, Float64Array)
    this.expiresAt = more(this.expiresAt, Float64Array)
    this.counter = more(this.counter, Uint16Array)
    this.origin = more(this.origin, Uint32Array)
    this.size = more(this.size, Uint32Array)
    this.capacity = cap
  }
}
