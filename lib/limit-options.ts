/**
 * The size limits among the create options (`maxKeyBytes`, `maxFrameBytes`,
 * `maxMembers`, `maxSyncs`, `maxStreamQueueBytes`), their defaults, and the
 * rule between `maxValueBytes` and `maxFrameBytes` — apart from the other
 * options (bcache-options.ts) because they answer to the wire's limits.
 */
import type { BcacheOptions, ResolvedOptions } from './bcache-options.js'
import { DEFAULT_MAX_MEMBERS } from './membership/member-table.js'
import { intIn, optionMessage, positiveInt } from './option-checks.js'
import { MAX_SERVED_ROUNDS } from './replication/anti-entropy-scheduler.js'
import { MAX_KEY_BYTES } from './replication/delta.js'
import { DEFAULT_MAX_QUEUED_BYTES } from './transport/frame-queue.js'
import { DEFAULT_MAX_FRAME_BYTES } from './transport/framing.js'

/**
 * Room kept in every stream frame besides one value, in bytes: the frame,
 * batch and delta headers, the key (at most {@link MAX_KEY_BYTES}), the
 * version and origin, and the security envelope and label, with a wide
 * margin. The rule checked at `create`:
 * `maxValueBytes <= maxFrameBytes - FRAME_MARGIN_BYTES`.
 */
export const FRAME_MARGIN_BYTES = 64 * 1024

/** Largest frame a 4-byte length header can announce (see transport/framing.ts). */
const MAX_FRAME_HEADER_BYTES = 0xffff_ffff

/** The size limits, checked and defaulted. */
export function resolveLimits(opts: BcacheOptions): Pick<ResolvedOptions, 'maxKeyBytes' | 'maxFrameBytes' | 'maxMembers' | 'maxSyncs' | 'maxStreamQueueBytes'> {
  return {
    maxKeyBytes: intIn('maxKeyBytes', opts.maxKeyBytes ?? MAX_KEY_BYTES, 1, MAX_KEY_BYTES),
    maxFrameBytes: intIn('maxFrameBytes', opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, FRAME_MARGIN_BYTES + 1, MAX_FRAME_HEADER_BYTES),
    maxMembers: intIn('maxMembers', opts.maxMembers ?? DEFAULT_MAX_MEMBERS, 2, Number.MAX_SAFE_INTEGER),
    maxSyncs: positiveInt('maxSyncs', opts.maxSyncs ?? MAX_SERVED_ROUNDS),
    maxStreamQueueBytes: intIn('maxStreamQueueBytes', opts.maxStreamQueueBytes ?? DEFAULT_MAX_QUEUED_BYTES, 1024, Number.MAX_SAFE_INTEGER)
  }
}

/** Refuses a value limit that a stream frame could not carry (it would stop every state transfer). */
export function checkValueFitsFrame(maxValueBytes: number, maxFrameBytes: number): void {
  const most = maxFrameBytes - FRAME_MARGIN_BYTES
  if (maxValueBytes > most) {
    throw new RangeError(optionMessage('maxValueBytes',
      `(${maxValueBytes}) must be at most maxFrameBytes (${maxFrameBytes}) minus ${FRAME_MARGIN_BYTES} bytes of frame overhead, i.e. ${most}; raise maxFrameBytes or lower maxValueBytes`))
  }
}
