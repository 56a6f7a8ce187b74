/**
 * Partition mode's ownership (`mode: 'partition'`, README "Partition mode"):
 * which `replicas` members hold each key.
 *
 * A key belongs to one of {@link SEGMENTS} segments (a hash of the key), and
 * each segment to the `replicas` members with the highest rendezvous scores
 * for it among the members believed up — rendezvous (highest random weight)
 * hashing as in fill/rendezvous.ts, over segments rather than keys. Every
 * node computes the table alone from its own member list, so nodes that see
 * the same members agree without talking, and a join or a failure moves only
 * the segments whose top `replicas` changed: about `replicas / n` of them.
 * Segments, as Infinispan's, make the table small (one entry per segment,
 * recomputed in O(SEGMENTS × n) when membership changes, not per key) and
 * give repair a unit to compare: a segment's fingerprint (segment-sync.ts).
 *
 * **Warning:** part of the protocol. Every node must compute the same owners,
 * so the segment hash, the count and the score are breaking changes for
 * mixed-version clusters.
 */
import { rendezvousScore } from '../fill/rendezvous.js'

/** Segments of the key space (a power of two). */
export const SEGMENTS = 4096

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193

/** The segment of `key`: FNV-1a 32 over its UTF-16 code units (as rendezvous.ts), mixed, modulo {@link SEGMENTS}. */
export function segmentOf(key: string): number {
  let h = FNV_OFFSET
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i)
    h = Math.imul(h ^ (c & 0xff), FNV_PRIME)
    if (c > 0xff) h = Math.imul(h ^ (c >>> 8), FNV_PRIME)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  return (h >>> 0) & (SEGMENTS - 1)
}

/** The owners of `segment` among `members` (ids), best first: the `replicas` highest scores, ties to the smaller id. */
export function segmentOwners(segment: number, members: readonly string[], replicas: number): string[] {
  const name = `s${segment}`
  const scored = members.map((id) => ({ id, score: rendezvousScore(name, id) }))
  scored.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const out: string[] = []
  for (const { id } of scored) {
    if (out.length === replicas) break
    if (out[out.length - 1] !== id) out.push(id)
  }
  return out
}

/** The owners of `key` among `members`, best first (the simulator's oracle and tests use it). */
export function ownersOf(key: string, members: readonly string[], replicas: number): string[] {
  return segmentOwners(segmentOf(key), members, replicas)
}

/**
 * The ownership table of this node: the owners of every segment over the
 * current members, recomputed when the member set changes (a new table each
 * time, never modified: rebalancing compares against an older one).
 */
export class Ownership {
  private tableNow: string[][] = []
  private signature = ''

  /** @param members - ids of the members believed up, this node included (any order). */
  constructor(readonly selfId: string, readonly replicas: number, private readonly members: () => readonly string[]) {
    if (!Number.isSafeInteger(replicas) || replicas < 1) throw new RangeError(`replicas must be a positive integer, got ${replicas}`)
    this.refresh()
  }

  /** Recomputes the table if the member set changed; returns whether it did. */
  refresh(): boolean {
    const ids = [...new Set([...this.members(), this.selfId])].sort()
    const sig = ids.join('\n')
    if (sig === this.signature) return false
    this.signature = sig
    const table: string[][] = new Array(SEGMENTS)
    for (let s = 0; s < SEGMENTS; s++) table[s] = segmentOwners(s, ids, this.replicas)
    this.tableNow = table
    return true
  }

  /** The whole table now (segment → owners); a new array after each change, never modified. */
  table(): ReadonlyArray<readonly string[]> {
    return this.tableNow
  }

  /** The table the members would have without `id` (this node, leaving): where its segments go. */
  tableWithout(id: string): string[][] {
    const ids = [...new Set([...this.members(), this.selfId])].filter((m) => m !== id).sort()
    const table: string[][] = new Array(SEGMENTS)
    for (let s = 0; s < SEGMENTS; s++) table[s] = ids.length === 0 ? [] : segmentOwners(s, ids, this.replicas)
    return table
  }

  /** The owners of `segment` now, best first. */
  owners(segment: number): readonly string[] {
    return this.tableNow[segment]!
  }



  /** Whether this node owns `segment`. */
  ownsSegment(segment: number): boolean {
    return this.tableNow[segment]!.includes(this.selfId)
  }

  /** Whether this node owns `key`. */
  owns(key: string): boolean {
    return this.ownsSegment(segmentOf(key))
  }

  /** The owners of `key` now, best first. */
  ownersOfKey(key: string): readonly string[] {
    return this.tableNow[segmentOf(key)]!
  }

  /** Segments owned by both this node and `peerId`. */
  sharedWith(peerId: string): number[] {
    const out: number[] = []
    for (let s = 0; s < SEGMENTS; s++) {
      const o = this.tableNow[s]!
      if (o.includes(this.selfId) && o.includes(peerId)) out.push(s)
    }
    return out
  }
}
