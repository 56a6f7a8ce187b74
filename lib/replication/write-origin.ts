/**
 * Write identity. Every write carries `(origin, seq)`: `seq` numbers the
 * writes of one origin 1, 2, 3… and anti-entropy compares, per origin, the
 * ranges of seqs each node has seen. An origin must therefore be unique to
 * one process start: a node restarted under the same id begins again at
 * seq 1, and had it kept its origin, peers would drop its new writes as
 * duplicates of the old ones.
 *
 * The origin is a hash of the node id, the start time and a draw from the
 * injected random — not the draw alone: two nodes given the same seeded
 * random (a simulator, or tests) would otherwise share an origin and drop
 * each other's writes as duplicates. Node ids are unique in a cluster (a
 * duplicate is refused at join), and the start time tells a restart apart
 * from its previous life. 48 bits of the hash, as 8 base64url characters
 * (12 hex digits before: the same 48 bits, 4 bytes more in every delta).
 */
import { createHash } from 'node:crypto'
import type { Random } from '../random.js'

/** Length of an origin id, in characters. */
export const ORIGIN_CHARS = 8

/** The write origin of a process start of `nodeId` at `nowMs`. */
export function writeOrigin(nodeId: string, nowMs: number, random: Random): string {
  const h = createHash('sha256')
  h.update(`${nodeId}\0${nowMs}\0${random()}\0${random()}`)
  return h.digest('base64url').slice(0, ORIGIN_CHARS)
}
