/**
 * The security envelope: how a datagram or a stream frame is labelled and
 * encrypted on the wire. Pure functions over bytes; `SecureTransport` applies
 * them to every datagram and every stream frame.
 *
 * Layout (the same for datagrams and frames):
 *
 * ```
 * 0xbc 0xac  version  flags  [labelLen label…]  [nonce(12)  ciphertext  tag(16)]   flags & ENCRYPTED
 *                                               [payload]                          otherwise
 * `------- 4-byte header ---' `- if LABELLED -'
 * ```
 *
 * The header is `header.ts`'s (shared with `wire/packet.ts`).
 *
 * - `flags` bit 0 (`FLAG_ENCRYPTED`, 0x01): the rest is AES-256-GCM output.
 *   Bit 1 (`FLAG_LABELLED`, 0x02): a cluster label follows the header, one
 *   length byte (1..255) then that many UTF-8 bytes. Other bits: rejected.
 * - The additional authenticated data is every byte before the nonce (the
 *   header and the label), so a flipped flag, a changed version or another
 *   cluster's label fails authentication even under the same key.
 * - The payload of a datagram is its msgpack body: the inner datagram's
 *   own 4-byte header (`0xbc 0xac version 0`) is not repeated, and is
 *   rebuilt on the way in. The payload of a frame is the whole inner frame.
 * - Nonces are 12 bytes: a random starting point per process, then a
 *   counter (the low 8 bytes, big-endian), so one process never repeats a
 *   nonce under a key and two processes collide only if their random 96-bit
 *   ranges overlap. The tag is GCM's full 16 bytes.
 *
 * A node with neither keys nor label sends datagrams and frames unchanged
 * (a datagram with flags 0, a frame as the application wrote it), so it
 * stays wire-compatible with nodes that predate the envelope.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { FLAG_ENCRYPTED, FLAG_LABELLED, HEADER_BYTES, hasHeader, writeHeader } from './header.js'

const KNOWN = FLAG_ENCRYPTED | FLAG_LABELLED

/** Bytes of the GCM nonce that follows the header (and label). */
export const NONCE_BYTES = 12
/** Bytes of the GCM authentication tag at the end. */
export const TAG_BYTES = 16
/** Longest label, in UTF-8 bytes (its length travels in one byte). */
export const MAX_LABEL_BYTES = 255

/** Why {@link openEnvelope} refused an input (a counter name). */
export type EnvelopeDrop =
  | 'flags'
  | 'short'
  | 'label-mismatch'
  | 'encrypted-without-key'
  | 'decrypt-failed'
  | 'plaintext-refused'

/** What the receiving side accepts. */
export interface EnvelopePolicy {
  /** The keys to try, primary first; empty = this node has no key. */
  keys: readonly Buffer[]
  /** This cluster's label bytes; empty = no label. */
  label: Buffer
  /** Accept unencrypted input although keys are configured (migration window). */
  allowPlaintext: boolean
}

/** A successfully opened envelope. */
export interface Opened {
  /** The inner payload (a datagram body, or a whole frame). */
  payload: Buffer
  /** Whether it arrived encrypted. */
  encrypted: boolean
}

/** Bytes an envelope adds to a payload: header, label, and nonce + tag when encrypting. */
export function envelopeOverhead(labelBytes: number, encrypt: boolean): number {
  return HEADER_BYTES + (labelBytes > 0 ? 1 + labelBytes : 0) + (encrypt ? NONCE_BYTES + TAG_BYTES : 0)
}

/** True when `data` starts like an envelope (or a datagram): magic and `version`. */
export function looksEnveloped(data: Uint8Array, version: number): boolean {
  return hasHeader(data, version)
}

/** A process-wide nonce sequence: random start, then +1 per message. */
export class NonceSequence {
  private readonly next = randomBytes(NONCE_BYTES)

  /** Writes the next nonce into `out` at `pos`. */
  take(out: Buffer, pos: number): void {
    this.next.copy(out, pos)
    for (let i = NONCE_BYTES - 1; i >= NONCE_BYTES - 8; i--) {
      this.next[i] = (this.next[i]! + 1) & 0xff
      if (this.next[i] !== 0) break
    }
  }
}

/**
 * Wraps `payload`: header with `version`, the label when non-empty, and the
 * payload, encrypted with `key` when given.
 */
export function sealEnvelope(payload: Uint8Array, version: number, label: Buffer, key: Buffer | undefined, nonces: NonceSequence): Buffer {
  const labelled = label.length > 0
  const head = HEADER_BYTES + (labelled ? 1 + label.length : 0)
  const flags = (labelled ? FLAG_LABELLED : 0) | (key !== undefined ? FLAG_ENCRYPTED : 0)
  const out = Buffer.allocUnsafe(head + (key !== undefined ? NONCE_BYTES + payload.length + TAG_BYTES : payload.length))
  writeHeader(out, version, flags)
  if (labelled) {
    out[HEADER_BYTES] = label.length
    label.copy(out, HEADER_BYTES + 1)
  }
  if (key === undefined) {
    out.set(payload, head)
    return out
  }
  nonces.take(out, head)
  const cipher = createCipheriv('aes-256-gcm', key, out.subarray(head, head + NONCE_BYTES))
  cipher.setAAD(out.subarray(0, head))
  let pos = head + NONCE_BYTES
  const ct = cipher.update(payload)
  ct.copy(out, pos)
  pos += ct.length
  const fin = cipher.final()
  fin.copy(out, pos)
  pos += fin.length
  cipher.getAuthTag().copy(out, pos)
  return out
}

/**
 * Opens an envelope (the caller checked {@link looksEnveloped}) under
 * `policy`. Returns the payload, or the reason it is refused. Never throws.
 */
export function openEnvelope(data: Buffer, policy: EnvelopePolicy): Opened | EnvelopeDrop {
  const flags = data[3]!
  if ((flags & ~KNOWN) !== 0) return 'flags'
  let head = HEADER_BYTES
  if ((flags & FLAG_LABELLED) !== 0) {
    const n = data[HEADER_BYTES]
    if (n === undefined || n === 0 || data.length < HEADER_BYTES + 1 + n) return 'short'
    head += 1 + n
    if (!policy.label.equals(data.subarray(HEADER_BYTES + 1, head))) return 'label-mismatch'
  } else if (policy.label.length > 0) {
    return 'label-mismatch'
  }
  if ((flags & FLAG_ENCRYPTED) === 0) {
    if (policy.keys.length > 0 && !policy.allowPlaintext) return 'plaintext-refused'
    return { payload: data.subarray(head), encrypted: false }
  }
  if (policy.keys.length === 0) return 'encrypted-without-key'
  if (data.length < head + NONCE_BYTES + TAG_BYTES) return 'short'
  const aad = data.subarray(0, head)
  const nonce = data.subarray(head, head + NONCE_BYTES)
  const ct = data.subarray(head + NONCE_BYTES, data.length - TAG_BYTES)
  const tag = data.subarray(data.length - TAG_BYTES)
  for (const key of policy.keys) {
    const plain = tryDecrypt(key, nonce, aad, ct, tag)
    if (plain !== undefined) return { payload: plain, encrypted: true }
  }
  return 'decrypt-failed'
}

function tryDecrypt(key: Buffer, nonce: Buffer, aad: Buffer, ct: Buffer, tag: Buffer): Buffer | undefined {
  try {
    const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES })
    d.setAAD(aad)
    d.setAuthTag(tag)
    const first = d.update(ct)
    const last = d.final()
    return last.length === 0 ? first : Buffer.concat([first, last])
  } catch {
    return undefined
  }
}
