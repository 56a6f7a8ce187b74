/**
 * Partition mode's repair and rebalancing: anti-entropy restricted to the
 * keys the receiver owns, compared segment by segment (ownership.ts).
 *
 * A segment's fingerprint is the XOR of a 32-bit hash of every entry a node
 * holds in it: key, version and whether it is gone. Gone: a tombstone, an
 * expiry marker, or a live entry past its TTL not purged yet — the last two
 * hash alike, and a write that expired still travels (as an expired entry
 * or a marker), so that an owner that missed it drops the older value it
 * supersedes. Left out, the same way on both sides: tombstones older (by
 * their version's wall time) and expired writes older (by their expiry)
 * than half the tombstone delay — two nodes purge them at different
 * moments, and one that counted it while the other had purged it would send
 * it back forever.
 *
 *   A → B  open stream, first frame: [segments, A's fingerprints, wants],
 *          `wants[i]` = 1 when A owns `segments[i]` (wants B's entries)
 *   B → A  for every segment whose fingerprint differs and A wants: B's
 *          entries in it, in batches; the clears B holds; then END with the
 *          list of differing segments
 *   A → B  A's entries in the differing segments, A's clears, and any
 *          entries A sends besides (its own writes of keys B owns); END
 *   B → A  ACK once B applied them, naming the segments of the round B
 *          does not own by its own view; both close
 *
 * A node hands its copies of a segment over (and drops them) only to a peer
 * whose ACK did not name it: while views differ, a peer that stores what it
 * was sent but does not own it takes no custody (it would hand it on to an
 * owner by its view, maybe one that is down, and could close meanwhile).
 *
 * Entries are applied through the merge path (last writer wins), so a
 * segment sent twice, or in both directions, changes nothing the second
 * time. A bad delta is dropped and counted; the rest of the round goes on
 * (invariant 8). After ACK, A knows B holds everything A sent: a node that
 * does not own a segment drops its copies then (partition.ts).
 */
import type { Clock } from '../clock.js'
import { StreamError } from '../errors.js'
import type { Entry, VersionedStore } from '../store/versioned-store.js'
import { compareVersions, type Version } from '../store/version.js'
import { FrameQueue, type FrameQueueLimits } from '../transport/frame-queue.js'
import type { StreamConn } from '../transport/transport.js'
import { DecodeError } from '../wire/decode-error.js'
import { safeUnpack } from '../wire/safe-unpack.js'
import { Packr } from 'msgpackr'
import { BATCH_TARGET_BYTES, encodeEntryFrames } from './delta.js'
import { fmix32 } from '../fill/rendezvous.js'
import { counted, type AntiEntropyStats } from './anti-entropy.js'
import { SEGMENTS, segmentOf } from './ownership.js'

const FRAME_BATCH = 0
const FRAME_END = 1
const FRAME_ACK = 2

const packr = new Packr({ useRecords: false, moreTypes: false })

/** Counted like anti-entropy rounds (anti-entropy.ts), plus the segments whose fingerprints differed. */
export interface SegmentSyncStats extends Pick<AntiEntropyStats, 'rounds' | 'failed' | 'bytesOut' | 'bytesIn' | 'entriesOut' | 'entriesIn'> {
  differing: number
}

export function newSegmentSyncStats(): SegmentSyncStats {
  return { rounds: 0, failed: 0, bytesOut: 0, bytesIn: 0, entriesOut: 0, entriesIn: 0, differing: 0 }
}

export interface SegmentSyncContext {
  store: VersionedStore
  clock: Clock
  /** Applies one received batch frame from `start`, telling `seen` each delta's key and version; returns how many deltas it held. */
  applyBatch: (frame: Buffer, start: number, seen?: (key: string, version: Version) => void) => number
  timeoutMs: number
  deletionDelayMs: number
  stats: SegmentSyncStats
  queue?: FrameQueueLimits
  /** Whether this node owns a segment (its ACK names the segments of a round it does not: it takes no custody of them). */
  owns?: (segment: number) => boolean
}

/** What a round's initiator learns: the segments that differed, and those the peer does not own by its view. */
export interface SegmentSyncResult {
  differing: number[]
  notOwned: number[]
}

/** Whether an entry stands for a write that is gone at `nowMs`: deleted, or expired (see the file comment). */
function gone(tombstone: boolean, expiresAt: number, nowMs: number): boolean {
  return tombstone || (expiresAt !== 0 && expiresAt <= nowMs)
}

