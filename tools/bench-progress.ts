/**
 * bcache-bench's progress on stderr. On a terminal (stdout and stderr both
 * TTYs) one status line is redrawn in place with a carriage return; anywhere
 * else (piped, redirected, under CI or a test) it writes plain lines, one
 * per phase change, so a log never fills with `\r` redraws.
 */

/** Where progress goes: `process.stderr`, or a test's stand-in. */
export interface ProgressStream {
  write(s: string): unknown
}

export interface Progress {
  /** The current status, e.g. `[run 1/4 nodes=1] load 2.5/10 s`. */
  update(s: string): void
  /** Clears the redrawn line (before other output). */
  done(): void
}

/** The phase of a status line: the text without its running counters. */
export const phaseOf = (s: string): string => s.replace(/[\d.]+(\/[\d.]+)? s\b.*$/, '').replace(/\d+\/\d+ noticed$/, '')

/**
 * A progress writer to `out`; `redraw` (default: stdout and stderr are both
 * terminals) picks the one-line redraw, otherwise plain lines.
 */
export function progressWriter(out: ProgressStream = process.stderr,
  redraw: boolean = process.stdout.isTTY === true && process.stderr.isTTY === true): Progress {
  let last = ''
  let lastPhase = ''
  return {
    update(s) {
      if (redraw) {
        out.write(`\r\x1b[2K${s}`)
        last = s
        return
      }
      const phase = phaseOf(s)
      if (phase !== lastPhase) out.write(`${s}\n`)
      lastPhase = phase
    },
    done() {
      if (redraw && last !== '') out.write('\r\x1b[2K')
      last = ''
    }
  }
}
