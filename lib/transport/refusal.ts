/**
 * Refusal frames: how the answering side of a stream tells the dialler why
 * its first frame was refused by the security envelope, so that a node
 * joining with the wrong key, no key, or another cluster's label learns the
 * reason instead of "stream closed before a reply".
 *
 * Layout: the 4-byte header with {@link FLAG_REFUSAL} as its flags, then one
 * reason byte (see {@link REFUSAL_REASONS}); exactly 5 bytes, in clear. The
 * answering side sends it at most once per stream, only in answer to the
 * stream's first frame, and then closes the stream.
 *
 * Abuse: a refusal is unauthenticated (it cannot be otherwise: the two sides
 * share no key that works). So the dialler treats it only as a better error
 * message: it is read only on a dialled stream before any frame was
 * accepted, it ends that stream (which the sender could do anyway by
 * closing it), and it changes no other state: no member, key or counter of
 * the cluster. It names the reason only, never a key, a key id or the label
 * the refusing side expects.
 */
import { StreamError } from '../errors.js'
import type { EnvelopeDrop } from './envelope.js'
import { HEADER_BYTES, PROTOCOL_VERSION, hasHeader, writeHeader } from './header.js'

/** Flag byte of a refusal frame (no envelope has this bit: an older node drops it as `flags`). */
export const FLAG_REFUSAL = 0x80

/** The reasons a refusal can carry; the byte on the wire is the index + 1. Only append. */
export const REFUSAL_REASONS = ['label-mismatch', 'decrypt-failed', 'plaintext-refused', 'encrypted-without-key'] as const

/** A reason a refusal frame names. */
export type RefusalReason = (typeof REFUSAL_REASONS)[number]

/** Whether a drop of the envelope is worth a refusal frame (a misconfiguration the dialler can fix). */
export function isRefusalReason(reason: EnvelopeDrop): reason is RefusalReason {
  return (REFUSAL_REASONS as readonly string[]).includes(reason)
}

/** The 5-byte refusal frame naming `reason`. */
export function encodeRefusal(reason: RefusalReason): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + 1)
  writeHeader(out, PROTOCOL_VERSION, FLAG_REFUSAL)
  out[HEADER_BYTES] = REFUSAL_REASONS.indexOf(reason) + 1
  return out
}

/** The reason of a refusal frame, or undefined when `frame` is not exactly one. */
export function decodeRefusal(frame: Uint8Array): RefusalReason | undefined {
  if (frame.length !== HEADER_BYTES + 1 || !hasHeader(frame, PROTOCOL_VERSION) || frame[3] !== FLAG_REFUSAL) return undefined
  return REFUSAL_REASONS[frame[HEADER_BYTES]! - 1]
}

/** What the dialling side knows of its own configuration, to explain a refusal. */
export interface OwnSecurity {
  label: string
  /** Whether this node sealed its frames with a key. */
  encrypted: boolean
}

/** A sentence saying why `peer` refused us, from our point of view (no secret in it). */
export function explainRefusal(reason: RefusalReason, own: OwnSecurity, peer = 'the peer'): string {
  switch (reason) {
    case 'label-mismatch':
      return own.label === ''
        ? `label mismatch (this node has no label, ${peer} expects one)`
        : `label mismatch (this node's label '${own.label}', ${peer} expects another)`
    case 'decrypt-failed':
      return `wrong key (${peer} could not authenticate this node's frame with any of its secretKeys)`
    case 'plaintext-refused':
      return `missing key (this node sent unencrypted, ${peer} requires secretKeys)`
    case 'encrypted-without-key':
      return `${peer} has no secretKeys (this node encrypts, ${peer} does not)`
  }
}

/** A dialled stream ended by the peer's refusal frame; `reason` says why. */
export class StreamRefusedError extends StreamError {
  constructor(readonly reason: RefusalReason, readonly peerAddress: string, readonly own: OwnSecurity) {
    super(`${peerAddress} refused the stream: ${explainRefusal(reason, own)}`)
    this.name = 'StreamRefusedError'
  }

  /** The explanation, naming the peer as `peer` (e.g. 'the seed'). */
  explain(peer: string): string {
    return explainRefusal(this.reason, this.own, peer)
  }
}