/** Whether an entry counts in fingerprints and is sent (see the file comment). */
function counts(tombstone: boolean, wall: number, expiresAt: number, nowMs: number, deletionDelayMs: number): boolean {
  if (!gone(tombstone, expiresAt, nowMs)) return true
  return (expiresAt === 0 ? wall : expiresAt) > nowMs - deletionDelayMs / 2
}

function entryHash(key: string, wall: number, counter: number, origin: string, tombstone: boolean): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  h = Math.imul(h ^ 0xff, 0x01000193)
  for (let i = 0; i < origin.length; i++) h = Math.imul(h ^ origin.charCodeAt(i), 0x01000193)
  h = Math.imul(h ^ (wall % 0x100000000), 0x01000193)
  h = Math.imul(h ^ Math.floor(wall / 0x100000000), 0x01000193)
  h = Math.imul(h ^ counter ^ (tombstone ? 0x10000 : 0), 0x01000193)
  return fmix32(h)
}

/** What one pass over a store finds: every segment's fingerprint, and how many entries it holds. */
export interface SegmentScan {
  fingerprints: Uint32Array
  counts: Uint32Array
}

/** One pass over the store: fingerprints and entry counts of all {@link SEGMENTS} (of `only` ones, when given; the others stay 0). */
export function scanSegments(store: VersionedStore, nowMs: number, deletionDelayMs: number, only?: ReadonlySet<number>): SegmentScan {
  const fingerprints = new Uint32Array(SEGMENTS)
  const held = new Uint32Array(SEGMENTS)
  if (only?.size === 0) return { fingerprints, counts: held }
  store.forEachHeld((key, wall, counter, origin, tombstone, expiresAt) => {
    const s = segmentOf(key)
    if (only !== undefined && !only.has(s)) return
    if (!counts(tombstone, wall, expiresAt, nowMs, deletionDelayMs)) return
    fingerprints[s] ^= entryHash(key, wall, counter, origin, gone(tombstone, expiresAt, nowMs))
    held[s]!++
  })
  return { fingerprints, counts: held }
}

/** The entries (live and tombstones) of `segments` that count (see the file comment). */
export function segmentEntries(store: VersionedStore, segments: ReadonlySet<number>, nowMs: number, deletionDelayMs: number): Entry[] {
  if (segments.size === 0) return []
  return store.heldEntries((key) => segments.has(segmentOf(key)))
    .filter((e) => counts(e.tombstone, e.version.wall, e.expiresAt, nowMs, deletionDelayMs))
}

/** A round's request: which segments, and the initiator's view of them. */
export interface SegmentRequest {
  segments: number[]
  fingerprints: number[]
  /** 1 where the initiator owns the segment and wants the responder's entries. */
  wants: number[]
}

export function encodeRequest(r: SegmentRequest): Buffer {
  return packr.pack([r.segments, r.fingerprints, r.wants])
}

function isSegmentList(v: unknown): v is number[] {
  return Array.isArray(v) && v.length <= SEGMENTS && v.every((s) => Number.isInteger(s) && s >= 0 && s < SEGMENTS)
}

/** @throws DecodeError on a malformed request. */
export function decodeRequest(payload: Buffer): SegmentRequest {
  const raw = safeUnpack(payload, 0)
  if (!Array.isArray(raw) || raw.length < 3) throw new DecodeError('shape', 'segment request')
  const [segments, fingerprints, wants] = raw as unknown[]
  if (!isSegmentList(segments) || !Array.isArray(fingerprints) || !Array.isArray(wants) ||
    fingerprints.length !== segments.length || wants.length !== segments.length ||
    !fingerprints.every((f) => Number.isInteger(f) && f >= 0 && f <= 0xffffffff) || !wants.every((w) => w === 0 || w === 1)) {
    throw new DecodeError('field', 'segment request')
  }
  return { segments, fingerprints: fingerprints as number[], wants: wants as number[] }
}

/**
 * Runs a round as the initiator over `request` (built by the caller from its
 * own scan), sending `extra` entries besides; `open` dials the peer with it. Resolves with the segments that
 * differed once the peer acknowledged what this node sent.
 */
