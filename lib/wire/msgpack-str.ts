/**
 * A msgpack str written by hand (fixstr, str8, str16 or str32 by its UTF-8
 * length), for the hot paths that encode without msgpackr: deltas
 * (replication/delta.ts) and string values (store/value-codec.ts).
 */

/** Bytes of the msgpack str header for an `n`-byte UTF-8 string. */
export function strHeaderBytes(n: number): number {
  return n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5
}

/** Writes `s` (`n` UTF-8 bytes, the caller measured them) as msgpack str into `buf` at `pos`; returns the position after it. */
export function writeStr(buf: Buffer, pos: number, s: string, n: number): number {
  if (n < 32) buf[pos++] = 0xa0 | n
  else if (n < 0x100) { buf[pos++] = 0xd9; buf[pos++] = n }
  else if (n < 0x10000) { buf[pos++] = 0xda; buf.writeUInt16BE(n, pos); pos += 2 }
  else { buf[pos++] = 0xdb; buf.writeUInt32BE(n, pos); pos += 4 }
  buf.write(s, pos, n, 'utf8')
  return pos + n
}
