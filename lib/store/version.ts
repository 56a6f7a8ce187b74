/**
 * Versions and the hybrid logical clock (HLC) that stamps them.
 *
 * Every cache write carries a {@link Version} `(wall, counter, origin)`. Two
 * writes to one key are ordered by {@link compareVersions}: wall time first,
 * then the counter, then the write origin as a plain string comparison.
 * The greater version wins everywhere (last writer wins), and because the
 * order is total and depends on nothing but the two versions, every node that
 * has seen the same writes ends with the same value, whatever order they came
 * in (DESIGN.md invariant 2). Ties on `(wall, counter)` are broken by origin,
 * so two nodes never disagree about which of two writes is newer.
 *
 * {@link HybridClock} stamps local writes. `wall` follows the node's wall clock
 * but never moves backward: if `now()` jumps back (NTP step, VM migration),
 * `wall` stays put and `counter` counts up instead, so successive local writes
 * always get increasing versions. When the counter would pass `0xffff`, `wall`
 * moves one millisecond ahead of real time and the counter restarts at 0.
 * When a version arrives from a peer, {@link HybridClock.observe} lifts the
 * clock to it, so the next local write (say, a delete issued after reading a
 * replicated value) is ordered after everything this node has seen — even if
 * the peer's clock runs a little ahead of ours.
 *
 * Drift guard: a peer whose clock is far ahead (more than `maxDriftMs`) would
 * otherwise drag every node's clock forward with it, for good. Such versions
 * are still applied by the store (LWW stays consistent across nodes), but
 * `observe` ignores them for clock purposes and returns `false` so the caller
 * can count or log it.
 */

/** Largest value of {@link Version.counter}; one more bumps the wall by 1 ms. */
export const MAX_COUNTER = 0xffff

/** The version of one cache write. Compared with {@link compareVersions}. */
export interface Version {
  /** Wall-clock component, whole milliseconds since the epoch. */
  wall: number
  /** Logical counter within one `wall` millisecond, 0..{@link MAX_COUNTER}. */
  counter: number
  /**
   * The write origin: an id of the process start that made the write (not
   * the node id; see replication/write-origin.ts). Breaks ties, and numbers
   * the write's `seq` for anti-entropy.
   */
  origin: string
}

/**
 * Total order on versions: negative if `a` is older than `b`, positive if
 * newer, 0 if equal. Compares `wall`, then `counter`, then `origin` with
 * `<`/`>` (code-unit order, locale-independent, the same on every node).
 * Last writer wins means the greater version wins.
 */
export function compareVersions(a: Version, b: Version): number {
  return compareParts(a.wall, a.counter, a.origin, b.wall, b.counter, b.origin)
}

/** {@link compareVersions} of versions given as their parts (a store that keeps them in columns builds no object). */
export function compareParts(aWall: number, aCounter: number, aOrigin: string, bWall: number, bCounter: number, bOrigin: string): number {
  if (aWall !== bWall) return aWall < bWall ? -1 : 1
  if (aCounter !== bCounter) return aCounter < bCounter ? -1 : 1
  if (aOrigin === bOrigin) return 0
  return aOrigin < bOrigin ? -1 : 1
}

/**
 * Hybrid logical clock: stamps local writes with `(wall, counter)` pairs that
 * increase strictly, follow real time, and come after every version observed
 * from peers (within the drift guard).
 */
export class HybridClock {
  private readonly now: () => number
  private readonly maxDriftMs: number
  /** Largest wall handed out or observed; never decreases. */
  private lastWall = 0
  /** Counter paired with `lastWall`; the last one handed out or observed. */
  private lastCounter = 0

  /**
   * @param now - time source in ms since the epoch (for example `clock.now`);
   *   fractions are dropped.
   * @param maxDriftMs - how far ahead of `now()` an observed wall may be and
   *   still move this clock. Larger tolerates worse-synchronised clocks; a
   *   node far ahead drags every clock with it by up to this much.
   *   @default 60_000
   */
  constructor(now: () => number, maxDriftMs = 60_000) {
    if (!(maxDriftMs >= 0)) throw new RangeError(`maxDriftMs must be >= 0, got ${maxDriftMs}`)
    this.now = now
    this.maxDriftMs = maxDriftMs
  }

  /**
   * A fresh `(wall, counter)` for a local write, greater than every earlier
   * tick and every accepted {@link HybridClock.observe}.
   */
  tick(): { wall: number; counter: number } {
    return this.tickAt(this.now())
  }

  /** {@link tick} with the physical time already read (saves a clock call on the write path). */
  tickAt(nowMs: number): { wall: number; counter: number } {
    const physical = Math.floor(nowMs)
    if (physical > this.lastWall) {
      this.lastWall = physical
      this.lastCounter = 0
    } else if (this.lastCounter < MAX_COUNTER) {
      this.lastCounter++
    } else {
      this.lastWall++
      this.lastCounter = 0
    }
    return { wall: this.lastWall, counter: this.lastCounter }
  }

  /**
   * Takes note of a version received from a peer so the next {@link tick}
   * is greater than it. Returns `false` (and changes nothing) when `wall` is
   * more than `maxDriftMs` ahead of `now()`, or when the pair is not a
   * valid `(wall, counter)`; the store still applies such a version.
   */
  observe(wall: number, counter: number): boolean {
    if (!Number.isSafeInteger(wall) || !Number.isInteger(counter) || counter < 0 || counter > MAX_COUNTER) {
      return false
    }
    if (wall > Math.floor(this.now()) + this.maxDriftMs) return false
    if (wall > this.lastWall) {
      this.lastWall = wall
      this.lastCounter = counter
    } else if (wall === this.lastWall && counter > this.lastCounter) {
      this.lastCounter = counter
    }
    return true
  }

  /**
   * {@link tickAt}, but also above `floor` (the version this node holds for
   * the key being written): a local write must win locally, whatever the
   * other clocks say (DESIGN.md invariant 11). When a peer's clock is far
   * ahead — past the drift guard, so {@link observe} ignored it — its write
   * to the key would otherwise outrank every local write for as long as the
   * skew lasts. Only this one stamp is lifted, not the clock: the far-ahead
   * peer does not drag every later write with it.
   */
  tickAbove(nowMs: number, floor: Version | undefined): { wall: number; counter: number } {
    const t = this.tickAt(nowMs)
    if (floor === undefined || t.wall > floor.wall || (t.wall === floor.wall && t.counter > floor.counter)) return t
    return floor.counter < MAX_COUNTER ? { wall: floor.wall, counter: floor.counter + 1 } : { wall: floor.wall + 1, counter: 0 }
  }

  /** The last `(wall, counter)` handed out or observed (for tests and stats). */
  peek(): { wall: number; counter: number } {
    return { wall: this.lastWall, counter: this.lastCounter }
  }
}
