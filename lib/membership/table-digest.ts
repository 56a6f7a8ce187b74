/**
 * A digest of a whole member table, for digest-first push-pull
 * (push-pull.ts): two nodes whose tables agree exchange two digests instead
 * of two tables, so the periodic repair of a stable cluster costs a few
 * bytes per round instead of bytes that grow with the cluster. Without it a
 * node's idle TCP traffic grew with N (26 B/s at 5 nodes, 107 B/s at 50,
 * benchmarks/scale-processes.ts), against SWIM's promise of flat per-node load.
 *
 * The digest covers what a push-pull row carries — node id, address,
 * incarnation, state and tags — in node-id order, as a 52-bit
 * {@link Fingerprint} (two different tables taken for equal: odds about 2^-52).
 * Equal tables give equal digests on every node and every run.
 */
import { Fingerprint } from '../wire/fingerprint.js'
import type { PushNodeState } from '../wire/messages.js'

/** The digest of `rows` (any order). */
export function tableDigest(rows: readonly PushNodeState[]): number {
  const sorted = [...rows].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0))
  const f = new Fingerprint()
  for (const r of sorted) {
    f.str(r.nodeId).str(r.addr).num(r.incarnation).num(r.state)
    f.str(r.tags === undefined ? '' : JSON.stringify(Object.entries(r.tags).sort(([a], [b]) => (a < b ? -1 : 1))))
  }
  return f.value()
}
