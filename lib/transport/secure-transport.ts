/**
 * A {@link Transport} that wraps another and applies the security envelope
 * (see `envelope.ts`) to every datagram and every stream frame: AES-256-GCM
 * with a live keyring, and a cluster label authenticated with it.
 *
 * Sending: with a primary key, every datagram and frame is sealed with it;
 * with only a label, it is labelled in clear; with neither, it goes out
 * unchanged. Receiving: the label must match; encrypted input is opened
 * with the primary key first, then the others; unencrypted input is refused
 * when keys are configured, unless `allowPlaintext` (a migration window).
 * Whatever is refused is dropped, counted in `stats().dropped` and logged:
 * at warn level the first time for each reason (a misconfigured cluster
 * says so clearly), at debug level after that. Nothing throws to the socket.
 *
 * Migration window (`allowPlaintext`): while on, a node also answers a peer
 * in the form that peer last used towards it (plaintext to a node that sent
 * plaintext; sealed once it sends sealed), so nodes that have no key yet keep
 * working during a rolling restart. Turn it off once every node has the key.
 *
 * Streams (secure-stream-conn.ts): a dialled stream is sealed like
 * datagrams. An accepted stream checks each frame on its own; its replies
 * take the form of its first frame (sealed, or plain within the migration
 * window). A refused frame ends the stream; a refused *first* frame is
 * answered with a refusal frame naming the reason (refusal.ts), so a
 * misconfigured joiner learns why.
 *
 * Threat model, in short (the README has the full text): without a key an
 * attacker can neither read nor forge nor alter anything; it can drop,
 * delay, and replay whole datagrams or frames it captured while the key was
 * in use. Replays are harmless by construction: every state change is
 * versioned (member incarnations, last-writer-wins versions), so an old
 * message never overrides a newer state.
 */
import { DropCounts, mergeCounts } from '../drop-counts.js'
import type { Logger } from '../logger.js'
import {
  envelopeOverhead,
  looksEnveloped,
  NonceSequence,
  openEnvelope,
  sealEnvelope,
  MAX_LABEL_BYTES,
  type EnvelopeDrop,
  type EnvelopePolicy
} from './envelope.js'
import { HEADER_BYTES, PROTOCOL_VERSION } from './header.js'
import { Keyring } from './keyring.js'
import type { OwnSecurity } from './refusal.js'
import { SecureStreamConn } from './secure-stream-conn.js'
import type { PacketHandler, StreamConn, StreamHandler, Transport, TransportStats } from './transport.js'

/** Settings of a {@link SecureTransport}. */
export interface SecureTransportInit {
  /** The keys; shared with the caller so that rotation is live. @default an empty ring (no encryption) */
  keyring?: Keyring
  /** Cluster label (UTF-8, ≤ 255 bytes); '' = none. @default '' */
  label?: string
  /** Accept unencrypted traffic although keys are configured. @default false */
  allowPlaintext?: boolean
  /** Most peers remembered as plaintext senders during the migration window. @default 10000 */
  maxPlaintextPeers?: number
  /** @default silent */
  logger?: Logger
}

/**
 * Validates a cluster label. @throws TypeError/RangeError naming `what`
 */
export function checkLabel(label: unknown, what = 'option label'): string {
  if (typeof label !== 'string') throw new TypeError(`${what} must be a string, got ${typeof label}`)
  if (Buffer.byteLength(label) > MAX_LABEL_BYTES) throw new RangeError(`${what} must be at most ${MAX_LABEL_BYTES} UTF-8 bytes`)
  return label
}

/** Bytes the envelope adds to a datagram of this configuration (the datagram budget shrinks by it). */
export function secureOverhead(label: string, encrypt: boolean): number {
  const labelBytes = Buffer.byteLength(label)
  if (labelBytes === 0 && !encrypt) return 0
  // The inner 4-byte header is replaced by the envelope's own.
  return envelopeOverhead(labelBytes, encrypt) - HEADER_BYTES
}

/** Wraps any transport with the security envelope. */
export class SecureTransport implements Transport {
  readonly keyring: Keyring
  readonly allowPlaintext: boolean
  private readonly label: Buffer
  private readonly logger: Logger | undefined
  private readonly nonces = new NonceSequence()
  // this layer's drops; a reason's first drop is logged at warn level, later ones at debug
  private readonly drops = new DropCounts()
  /** Peers whose last datagram to us was plaintext (only filled within the migration window); insertion order = age. */
  private readonly plainPeers = new Map<string, true>()
  private readonly maxPlaintextPeers: number
  private handler: PacketHandler | undefined

  constructor(readonly inner: Transport, init: SecureTransportInit = {}) {
    this.keyring = init.keyring ?? new Keyring()
    this.label = Buffer.from(checkLabel(init.label ?? ''), 'utf8')
    this.allowPlaintext = init.allowPlaintext === true
    this.maxPlaintextPeers = init.maxPlaintextPeers ?? 10_000
    this.logger = init.logger
  }

  get address(): string {
    return this.inner.address
  }

  /** What a receiver here accepts, right now (the keyring may change). */
  policy(): EnvelopePolicy {
    return { keys: this.keyring.all(), label: this.label, allowPlaintext: this.allowPlaintext }
  }

