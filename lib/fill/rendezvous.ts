/**
 * Rendezvous (highest random weight) hashing: which member owns a key's fill
 * lease.
 *
 * Every member gets a pseudo-random score for the key; the highest score
 * wins. Each node computes the owner alone from its own member list, so nodes
 * that see the same alive members agree without talking. When a member leaves,
 * only the keys it owned move (each to its runner-up); when one joins, it takes
 * about `1/n` of the keys from the others. Nothing else moves.
 *
 * The score is FNV-1a 32 over the key, finalised with murmur3's `fmix32`, then
 * FNV-1a continued over the member id and finalised again. The key's part is
 * computed once per lookup, so a lookup costs `O(|key| + Σ|id|)`. Mixing the
 * key hash before the id bytes keeps `("ab", "c")` and `("a", "bc")` apart.
 * Strings are hashed by UTF-16 code unit: the low byte, then the high byte
 * when it is not zero. Ties (a 2^-32 event) go to the smaller id.
 *
 * **Warning:** this function is part of the protocol. Every node of a cluster
 * must compute the same owner, so changing it (the hash, the byte order, the
 * tie-break) is a breaking change for mixed-version clusters.
 */

const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193

function fnv1a(seed: number, s: string): number {
  let h = seed
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    h = Math.imul(h ^ (c & 0xff), FNV_PRIME)
    if (c > 0xff) h = Math.imul(h ^ (c >>> 8), FNV_PRIME)
  }
  return h >>> 0
}

/** murmur3's 32-bit finaliser (also partition mode's fingerprints, replication/segment-sync.ts). */
export function fmix32(x: number): number {
  let h = x
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * The score of `memberId` for `key`: an unsigned 32-bit integer. The owner is
 * the member with the highest score. Exposed for tests and diagnostics.
 */
export function rendezvousScore(key: string, memberId: string): number {
  return fmix32(fnv1a(fmix32(fnv1a(FNV_OFFSET, key)), memberId))
}

/**
 * The member that owns `key`: the highest {@link rendezvousScore}, ties to the
 * smaller id. Pure and independent of the order of `members` (duplicates are
 * harmless).
 *
 * @throws RangeError when `members` is empty.
 */
export function rendezvousOwner(key: string, members: readonly string[]): string {
  if (members.length === 0) throw new RangeError('rendezvousOwner: members must not be empty')
  const keyHash = fmix32(fnv1a(FNV_OFFSET, key))
  let best = members[0]!
  let bestScore = fmix32(fnv1a(keyHash, best))
  for (let i = 1; i < members.length; i++) {
    const id = members[i]!
    const score = fmix32(fnv1a(keyHash, id))
    if (score > bestScore || (score === bestScore && id < best)) {
      best = id
      bestScore = score
    }
  }
  return best
}
