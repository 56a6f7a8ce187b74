/**
 * Why an incoming datagram or frame was dropped. The decoders throw
 * {@link DecodeError} and nothing else; callers catch it, count
 * `err.reason` and drop the input (a bad packet is never thrown out of a
 * socket handler).
 */

/**
 * Every reason a decoder can give, in the order a packet is checked. The
 * strings are stable: they become counter names.
 *
 * | reason      | meaning                                                            |
 * |-------------|--------------------------------------------------------------------|
 * | `short`     | too few bytes for the header plus one msgpack value                |
 * | `magic`     | the datagram does not start with `0xbc 0xac`                        |
 * | `version`   | unknown protocol version (datagram header or frame's first byte)   |
 * | `flags`     | a flag bit this node does not understand is set                    |
 * | `msgpack`   | malformed or truncated msgpack (bad token, length past the end)     |
 * | `trailing`  | bytes left over after the single top-level msgpack value           |
 * | `shape`     | wrong structure: not an array where one is required, a message or member row shorter than its schema, a msgpack map, nesting too deep |
 * | `type`      | unknown message type, or a type not allowed here (stream-only in a datagram, packet-only in a frame) |
 * | `field`     | a field has the wrong type or is out of range (also: msgpack ext types, which no field can hold) |
 * | `too-many`  | more messages in a datagram, or more rows in a push-pull, than the limits allow |
 * | `too-large` | a payload is larger than `maxUserPayloadBytes`                     |
 */
export const DROP_REASONS = [
  'short',
  'magic',
  'version',
  'flags',
  'msgpack',
  'trailing',
  'shape',
  'type',
  'field',
  'too-many',
  'too-large'
] as const

/** One of {@link DROP_REASONS}. */
export type DropReason = (typeof DROP_REASONS)[number]

/**
 * Thrown by `decodePacket` / `decodeFrame` (and only by decoders) when the
 * input is rejected. `reason` is short and stable (count it); `message` adds
 * a detail for debug logs, e.g. `"field: Ping.seq"`.
 */
export class DecodeError extends Error {
  readonly reason: DropReason
  constructor(reason: DropReason, detail?: string) {
    super(detail === undefined ? reason : `${reason}: ${detail}`)
    this.name = 'DecodeError'
    this.reason = reason
  }
}
