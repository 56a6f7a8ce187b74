/**
 * Persistent push streams, one per peer, for what datagrams carry badly:
 * bursts (a turn that wrote more than a few datagrams' worth) and values too
 * large for a datagram. UDP has no flow control: a burst of a thousand
 * datagrams overflows the receiver's socket buffer and most of it is lost;
 * over TCP it arrives whole, paced by the receiver.
 *
 * A channel is opened lazily with the first batch as the first frame
 * (UserStream{tag: Push}); later batches are plain frames on the same
 * connection. Batches sent while the connection is being opened wait in a
 * bounded queue. When a channel fails, what it held is dropped and counted:
 * anti-entropy repairs it.
 */
import type { Logger } from '../logger.js'
import type { StreamConn } from '../transport/transport.js'

/** Most bytes waiting for one channel to open; beyond it batches are dropped (anti-entropy repairs). */
const MAX_PENDING_BYTES = 64 * 1024 * 1024

interface Channel {
  conn: StreamConn | undefined
  pending: Buffer[]
  pendingBytes: number
}

export interface PushChannelsComponents {
  /** Opens a push stream to `addr` whose first frame carries `firstBatch`. */
  open: (addr: string, firstBatch: Buffer) => Promise<StreamConn>
  logger: Logger
  /** Counts a dropped batch. */
  drop: (reason: string) => void
}

export class PushChannels {
  private readonly channels = new Map<string, Channel>()

  constructor(private readonly c: PushChannelsComponents) {}

  /** Sends one encoded batch to `addr`. */
  send(addr: string, batch: Buffer): void {
    const ch = this.channels.get(addr)
    if (ch === undefined) return this.openChannel(addr, batch)
    if (ch.conn !== undefined) {
      ch.conn.send(batch)
      return
    }
    if (ch.pendingBytes + batch.length > MAX_PENDING_BYTES) return this.c.drop('push-backlog')
    ch.pending.push(batch)
    ch.pendingBytes += batch.length
  }

  /** Closes the channel to `addr` (the member left or failed). */
  forget(addr: string): void {
    const ch = this.channels.get(addr)
    this.channels.delete(addr)
    ch?.conn?.close()
  }

  closeAll(): void {
    for (const addr of [...this.channels.keys()]) this.forget(addr)
  }

  /** Open channels, for stats and tests. */
  size(): number {
    return this.channels.size
  }

  private openChannel(addr: string, first: Buffer): void {
    const ch: Channel = { conn: undefined, pending: [], pendingBytes: 0 }
    this.channels.set(addr, ch)
    this.c.open(addr, first).then(
      (conn) => {
        if (this.channels.get(addr) !== ch) return conn.close()
        ch.conn = conn
        for (const b of ch.pending) conn.send(b)
        ch.pending = []
        ch.pendingBytes = 0
        // Nothing comes back on a push stream; a frame or a close ends it.
        conn.onFrame(() => conn.destroy())
        conn.onClose(() => {
          if (this.channels.get(addr) === ch) this.channels.delete(addr)
        })
      },
      (err) => {
        if (this.channels.get(addr) === ch) this.channels.delete(addr)
        this.c.drop('push-stream')
        this.c.logger.debug(`replication: push stream to ${addr} failed: ${String(err)}`)
      }
    )
  }
}