export async function initiateSegmentSync(ctx: SegmentSyncContext, request: SegmentRequest, extra: readonly Entry[], open: (payload: Buffer) => Promise<StreamConn>): Promise<SegmentSyncResult> {
  const payload = encodeRequest(request)
  const conn = await open(payload)
  ctx.stats.bytesOut += payload.length
  return counted(ctx, conn, async () => {
    const frames = new FrameQueue(conn, ctx.clock, ctx.queue)
    // What the peer sent, so as not to send it back: it holds that, or newer.
    const received = new Map<string, Version>()
    const differing = await receiveUntilEnd(ctx, frames, (key, version) => received.set(key, version))
    const asked = new Set(request.segments)
    const theirs = new Set(differing.filter((s) => asked.has(s)))
    const notFromThem = (e: Entry): boolean => {
      const v = received.get(e.key)
      return v === undefined || compareVersions(v, e.version) < 0
    }
    await sendEntries(ctx, conn, theirs, packr.pack([]), extra, notFromThem)
    const ack = await frames.next(ctx.timeoutMs)
    ctx.stats.bytesIn += ack.length
    if (ack[0] !== FRAME_ACK) throw new DecodeError('type', `segment sync: expected ACK, got frame kind ${ack[0]}`)
    const notOwned = ack.length > 1 ? safeUnpack(ack, 1) : []
    if (!isSegmentList(notOwned)) throw new DecodeError('field', 'segment-sync ACK')
    return { differing: [...theirs], notOwned }
  })
}

/** Serves a round a peer opened with `payload`. */
export async function respondSegmentSync(ctx: SegmentSyncContext, conn: StreamConn, payload: Buffer): Promise<void> {
  ctx.stats.bytesIn += payload.length
  let request: SegmentRequest
  try {
    request = decodeRequest(payload)
  } catch (err) {
    conn.destroy()
    throw err
  }
  await counted(ctx, conn, async () => {
    const frames = new FrameQueue(conn, ctx.clock, ctx.queue)
    const now = ctx.clock.now()
    // only the segments asked (none for a hand-off of pending writes alone: no pass over the store)
    const mine = scanSegments(ctx.store, now, ctx.deletionDelayMs, new Set(request.segments)).fingerprints
    const differing: number[] = []
    const wanted = new Set<number>()
    request.segments.forEach((s, i) => {
      if (mine[s] === request.fingerprints[i]) return
      differing.push(s)
      if (request.wants[i] === 1) wanted.add(s)
    })
    ctx.stats.differing += differing.length
    await sendEntries(ctx, conn, wanted, packr.pack(differing))
    const got = new Set(request.segments)
    await receiveUntilEnd(ctx, frames, (key) => got.add(segmentOf(key)))
    // custody: the segments of this round this node does not own by its own view (the initiator keeps its copies of those)
    const notOwned = ctx.owns === undefined ? [] : [...got].filter((seg) => !ctx.owns!(seg))
    const ack = Buffer.concat([Buffer.from([FRAME_ACK]), packr.pack(notOwned)])
    ctx.stats.bytesOut += ack.length
    conn.send(ack)
  })
}

/** Sends the entries of `segments` and the clears held, then END carrying `endBody`. */
async function sendEntries(ctx: SegmentSyncContext, conn: StreamConn, segments: ReadonlySet<number>, endBody: Buffer, extra: readonly Entry[] = [], keep?: (e: Entry) => boolean): Promise<void> {
  const now = ctx.clock.now()
  const held = segmentEntries(ctx.store, segments, now, ctx.deletionDelayMs)
  const entries = [...ctx.store.clearEntries(), ...(keep === undefined ? held : held.filter(keep)), ...extra]
  for (const { frame, count } of encodeEntryFrames(entries, BATCH_TARGET_BYTES, FRAME_BATCH)) {
    ctx.stats.entriesOut += count
    ctx.stats.bytesOut += frame.length
    if (!conn.send(frame)) await conn.drain()
    if (conn.closed) throw new StreamError(`stream to ${conn.remoteAddress} closed while sending`)
  }
  const end = Buffer.concat([Buffer.from([FRAME_END]), endBody])
  ctx.stats.bytesOut += end.length
  conn.send(end)
}

/** Applies batches until END; returns the segment list END carried. */
async function receiveUntilEnd(ctx: SegmentSyncContext, frames: FrameQueue, seen?: (key: string, version: Version) => void): Promise<number[]> {
  for (;;) {
    const frame = await frames.next(ctx.timeoutMs)
    ctx.stats.bytesIn += frame.length
    if (frame.length === 0) throw new DecodeError('short', 'empty segment-sync frame')
    if (frame[0] === FRAME_BATCH) {
      ctx.stats.entriesIn += ctx.applyBatch(frame, 1, seen)
    } else if (frame[0] === FRAME_END) {
      const list = frame.length > 1 ? safeUnpack(frame, 1) : []
      if (!isSegmentList(list)) throw new DecodeError('field', 'segment-sync END')
      return list
    } else {
      throw new DecodeError('type', `segment-sync frame kind ${frame[0]}`)
    }
  }
}
