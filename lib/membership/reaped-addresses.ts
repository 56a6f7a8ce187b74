/**
 * Addresses of members reaped while dead (not left), newest last, at most
 * {@link MAX_REAPED_ADDRESSES}. Push-pull keeps trying them, so a partition
 * that outlasts `reapDeadAfterMs` still heals when the seeds are gone too:
 * both sides forgot each other's member record, but not the address.
 */

/** Most addresses of reaped dead members kept for reconnection attempts. */
export const MAX_REAPED_ADDRESSES = 64

export class ReapedAddresses {
  private readonly addrs: string[] = []

  /** Remembers `addr` as the newest (moving it if already known); the oldest goes beyond the bound. */
  remember(addr: string): void {
    const i = this.addrs.indexOf(addr)
    if (i >= 0) this.addrs.splice(i, 1)
    this.addrs.push(addr)
    if (this.addrs.length > MAX_REAPED_ADDRESSES) this.addrs.shift()
  }

  /** Oldest first. */
  list(): readonly string[] {
    return this.addrs
  }
}
