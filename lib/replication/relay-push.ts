/**
 * Two-hop relayed eager push (docs/eager-push-at-scale.md, "Fix A"): past a
 * fan-out `k`, a writer no longer sends each turn's datagram to every live
 * member but to one relay per group, and each relay forwards it once to
 * its group.
 *
 * - **Fan-out.** `k = max(eagerFanout, ceil(sqrt(N)))`. While a writer has
 *   at most `k` live peers, nothing changes: it pushes to every one of
 *   them directly, byte for byte as without relays.
 * - **Groups.** Beyond it, peers are split into `k` groups by
 *   {@link relayGroup} (FNV-1a of the node id, mod `k`). For each group the
 *   writer picks one relay at random (the node's seeded random) among its
 *   alive, non-suspect members; a group with none is pushed to directly.
 * - **Wire.** A relay request is one datagram: a header payload
 *   `[1, k, count]` (a msgpack fixarray of 3 — a delta is an array of 7 or
 *   8, so its first byte tells them apart) followed by `count` ordinary
 *   delta payloads. The header is the same for every relay, so the
 *   datagram is built once for all of them. A node that predates relays
 *   drops the header (counted) and still applies the deltas; it only does
 *   not forward them.
 * - **Relay.** A node that receives a header applies the deltas that
 *   follow as usual, then sends them once, as a plain push datagram (no
 *   header: never further than two hops), to the live members of its own
 *   group `relayGroup(self, k)` in its own view, except the sender and
 *   itself; the deltas also enter its gossip feed, so that a group a
 *   datagram missed is repaired in a few gossip rounds.
 * - **Compatibility gate.** Every node announces the membership tag
 *   {@link RELAY_TAG}` = "1"` (added to the user's tags when they leave
 *   room for it; an operator may set it to anything else to opt a node
 *   out). A writer relays only while every live peer announces it;
 *   otherwise it pushes directly to every peer, as before. The facade
 *   hides the key from `members()` and member events ({@link withoutRelayTag}).
 * - **Bursts and stream pushes** (eager-push.ts) stay direct to every peer.
 *
 * A malformed header is dropped and counted (`relay-header`); it never
 * throws and never holds more than one pending forward.
 */
import type { Cluster, Peer } from '../membership/cluster.js'
import type { DropCounts } from '../drop-counts.js'
import { randomInt, type Random } from '../random.js'
import { DecodeError } from '../wire/decode-error.js'
import { safeUnpack } from '../wire/safe-unpack.js'
import { tagsProblem, type Tags } from '../wire/tags.js'
import { userOverhead } from '../wire/codec.js'
import type { GossipFeed } from './gossip-feed.js'
import type { ReplicationCounters } from './replication-stats.js'

/** The membership tag that announces relay support (a reserved key; see the file comment). */
export const RELAY_TAG = 'bcache.relay'
/** The value of {@link RELAY_TAG} that means "supports relay protocol 1". */
export const RELAY_VERSION = '1'
/** The first element of a relay header: the relay protocol's version. */
const RELAY_MARK = 1
/** Most deltas one relay header may announce. */
const MAX_RELAY_COUNT = 255
/** Largest `k` a header may carry. */
const MAX_FANOUT = 0xffff
/** Room a relay header takes in a datagram, framing included (its largest encoding). */
export const RELAY_HEADER_COST = 1 + 1 + 3 + 2 + userOverhead(7)
/** How long a computed set of relay-capable members is trusted, in ms (joins refresh it at once). */
const CAPABLE_TTL_MS = 1000

/** The tags a node announces: the user's plus {@link RELAY_TAG}, when they leave room and do not set it. */
export function withRelayTag<T>(tags: T): T {
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) return tags
  if (Object.hasOwn(tags, RELAY_TAG)) return tags
  const out = { ...tags, [RELAY_TAG]: RELAY_VERSION }
  return tagsProblem(Object.entries(out)) === undefined ? out : tags
}

/** `m` without {@link RELAY_TAG} in its tags: what the facade shows users (the key is reserved, see the file comment). */
export function withoutRelayTag<M extends { readonly tags: Tags }>(m: M): M {
  if (!Object.hasOwn(m.tags, RELAY_TAG)) return m
  const { [RELAY_TAG]: _, ...rest } = m.tags
  return { ...m, tags: Object.freeze(rest) }
}

