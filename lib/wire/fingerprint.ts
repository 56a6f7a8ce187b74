/**
 * A 52-bit fingerprint of a sequence of strings and numbers: two independent
 * 32-bit FNV-1a streams folded into a safe integer, so two different inputs
 * collide with odds of about 2^-52. For digest-first exchanges, where two
 * nodes first compare fingerprints of their state and exchange the state
 * itself only when they differ (membership/table-digest.ts,
 * replication/coverage-check.ts). Not cryptographic: a peer that wants to
 * hide a difference can; these exchanges are repair, not security.
 */
const FNV_PRIME = 0x01000193

export class Fingerprint {
  private h1 = 0x811c9dc5
  private h2 = 0x01234567

  /** Adds `s`, then a separator (so `('ab', 'c')` and `('a', 'bc')` differ). */
  str(s: string): this {
    let h1 = this.h1, h2 = this.h2
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i)
      h1 = Math.imul(h1 ^ c, FNV_PRIME) >>> 0
      h2 = Math.imul(h2 ^ (c + 0x9e), FNV_PRIME) >>> 0
    }
    this.h1 = Math.imul(h1 ^ 0xffff, FNV_PRIME) >>> 0
    this.h2 = Math.imul(h2 ^ 0xffff, FNV_PRIME) >>> 0
    return this
  }

  /** Adds a number (by its decimal form). */
  num(n: number): this {
    return this.str(String(n))
  }

  /** The fingerprint so far: a non-negative safe integer below 2^52. */
  value(): number {
    return this.h1 * 0x100000 + (this.h2 & 0xfffff)
  }
}
