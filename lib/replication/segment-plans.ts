/**
 * Plans of segment rounds (partition-repair.ts): per peer, the segments to
 * compare, whether this node wants the peer's entries of each, and entries
 * sent besides (its own writes waiting for their owners).
 */
import type { Entry } from '../store/versioned-store.js'
import { SEGMENTS } from './ownership.js'
import type { SegmentScan } from './segment-sync.js'

/** Per peer id: one round's segments, `wants` (1: send me yours) per segment, and entries sent besides. */
export type Plan = Map<string, { segments: number[]; wants: number[]; extra: Entry[] }>

/** The round planned toward `peerId`, made empty if there is none yet. */
export function planFor(plan: Plan, peerId: string): { segments: number[]; wants: number[]; extra: Entry[] } {
  let p = plan.get(peerId)
  if (p === undefined) plan.set(peerId, (p = { segments: [], wants: [], extra: [] }))
  return p
}

/** Adds `segment` to the round toward `peerId`. */
export function add(plan: Plan, peerId: string, segment: number, want: number): void {
  const p = planFor(plan, peerId)
  p.segments.push(segment)
  p.wants.push(want)
}

/**
 * For every segment this node holds entries of and `send` accepts: a round
 * toward each of its `owners` not among its owners `before` (this node
 * never), not asking for theirs. `skipped`: whether `send` refused a segment
 * held (one this node no longer owns, when rebalancing).
 */
export function newOwnersPlan(
  scan: SegmentScan,
  owners: (segment: number) => readonly string[],
  before: (segment: number) => readonly string[],
  send: (segment: number) => boolean,
  self?: string
): { plan: Plan; skipped: boolean } {
  const plan: Plan = new Map()
  let skipped = false
  for (let s = 0; s < SEGMENTS; s++) {
    if (scan.counts[s] === 0) continue
    if (!send(s)) {
      skipped = true
      continue
    }
    const was = before(s)
    for (const o of owners(s)) if (o !== self && !was.includes(o)) add(plan, o, s, 0)
  }
  return { plan, skipped }
}
