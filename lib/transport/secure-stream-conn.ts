/**
 * The stream of a {@link SecureTransport}: every frame goes through the
 * security envelope of its transport.
 *
 * - Sending: sealed with the primary key when the stream encrypts (a dialled
 *   stream: when we have a key; an accepted one: as its first frame was).
 * - Receiving: each frame is opened on its own; a refused frame ends the
 *   stream (counted by the transport).
 * - Refusals (refusal.ts): an accepted stream whose *first* frame is refused
 *   for a misconfiguration (label, key) answers with a 5-byte refusal frame
 *   and closes, so the dialler learns why. It does so only for a frame that
 *   could be ours: sealed, or a plaintext whose payload starts with the
 *   protocol version byte; anything else is destroyed without an answer.
 *   A dialled stream reads its first frame as soon as it exists, even before
 *   its owner sets a frame handler, so a refusal is never stuck behind
 *   unread frames: a frame that passes waits here (with any that follow,
 *   at most {@link MAX_EARLY_FRAMES}) until the handler is set.
 */
import { StreamError } from '../errors.js'
import type { EnvelopeDrop } from './envelope.js'
import { FLAG_ENCRYPTED, FLAG_LABELLED, HEADER_BYTES, PROTOCOL_VERSION, hasHeader } from './header.js'
import { StreamRefusedError, decodeRefusal, encodeRefusal, isRefusalReason } from './refusal.js'
import type { SecureTransport } from './secure-transport.js'
import type { StreamConn } from './transport.js'

/** Most frames a dialled stream holds before its owner sets a frame handler; more destroys it. */
export const MAX_EARLY_FRAMES = 64

/** A stream whose frames go through the envelope of its transport (see the file comment). */
export class SecureStreamConn implements StreamConn {
  /** Whether our frames are encrypted; for an accepted stream, decided by its first frame. */
  private encrypt: boolean | undefined
  /** Whether we dialled this stream (only a dialled stream reads a refusal frame). */
  private readonly dialled: boolean
  /** Whether a frame was accepted yet (a refusal is sent, and read, only before that). */
  private opened = false
  private handler: ((frame: Buffer) => void) | undefined
  /** Frames of a dialled stream that arrived before its handler was set, in order. */
  private early: Buffer[] = []

  constructor(
    private readonly owner: SecureTransport,
    private readonly inner: StreamConn,
    encrypt: boolean | undefined
  ) {
    this.encrypt = encrypt
    this.dialled = encrypt !== undefined
    if (this.dialled) inner.onFrame((frame) => this.arrive(frame))
  }

  get remoteAddress(): string {
    return this.inner.remoteAddress
  }

  get closed(): boolean {
    return this.inner.closed
  }

  send(frame: Uint8Array): boolean {
    if (this.inner.closed) return false
    const encrypt = this.encrypt ?? this.owner.keyring.enabled
    return this.inner.send(this.owner.sealFrame(frame, encrypt))
  }

  drain(): Promise<void> {
    return this.inner.drain()
  }

  onFrame(handler: (frame: Buffer) => void): void {
    this.handler = handler
    if (!this.dialled) {
      this.inner.onFrame((frame) => this.arrive(frame))
      return
    }
    const early = this.early
    this.early = []
    for (const f of early) {
      if (this.inner.closed) return
      this.deliver(f)
    }
  }

  onClose(handler: (err?: Error) => void): void {
    this.inner.onClose(handler)
  }

  close(): void {
    this.inner.close()
  }

  destroy(err?: Error): void {
    this.inner.destroy(err)
  }

  private arrive(frame: Buffer): void {
    if (this.inner.closed) return
    if (this.dialled && !this.opened) {
      const refused = decodeRefusal(frame)
      if (refused !== undefined) return this.inner.destroy(new StreamRefusedError(refused, this.inner.remoteAddress, this.owner.ownSecurity(this.encrypt!)))
    }
    const r = this.owner.openFrame(frame, this.inner.remoteAddress)
    if (typeof r === 'string') return this.refused(r, frame)
    this.opened = true
    if (this.encrypt === undefined) this.encrypt = r.encrypted || !this.owner.allowPlaintext
    if (this.handler !== undefined) return this.deliver(r.payload)
    if (this.early.length >= MAX_EARLY_FRAMES) return this.inner.destroy(new StreamError(`stream from ${this.inner.remoteAddress}: more than ${MAX_EARLY_FRAMES} frames before a handler`))
    this.early.push(r.payload)
  }

  private deliver(payload: Buffer): void {
    try {
      this.handler!(payload)
    } catch (err) {
      this.inner.destroy(new StreamError(`frame handler for ${this.inner.remoteAddress} threw`, { cause: err }))
    }
  }

  /** Ends the stream after a refused frame: with a refusal frame first when the file comment says so. */
  private refused(reason: EnvelopeDrop, frame: Buffer): void {
    if (!this.dialled && !this.opened && isRefusalReason(reason) && couldBeOurs(frame)) {
      this.opened = true // one refusal per stream at most
      this.inner.send(encodeRefusal(reason))
      this.inner.close()
      return
    }
    this.inner.destroy(new StreamError(`stream from ${this.inner.remoteAddress}: frame refused by the security envelope (${reason})`))
  }
}

/** Whether a refused frame could come from a bcache node: sealed, or a plaintext protocol frame. */
function couldBeOurs(frame: Buffer): boolean {
  if (!hasHeader(frame, PROTOCOL_VERSION)) return frame[0] === PROTOCOL_VERSION // a bare frame
  const flags = frame[3]!
  if ((flags & FLAG_ENCRYPTED) !== 0) return true
  const at = (flags & FLAG_LABELLED) !== 0 ? HEADER_BYTES + 1 + (frame[HEADER_BYTES] ?? 0) : HEADER_BYTES
  return frame[at] === PROTOCOL_VERSION
}