/** The relay group of `nodeId` among `k` (FNV-1a, 32 bits, of its UTF-16 code units, mod `k`). */
export function relayGroup(nodeId: string, k: number): number {
  let h = 0x811c9dc5
  for (let i = 0; i < nodeId.length; i++) {
    h ^= nodeId.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h % k
}

/** The fan-out `k` for `numLive` members (this node included) and the `eagerFanout` floor. */
export function fanoutFor(floor: number, numLive: number): number {
  return Math.max(floor, Math.ceil(Math.sqrt(numLive)))
}

function writeUint(buf: number[], v: number): void {
  if (v < 128) buf.push(v)
  else if (v < 0x100) buf.push(0xcc, v)
  else buf.push(0xcd, v >> 8, v & 0xff)
}

/** Encodes a relay header `[1, k, count]`. */
export function encodeRelayHeader(k: number, count: number): Buffer {
  const out = [0x93, RELAY_MARK]
  writeUint(out, k)
  writeUint(out, count)
  return Buffer.from(out)
}

/** Whether a user payload is a relay header rather than a delta (its first byte). */
export function isRelayHeader(payload: Uint8Array): boolean {
  return payload[0] === 0x93
}

/** Decodes a relay header. @throws DecodeError */
export function decodeRelayHeader(payload: Uint8Array): { k: number; count: number } {
  const raw = safeUnpack(payload, 0)
  if (!Array.isArray(raw) || raw.length !== 3) throw new DecodeError('shape', 'relay header is not a 3-element array')
  const [mark, k, count] = raw as unknown[]
  const ok = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max
  if (mark !== RELAY_MARK || !ok(k, MAX_FANOUT) || !ok(count, MAX_RELAY_COUNT)) throw new DecodeError('field', 'relay header')
  return { k, count }
}

/** Where a writer sends one turn's datagrams: relays (with the header) and members pushed directly. */
export interface RelayPlan {
  k: number
  relays: string[]
  direct: string[]
}

export interface RelayPushComponents {
  cluster: Cluster
  random: Random
  gossip: GossipFeed
  drops: DropCounts
  stats: ReplicationCounters
  /** Milliseconds (the node's clock). */
  now: () => number
  /** Runs `fn` once the current event-loop turn's work is done. */
  defer: (fn: () => void) => void
  /** Every known member with its tags (the gate); without it, this node never relays. */
  memberTags?: (() => Iterable<{ readonly nodeId: string; readonly tags: Tags }>) | undefined
}

/** A relay request being received: the deltas that followed its header so far. */
interface Pending {
  from: string
  k: number
  left: number
  payloads: Buffer[]
  keys: string[]
}

/** Both sides of relayed eager push (see the file comment). */
export class RelayPush {
  private capable: Set<string> | undefined
  private capableAt = -Infinity
  private pending: Pending | undefined
  private closed = false

  /** @param fanoutFloor - `tuning.eagerFanout`. */
  constructor(private readonly c: RelayPushComponents, private readonly fanoutFloor: number) {
    c.cluster.onPeerJoined(() => { this.capable = undefined })
  }

  // ---- writer side ----

  /** How to push to `peers`, or undefined to push to every one directly (few peers, or one lacks the tag). */
  plan(peers: readonly Peer[]): RelayPlan | undefined {
    const k = fanoutFor(this.fanoutFloor, peers.length + 1)
    if (peers.length <= k || !this.allCapable(peers)) return undefined
    const groups: Peer[][] = Array.from({ length: k }, () => [])
    for (const p of peers) groups[relayGroup(p.nodeId, k)]!.push(p)
    const relays: string[] = []
    const direct: string[] = []
    for (const g of groups) {
      if (g.length === 0) continue
      const alive = g.filter((p) => !p.suspect)
      if (alive.length === 0) for (const p of g) direct.push(p.address)
      else relays.push(alive[randomInt(alive.length, this.c.random)]!.address)
    }
    return { k, relays, direct }
  }

  private allCapable(peers: readonly Peer[]): boolean {
    const tags = this.c.memberTags
    if (tags === undefined) return false
    const now = this.c.now()
    if (this.capable === undefined || now - this.capableAt >= CAPABLE_TTL_MS) {
      const set = new Set<string>()
      for (const m of tags()) if (m.tags[RELAY_TAG] === RELAY_VERSION) set.add(m.nodeId)
      this.capable = set
      this.capableAt = now
    }
    const capable = this.capable
    return peers.every((p) => capable.has(p.nodeId))
  }

  // ---- relay side ----

  /** A relay header from `from`: the next `count` delta payloads from it are to be forwarded. */
  onHeader(payload: Buffer, from: string): void {
    let h: { k: number; count: number }
    try {
      h = decodeRelayHeader(payload)
    } catch (err) {
      this.c.drops.count(err instanceof DecodeError ? `relay-header-${err.reason}` : 'relay-header')
      return
    }
    this.finish()
    this.pending = { from, k: h.k, left: h.count, payloads: [], keys: [] }
    // The deltas follow in the same datagram, dispatched in this turn; a
    // header that announced more than came is finished at the end of it.
    this.c.defer(() => this.finish())
  }

  /** A delta payload from `from` (`key`: its key when it decoded, undefined otherwise), after it was applied. */
  onDelta(payload: Buffer, from: string, key: string | undefined): void {
    const p = this.pending
    if (p === undefined) return
    if (p.from !== from) return this.finish()
    if (key !== undefined) {
      p.payloads.push(Buffer.from(payload)) // a copy: the gossip feed keeps it, not the whole datagram
      p.keys.push(key)
    }
    if (--p.left === 0) this.finish()
  }

  /** Forgets a relay request being received (the node closes). */
  close(): void {
    this.closed = true
    this.pending = undefined
  }

  /** Forwards what the pending relay request holds to this node's group (see the file comment). */
  private finish(): void {
    const p = this.pending
    this.pending = undefined
    if (p === undefined || p.payloads.length === 0 || this.closed) return
    const { cluster } = this.c
    const group = relayGroup(cluster.nodeId, p.k)
    const to: string[] = []
    for (const m of cluster.livePeers()) {
      if (m.address !== p.from && relayGroup(m.nodeId, p.k) === group) to.push(m.address)
    }
    if (to.length > 0) {
      cluster.sendPayloads(to, p.payloads)
      this.c.stats.relayDatagrams += to.length
    }
    this.c.gossip.enqueue(p.payloads, p.keys)
  }
}
