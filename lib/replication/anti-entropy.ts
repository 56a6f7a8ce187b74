/**
 * Anti-entropy over TCP: two nodes reconcile by exchanging digests of what
 * they have seen and then only the differences.
 *
 * Scheme (Scuttlebutt-like, with ranges instead of one watermark): every
 * write carries `(origin, seq)`, where each origin numbers its writes 1, 2,
 * 3…. Each node records, per origin, the ranges of seqs it has seen — applied,
 * or superseded by a newer write of the same key. The digest is that map; it
 * costs a few bytes per origin, whatever the number of keys.
 *
 *   A → B  open stream, first frame: digest(A) (with A's maxValueBytes)
 *   B → A  every entry B holds whose (origin, seq) A's digest does not
 *          cover, in batches; then END + digest(B), snapshotted *just
 *          before* B scanned its entries
 *   A → B  every entry A holds that digest(B) does not cover; then END +
 *          digest(A) again, snapshotted just before A's scan
 *   both   apply what arrived, then adopt the coverage in the peer's END
 *
 * Adopting the peer's coverage is sound because coverage is honest
 * (DESIGN.md invariant 9): for every write the peer claims of an origin it
 * does not mark lossy, it held that write or a newer version of the key when
 * it took its snapshot, and sent it unless our digest already covered it. So
 * after a round both sides have seen everything either had seen. Origins a
 * peer marks lossy (it evicted some of their entries, see
 * store/origin-index.ts) are not adopted: we keep our own gaps there, and a
 * later round with a peer that holds those writes fills them. A node that
 * evicted a key still covers it in its own ranges, so no peer re-sends it
 * over and over (eviction is local).
 *
 * Each END digest is a snapshot taken right before (and in the same turn as)
 * the scan whose entries precede it: a write that arrives while the batches
 * wait for the socket to drain is not in them, so it must not be claimed
 * either. That is also why A sends its digest again at the end: between its
 * opening digest and its scan, what B sent may have made A evict entries
 * (a node with a small `maxKeys`), and the opening digest would still vouch
 * for them. A responder talking to an initiator that sends no digest at the
 * end (an older node) adopts the opening one.
 *
 * A delta that does not validate, or that breaks a local limit, is skipped
 * and counted; the rest of the round goes on (invariant 8). Nodes may be
 * configured differently, so each digest announces its sender's
 * `maxValueBytes`: an entry with a larger value is not sent (the peer would
 * refuse it, and its frame limit might not carry it); its `(origin, seq)`
 * goes in a REFUSED frame instead, and the peer records the write as seen
 * but not held (its coverage of that origin becomes lossy), so no later
 * round offers it again. Two nodes in
 * sync exchange two digests and nothing else. A write lost in a datagram
 * leaves a gap in the receiver's ranges, which the next round fills.
 *
 * Limits (documented): a tombstone purged after `deletionDelayMs` can no
 * longer stop a node that missed the delete for that long from keeping
 * the old value.
 */
import type { Clock } from '../clock.js'
import { StreamError } from '../errors.js'
import type { VersionedStore } from '../store/versioned-store.js'
import { FrameQueue, type FrameQueueLimits } from '../transport/frame-queue.js'
import type { StreamConn } from '../transport/transport.js'
import { DecodeError } from '../wire/decode-error.js'
import { BATCH_TARGET_BYTES, encodeEntryFrames } from './delta.js'
import { Packr } from 'msgpackr'
import { safeUnpack } from '../wire/safe-unpack.js'
import { decodeDigest, encodeDigest, rangesOf, type Digest } from './seen-vector.js'
import { asInvalidation } from './invalidation.js'

const FRAME_BATCH = 0
const FRAME_END = 1
/** `(origin, seq)` pairs of entries too large for the receiver (see the file comment). */
const FRAME_REFUSED = 2
/** Most pairs in one REFUSED frame. */
const REFUSED_PER_FRAME = 4096

const packr = new Packr({ useRecords: false, moreTypes: false })

export interface AntiEntropyStats {
  rounds: number
  failed: number
  bytesOut: number
  bytesIn: number
  entriesOut: number
  entriesIn: number
  /** Entries received in rounds that were new here (applied): the writes anti-entropy repaired. */
  applied: number
  /** Periodic rounds that ended at the coverage check: the peer was in sync (coverage-check.ts). */
  inSync: number
  /** Entries not sent because their value is larger than the peer accepts. */
  tooLargeForPeer: number
}

export interface AntiEntropyContext {
  store: VersionedStore
  clock: Clock
  /** Applies one received batch frame from `start` (the merge path); returns how many deltas it held. */
  applyBatch: (frame: Buffer, start: number) => number
  /** Silence on the stream longer than this aborts the round. */
  timeoutMs: number
  /** Target size of one batch frame. @default {@link BATCH_TARGET_BYTES} */
  batchBytes?: number
  stats: AntiEntropyStats
  /** Largest value this node accepts from a peer (announced in its digests). */
  maxValueBytes: number
  /** Called with the size of each digest this node sends. */
  onDigest?: (bytes: number) => void
  /** Bound of the bytes a peer can make us queue unread on one round's stream. */
  queue?: FrameQueueLimits
  /** Invalidation mode: entries go out as invalidations, without values (invalidation.ts). */
  invalidate?: boolean
}

/** Runs a round as the initiator; `open` dials the peer with our digest as first frame. */
export async function initiateRound(ctx: AntiEntropyContext, open: (digest: Buffer) => Promise<StreamConn>): Promise<void> {
  const mine = snapshotDigest(ctx)
  const conn = await open(mine)
  ctx.stats.bytesOut += mine.length
  await counted(ctx, conn, async () => {
    const frames = new FrameQueue(conn, ctx.clock, ctx.queue)
    const theirs = (await receiveEntries(ctx, frames)) ?? { seen: new Map(), maxValueBytes: 0 }
    // Snapshot, then scan in the same turn (see the file comment).
    await sendEntries(ctx, conn, theirs, snapshotDigest(ctx))
    adopt(ctx, theirs)
  })
}

