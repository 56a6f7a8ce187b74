/**
 * Node ids and addresses as small integers, one table of each per process.
 *
 * Every member table holds every member, so in a process that runs many
 * nodes (the simulator runs 10,000) the same id and address strings appear
 * in every table. The roster (`member-roster.ts`) stores the integer from
 * here instead of the string: 4 bytes per field per record, and one string
 * per distinct value in the whole process.
 *
 * Entries are reference-counted: a roster acquires a string when it stores
 * it and releases it when it drops it (or when the roster itself is garbage
 * collected), and a string nobody holds is forgotten and its number reused.
 * So the table is bounded by the distinct strings held at one time, never
 * by churn over the process's life (DESIGN.md, invariant 10).
 */

/** Reference-counted string ↔ integer table. */
export class InternedStrings {
  private readonly ids = new Map<string, number>()
  private readonly values: Array<string | undefined> = []
  private refs = new Int32Array(64)
  private readonly free: number[] = []

  /** The number of `s`, adding it (refs 0 → 1) or counting one more holder. */
  acquire(s: string): number {
    let id = this.ids.get(s)
    if (id === undefined) {
      id = this.free.pop() ?? this.values.length
      if (id === this.values.length) this.values.push(s)
      else this.values[id] = s
      if (id >= this.refs.length) this.growRefs(id + 1)
      this.ids.set(s, id)
    }
    this.refs[id]!++
    return id
  }

  /** One holder fewer; the last one forgets the string and frees its number. */
  release(id: number): void {
    const left = --this.refs[id]!
    if (left > 0) return
    if (left < 0) throw new Error(`interned string ${id} released more often than acquired`)
    this.ids.delete(this.values[id]!)
    this.values[id] = undefined
    this.free.push(id)
  }

  /** The number of `s` if some holder holds it (nothing is acquired). */
  find(s: string): number | undefined {
    return this.ids.get(s)
  }

  /** The string of a held number. */
  value(id: number): string {
    return this.values[id]!
  }

  /** One more than the largest number handed out so far (array sizes indexed by number). */
  bound(): number {
    return this.values.length
  }

  /** Distinct strings held now. */
  size(): number {
    return this.ids.size
  }

  private growRefs(min: number): void {
    const next = new Int32Array(Math.max(min, this.refs.length * 2))
    next.set(this.refs)
    this.refs = next
  }
}

/** The process's node ids, shared by every member table (and so every node) in the process. */
export const processNodeIds = new InternedStrings()
/** The process's member addresses, likewise (a table apart, so node id numbers stay dense). */
export const processAddresses = new InternedStrings()
