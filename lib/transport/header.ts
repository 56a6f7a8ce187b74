/**
 * The 4-byte header every datagram and every security envelope starts with:
 *
 * ```
 * 0xbc 0xac  version  flags
 * ```
 *
 * Defined here, in the lowest layer, because both the envelope (this layer)
 * and the compound datagram (`wire/packet.ts`) write and read it; the wire
 * imports it from here. Flag bits are part of the protocol: only append.
 */

/** Version byte of datagrams, envelopes and stream frames. */
export const PROTOCOL_VERSION = 1

/** First two bytes of every datagram and envelope. */
export const HEADER_MAGIC = [0xbc, 0xac] as const

/** Bytes of the header: magic (2), version, flags. */
export const HEADER_BYTES = 4

/** Flag bit: the rest is AES-256-GCM ciphertext (nonce before, tag after). */
export const FLAG_ENCRYPTED = 0x01

/** Flag bit: a cluster label follows the header. */
export const FLAG_LABELLED = 0x02

/** Writes the header with `version` and `flags` at the start of `out`. */
export function writeHeader(out: Buffer, version: number, flags: number): void {
  out[0] = HEADER_MAGIC[0]
  out[1] = HEADER_MAGIC[1]
  out[2] = version
  out[3] = flags
}

/** True when `data` is long enough for a header and starts with the magic and `version`. */
export function hasHeader(data: Uint8Array, version: number): boolean {
  return data.length >= HEADER_BYTES && data[0] === HEADER_MAGIC[0] && data[1] === HEADER_MAGIC[1] && data[2] === version
}
