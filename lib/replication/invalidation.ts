/**
 * Invalidation mode (`mode: 'invalidate'`): a write travels as its key,
 * version and `(origin, seq)` only — the delta of a delete — so the bytes on
 * the wire per write are about the key's size whatever the value's. Every
 * other node drops its older copy of the key and remembers the version for
 * `deletionDelay`, like a tombstone; a node holds only the values it wrote
 * or loaded itself. This is the coherent L1 in front of a database
 * (Infinispan's invalidation mode): a miss goes to the database (a filler),
 * and a write anywhere evicts the stale copies everywhere.
 *
 * What carries it:
 * - local-writes.ts: the delta of a local write carries no value; the
 *   writer's own store keeps the value.
 * - remote-merge.ts: a peer's delta is applied as its invalidation even if
 *   it carries a value (a peer in replicate mode): values never enter the
 *   store from the network.
 * - anti-entropy.ts: entries go out as invalidations ({@link asInvalidation}).
 * - fills (node-parts.ts): each node fills for itself (no cluster lease:
 *   the value would not reach the waiters elsewhere), and the filled value
 *   is kept locally only while no invalidation of the key arrived during the
 *   load (`VersionedStore.putLocal`), so no node returns a value older than
 *   the newest write it has heard of.
 */
import type { Entry } from '../store/versioned-store.js'

const EMPTY = Buffer.alloc(0)

/** `e` as an invalidation: its key, version and seq, no value (a tombstone form). */
export function asInvalidation(e: Entry): Entry {
  if (e.tombstone) return e
  return { key: e.key, bytes: EMPTY, value: undefined, version: e.version, seq: e.seq, expiresAt: 0, tombstone: true }
}
