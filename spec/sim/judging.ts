/**
 * How the final-state checks judge a read against the oracle's record
 * (invariants.ts, partition-checks.ts): the writes of each key, which of
 * them may have won (the best acknowledged one and every at-risk one above
 * it), and whether a read on a node is explained by one of them (expiry on
 * that node's clock, or an expiry marker from a node whose clock is ahead).
 */
import { compareVersions } from '../../lib/store/version.js'
import type { SimNode } from './cluster.js'
import type { Oracle, WriteRec } from './oracle.js'

export interface KeyInfo {
  writes: WriteRec[]
  largest: number
  /** the largest of its entries as counted against maxBytes (the store's sizeOf) */
  largestSize: number
}

/** The writes of every key (clears included as deletes), and its largest entry. */
export function keyInfos(o: Oracle): Map<string, KeyInfo> {
  const m = new Map<string, KeyInfo>()
  for (const [key, writes] of o.byKey()) {
    if (key.startsWith('d') && writes.every((w) => w.del)) continue // delete storms: checked as tombstones
    m.set(key, { writes, largest: Math.max(0, ...writes.map((w) => w.bytes)), largestSize: Math.max(0, ...writes.map((w) => w.size)) })
  }
  return m
}

/** What node `n` should read for write `w` at this moment. */
export function expected(w: WriteRec, n: SimNode): string {
  if (w.del) return 'u'
  if (w.expiresAt !== 0 && n.clock.now() >= w.expiresAt) return 'u'
  return w.canon
}

/**
 * Whether `got` on `n` is explained by `w`. Besides what `n`'s own clock
 * says: once the write expired on some node's clock, `n` may have learned
 * of it only as that node's expiry marker, and read it absent early
 * (README: TTL under clock skew).
 */
export function explains(w: WriteRec, n: SimNode, got: string, nodes: readonly SimNode[]): boolean {
  if (expected(w, n) === got) return true
  return got === 'u' && w.expiresAt !== 0 && nodes.some((m) => m.clock.now() >= w.expiresAt)
}

/** The writes that may have won: the best acknowledged one, and every at-risk one above it. */
export function candidates(writes: WriteRec[]): WriteRec[] {
  const acked = writes.filter((w) => w.version !== undefined)
  const best = acked.filter((w) => !w.atRisk).reduce<WriteRec | undefined>((b, w) => (b === undefined || compareVersions(w.version!, b.version!) > 0 ? w : b), undefined)
  const risky = acked.filter((w) => w.atRisk && (best === undefined || compareVersions(w.version!, best.version!) > 0))
  if (best !== undefined) return [best, ...risky]
  // every write may be lost: absence is a valid outcome too
  return risky.length === 0 ? [] : [...risky, { ...risky[0]!, id: -1, del: true, canon: '', at: -Infinity }]
}

/** A canonical value shortened for a violation's text. */
export function short(c: string): string {
  return c.length <= 50 ? c : `${c.slice(0, 50)}…`
}