/** Serves a round a peer opened with `digest` as its first frame. */
export async function respondRound(ctx: AntiEntropyContext, conn: StreamConn, digest: Buffer): Promise<void> {
  await counted(ctx, conn, async () => {
    ctx.stats.bytesIn += digest.length
    const theirs = decodeDigest(digest)
    const frames = new FrameQueue(conn, ctx.clock, ctx.queue)
    // First the snapshot, then the scan (see the file comment).
    const mine = snapshotDigest(ctx)
    await sendEntries(ctx, conn, theirs, mine)
    const final = await receiveEntries(ctx, frames)
    adopt(ctx, final ?? theirs)
  })
}

/** Runs one side of a round on `conn`: counted, closed when done, destroyed when it fails (also segment-sync.ts's rounds). */
export async function counted<T>(ctx: { stats: Pick<AntiEntropyStats, 'rounds' | 'failed'> }, conn: StreamConn, round: () => Promise<T>): Promise<T> {
  let out: T
  try {
    out = await round()
    ctx.stats.rounds++
  } catch (err) {
    ctx.stats.failed++
    conn.destroy()
    throw err
  }
  conn.close()
  return out
}

/**
 * Sends every entry `peer` lacks, in batches, then END with `digest` (this
 * node's snapshot, taken by the caller in this same turn, before the scan).
 */
async function sendEntries(ctx: AntiEntropyContext, conn: StreamConn, peer: Digest, digest: Buffer): Promise<void> {
  // A snapshot: the store may change while we wait for the socket to drain.
  const held = ctx.store.entriesMissingFrom(rangesOf(peer.seen))
  const missing = ctx.invalidate === true ? held.map(asInvalidation) : held
  const entries = missing.filter((e) => e.bytes.length <= peer.maxValueBytes)
  for (const { frame, count } of encodeEntryFrames(entries, ctx.batchBytes ?? BATCH_TARGET_BYTES, FRAME_BATCH)) {
    ctx.stats.entriesOut += count
    await sendFrame(ctx, conn, frame)
  }
  if (entries.length < missing.length) {
    const refused = missing.filter((e) => e.bytes.length > peer.maxValueBytes).map((e) => [e.version.origin, e.seq])
    ctx.stats.tooLargeForPeer += refused.length
    for (let i = 0; i < refused.length; i += REFUSED_PER_FRAME) {
      const body = packr.pack(refused.slice(i, i + REFUSED_PER_FRAME))
      await sendFrame(ctx, conn, Buffer.concat([Buffer.from([FRAME_REFUSED]), body]))
    }
  }
  const end = Buffer.concat([Buffer.from([FRAME_END]), digest])
  ctx.stats.bytesOut += end.length
  conn.send(end)
}

async function sendFrame(ctx: AntiEntropyContext, conn: StreamConn, frame: Buffer): Promise<void> {
  ctx.stats.bytesOut += frame.length
  if (!conn.send(frame)) await conn.drain()
  if (conn.closed) throw new StreamError(`stream to ${conn.remoteAddress} closed while sending`)
}

/** Applies batches until END; returns the digest END carried (undefined if none). */
async function receiveEntries(ctx: AntiEntropyContext, frames: FrameQueue): Promise<Digest | undefined> {
  for (;;) {
    const frame = await frames.next(ctx.timeoutMs)
    ctx.stats.bytesIn += frame.length
    if (frame.length === 0) throw new DecodeError('short', 'empty anti-entropy frame')
    if (frame[0] === FRAME_BATCH) {
      ctx.stats.entriesIn += ctx.applyBatch(frame, 1)
    } else if (frame[0] === FRAME_END) {
      return frame.length > 1 ? decodeDigest(frame.subarray(1)) : undefined
    } else if (frame[0] === FRAME_REFUSED) {
      markRefused(ctx, frame)
    } else {
      throw new DecodeError('type', `anti-entropy frame kind ${frame[0]}`)
    }
  }
}

/** This node's digest, encoded now (a snapshot the store's later changes do not touch). */
function snapshotDigest(ctx: AntiEntropyContext): Buffer {
  const digest = encodeDigest(ctx.store.coverage(), ctx.maxValueBytes)
  ctx.onDigest?.(digest.length)
  return digest
}

/** Takes over the peer's coverage of every origin it can vouch for. */
function adopt(ctx: AntiEntropyContext, peer: Digest): void {
  const now = ctx.clock.now()
  for (const [origin, { ranges, lossy }] of peer.seen) if (!lossy) ctx.store.markSeen(origin, ranges.ranges(), now)
}

/** Records the writes a peer did not send because their values are larger than we accept. */
function markRefused(ctx: AntiEntropyContext, frame: Buffer): void {
  const raw = safeUnpack(frame, 1)
  if (!Array.isArray(raw) || raw.length > REFUSED_PER_FRAME) throw new DecodeError('shape', 'refused frame')
  const now = ctx.clock.now()
  for (const pair of raw as unknown[]) {
    if (!Array.isArray(pair) || pair.length < 2) throw new DecodeError('shape', 'refused pair')
    const [origin, seq] = pair as [unknown, unknown]
    if (typeof origin !== 'string' || origin.length === 0 || origin.length > 256 || !Number.isSafeInteger(seq) || (seq as number) < 1) {
      throw new DecodeError('field', 'refused pair')
    }
    ctx.store.refuse(origin, seq as number, now)
  }
}
