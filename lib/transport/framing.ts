/**
 * Stream framing: every frame on a TCP stream is a 4-byte big-endian payload
 * length followed by the payload. Zero-length frames are allowed.
 *
 * {@link FrameDecoder} turns the arbitrary chunks a socket delivers back into
 * whole frames. It keeps the unread chunks in a list instead of concatenating
 * them on every `push` (which would be quadratic for a large frame arriving in
 * many small chunks). A frame is assembled only once all its bytes are there:
 * with a single copy when it spans several chunks, or as a zero-copy view when
 * it lies inside one chunk and covers at least half of it (a tiny view would
 * otherwise pin a whole 64 KiB socket chunk in memory for as long as the
 * caller keeps the frame).
 *
 * The decoder is pull-based: `push` only stores bytes, `next` hands out one
 * frame at a time. The caller decides when to stop (for example when its
 * connection was destroyed by a frame handler) without the decoder having to
 * know about it.
 */
import { StreamError } from '../errors.js'

/** Bytes of the length prefix in front of every frame on a stream. */
export const LENGTH_PREFIX_BYTES = 4

/**
 * Default largest frame payload a stream accepts (`maxFrameBytes` of the
 * transports and of `Bcache`): 16 MiB.
 */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024

const EMPTY = Buffer.alloc(0)

/** Largest length a 4-byte header can carry. */
const MAX_HEADER_LENGTH = 0xffff_ffff

/** A frame header announced more bytes than the decoder accepts. */
export class FrameTooLargeError extends StreamError {
  constructor(readonly frameBytes: number, readonly maxFrameBytes: number) {
    super(`frame of ${frameBytes} bytes exceeds maxFrameBytes ${maxFrameBytes}`)
    this.name = 'FrameTooLargeError'
  }
}

/** Returns the 4-byte big-endian header for a payload of `len` bytes. */
export function frameHeader(len: number): Buffer {
  checkLength(len)
  const header = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES)
  header.writeUInt32BE(len, 0)
  return header
}

/** Returns header + payload in one new buffer (the payload is copied). */
export function encodeFramed(payload: Uint8Array): Buffer {
  checkLength(payload.length)
  const out = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES + payload.length)
  out.writeUInt32BE(payload.length, 0)
  out.set(payload, LENGTH_PREFIX_BYTES)
  return out
}

function checkLength(len: number): void {
  if (!Number.isInteger(len) || len < 0 || len > MAX_HEADER_LENGTH) {
    throw new RangeError(`frame length ${len} out of range 0..${MAX_HEADER_LENGTH}`)
  }
}

/**
 * Reassembles length-prefixed frames from stream chunks.
 *
 * ```ts
 * decoder.push(chunk)
 * for (let f = decoder.next(); f !== undefined; f = decoder.next()) handle(f)
 * ```
 */
export class FrameDecoder {
  private readonly maxFrameBytes: number
  // unread chunks are chunks[head..]; chunks[head] is read from `offset`
  private chunks: Buffer[] = []
  private head = 0
  private offset = 0
  // bytes in chunks[head..] after `offset`
  private buffered = 0
  // payload length of the frame being assembled; -1 while its header is unread
  private frameLen = -1
  // set once an oversize header was seen: the stream cannot be resynchronised
  private failure: FrameTooLargeError | undefined

  /** @param maxFrameBytes largest payload accepted; a larger header makes `next` throw. */
  constructor(maxFrameBytes: number) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 0) {
      throw new RangeError(`maxFrameBytes must be a non-negative integer, got ${maxFrameBytes}`)
    }
    this.maxFrameBytes = maxFrameBytes
  }

  /** Bytes received but not yet handed out (headers included). */
  get bufferedBytes(): number {
    return this.buffered + (this.frameLen >= 0 ? LENGTH_PREFIX_BYTES : 0)
  }

  /** Stores a chunk. The decoder keeps a reference: do not mutate it afterwards. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return
    this.chunks.push(chunk)
    this.buffered += chunk.length
  }

  /**
   * Returns the next whole frame, or undefined when more bytes are needed.
   * Throws {@link FrameTooLargeError} when a header exceeds `maxFrameBytes`
   * (and again on every later call: the connection must be dropped).
   */
  next(): Buffer | undefined {
    if (this.failure !== undefined) throw this.failure
    if (this.frameLen < 0) {
      if (this.buffered < LENGTH_PREFIX_BYTES) return undefined
      const len = this.readHeader()
      if (len > this.maxFrameBytes) {
        this.failure = new FrameTooLargeError(len, this.maxFrameBytes)
        this.chunks = []
        this.head = this.offset = this.buffered = 0
        throw this.failure
      }
      this.frameLen = len
    }
    if (this.buffered < this.frameLen) return undefined
    const frame = this.take(this.frameLen)
    this.frameLen = -1
    return frame
  }

  private readHeader(): number {
    const first = this.chunks[this.head]!
    if (first.length - this.offset >= LENGTH_PREFIX_BYTES) {
      const len = first.readUInt32BE(this.offset)
      this.consume(LENGTH_PREFIX_BYTES)
      return len
    }
    return this.take(LENGTH_PREFIX_BYTES).readUInt32BE(0)
  }

  /** Removes `n` bytes (n <= buffered) and returns them. */
  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0)
    const first = this.chunks[this.head]!
    const avail = first.length - this.offset
    if (avail >= n) {
      const start = this.offset
      const view = first.subarray(start, start + n)
      this.consume(n)
      return n >= first.length >>> 1 ? view : Buffer.from(view)
    }
    const out = Buffer.allocUnsafe(n)
    let written = 0
    while (written < n) {
      const chunk = this.chunks[this.head]!
      const count = Math.min(chunk.length - this.offset, n - written)
      chunk.copy(out, written, this.offset, this.offset + count)
      written += count
      this.consume(count)
    }
    return out
  }

  /** Advances past `n` bytes that lie within the current chunk. */
  private consume(n: number): void {
    this.offset += n
    this.buffered -= n
    if (this.offset < this.chunks[this.head]!.length) return
    this.offset = 0
    this.chunks[this.head++] = EMPTY // drop the reference now, not at compaction
    if (this.head === this.chunks.length) {
      this.chunks = []
      this.head = 0
    } else if (this.head >= 1024 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head)
      this.head = 0
    }
  }
}
