/**
 * A digest of a whole member table, for digest-first push-pull
 * (push-pull.ts): two nodes whose tables agree exchange two digests instead
 * of two tables, so the periodic repair of a stable cluster costs a few
 * bytes per round instead of bytes that grow with the cluster. Without it a
 * node's idle TCP traffic grew with N (26 B/s at 5 nodes, 107 B/s at 50,
 * benchmarks/scale-processes.ts), against SWIM's promise of flat per-node load.
 *
 * The digest covers what a push-pull row carries — node id, address,
 * incarnation, state and tags — in node-id order, hashed with two
 * independent 32-bit FNV-1a streams folded into 52 bits (a safe integer), so
 * that two different tables are taken for equal with odds of about 2^-52.
 * Equal tables give equal digests on every node and every run.
 */
import type { PushNodeState } from '../wire/messages.js'

const FNV_PRIME = 0x01000193

/** The digest of `rows` (any order). */
export function tableDigest(rows: readonly PushNodeState[]): number {
  const sorted = [...rows].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0))
  let h1 = 0x811c9dc5
  let h2 = 0x01234567
  const feed = (s: string): void => {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      h1 = Math.imul(h1 ^ c, FNV_PRIME) >>> 0
      h2 = Math.imul(h2 ^ (c + 0x9e), FNV_PRIME) >>> 0
    }
    h1 = Math.imul(h1 ^ 0xff, FNV_PRIME) >>> 0 // field separator (no char code is 0xff twice in a row here)
    h2 = Math.imul(h2 ^ 0xff, FNV_PRIME) >>> 0
  }
  for (const r of sorted) {
    feed(r.nodeId)
    feed(r.addr)
    feed(String(r.incarnation))
    feed(String(r.state))
    feed(r.tags === undefined ? '' : JSON.stringify(Object.entries(r.tags).sort(([a], [b]) => (a < b ? -1 : 1))))
  }
  return (h1 >>> 0) * 0x100000 + (h2 & 0xfffff)
}