  sendPacket(to: string, data: Uint8Array): void {
    const key = this.sendKey(to)
    if (key === undefined && this.label.length === 0) return this.inner.sendPacket(to, data)
    if (!looksEnveloped(data, PROTOCOL_VERSION) || data[3] !== 0) return this.drop('send-malformed', `not a plain datagram (to ${to})`)
    this.inner.sendPacket(to, sealEnvelope(data.subarray(HEADER_BYTES), PROTOCOL_VERSION, this.label, key, this.nonces))
  }

  onPacket(handler: PacketHandler): void {
    this.handler = handler
    this.inner.onPacket((data, from) => this.receive(data, from))
  }

  onStream(handler: StreamHandler): void {
    this.inner.onStream((conn) => handler(new SecureStreamConn(this, conn, undefined)))
  }

  async dialStream(to: string, timeoutMs: number): Promise<StreamConn> {
    const conn = await this.inner.dialStream(to, timeoutMs)
    return new SecureStreamConn(this, conn, this.sendKey(to) !== undefined)
  }

  /** The inner transport's counters, with this layer's drops added. */
  stats(): TransportStats {
    const s = this.inner.stats()
    return { ...s, dropped: mergeCounts(s.dropped, this.drops.byReason) }
  }

  close(): Promise<void> {
    return this.inner.close()
  }

  /** @internal seals one frame (or returns it unchanged with neither key nor label) */
  sealFrame(frame: Uint8Array, encrypt: boolean): Uint8Array {
    const key = encrypt ? this.keyring.primary() : undefined
    if (key === undefined && this.label.length === 0) return frame
    return sealEnvelope(frame, PROTOCOL_VERSION, this.label, key, this.nonces)
  }

  /** @internal opens one arriving frame; the reason (counted, logged) when refused */
  openFrame(frame: Buffer, from: string): { payload: Buffer; encrypted: boolean } | EnvelopeDrop {
    const policy = this.policy()
    if (!looksEnveloped(frame, PROTOCOL_VERSION)) {
      // A bare frame, from a node with neither key nor label.
      const reason = policy.label.length > 0 ? 'label-mismatch' : policy.keys.length > 0 && !policy.allowPlaintext ? 'plaintext-refused' : undefined
      if (reason === undefined) return { payload: frame, encrypted: false }
      this.refuse(`stream-${reason}`, reason, from, 'stream frame')
      return reason
    }
    const r = openEnvelope(frame, policy)
    if (typeof r === 'string') this.refuse(`stream-${r}`, r, from, 'stream frame')
    return r
  }

  /** @internal what this node sent with, to explain a refusal it received */
  ownSecurity(encrypted: boolean): OwnSecurity {
    return { label: this.label.toString('utf8'), encrypted }
  }

  /** @internal counts a drop and logs it (warn the first time per reason) */
  drop(reason: string, detail: string): void {
    this.drops.count(reason)
    if (this.logger === undefined) return
    if (this.drops.get(reason) > 1) {
      this.logger.debug(`secure-transport: dropped (${reason}): ${detail}`)
    } else {
      this.logger.warn(`secure-transport: dropped (${reason}): ${detail} (further drops for this reason are logged at debug level)`)
    }
  }

  /** The key to seal traffic to `to` with; undefined = send unencrypted. */
  private sendKey(to: string): Buffer | undefined {
    const key = this.keyring.primary()
    if (key !== undefined && this.allowPlaintext && this.plainPeers.has(to)) return undefined
    return key
  }

  private receive(data: Buffer, from: string): void {
    const handler = this.handler
    if (handler === undefined) return
    if (!looksEnveloped(data, PROTOCOL_VERSION)) return handler(data, from) // short, magic, version: membership counts those
    const policy = this.policy()
    if (data[3] === 0 && policy.label.length === 0) {
      // A plain datagram with no label: the common case without encryption, passed up as is.
      if (policy.keys.length > 0) {
        if (!policy.allowPlaintext) return this.refuse('plaintext-refused', 'plaintext-refused', from, 'datagram')
        this.notePlain(from, true)
      }
      return handler(data, from)
    }
    const r = openEnvelope(data, policy)
    if (typeof r === 'string') return this.refuse(r, r, from, 'datagram')
    if (policy.keys.length > 0 && policy.allowPlaintext) this.notePlain(from, !r.encrypted)
    const inner = Buffer.allocUnsafe(HEADER_BYTES + r.payload.length)
    data.copy(inner, 0, 0, 3)
    inner[3] = 0
    r.payload.copy(inner, HEADER_BYTES)
    handler(inner, from)
  }

  private notePlain(from: string, plain: boolean): void {
    if (!plain) {
      this.plainPeers.delete(from)
      return
    }
    if (this.plainPeers.has(from)) return
    if (this.plainPeers.size >= this.maxPlaintextPeers) this.plainPeers.delete(this.plainPeers.keys().next().value!)
    this.plainPeers.set(from, true)
  }

  private refuse(counter: string, reason: EnvelopeDrop, from: string, what: string): void {
    this.drop(counter, `${what} from ${from}: ${explain(reason)}`)
  }
}

function explain(reason: EnvelopeDrop): string {
  switch (reason) {
    case 'flags': return 'unknown flag bits (a newer protocol?)'
    case 'short': return 'truncated envelope'
    case 'label-mismatch': return 'cluster label differs from ours (another cluster, or a label configured on one side only)'
    case 'encrypted-without-key': return 'encrypted, but no secretKeys are configured here'
    case 'decrypt-failed': return 'authentication failed with every key in our ring (wrong key, or tampered)'
    case 'plaintext-refused': return 'unencrypted, but secretKeys are configured here (allowPlaintext is off)'
  }
}
