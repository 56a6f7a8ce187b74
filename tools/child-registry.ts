/**
 * Tracks the child processes a tool started, so every one of them can be
 * killed on exit, on error and on Ctrl-C (no process left behind).
 */
import type { ChildProcess } from 'node:child_process'

export class ChildRegistry {
  private readonly live = new Set<ChildProcess>()

  /** Tracks `child` until it exits. */
  track(child: ChildProcess): void {
    this.live.add(child)
    child.once('exit', () => this.live.delete(child))
  }

  /** Children still running. */
  get size(): number {
    return this.live.size
  }

  /** SIGKILLs now, without waiting (for process 'exit' handlers). */
  killSync(): void {
    for (const c of this.live) c.kill('SIGKILL')
  }

  /** SIGKILLs every child still running and waits for them to exit. */
  async killAll(): Promise<void> {
    const waits: Promise<unknown>[] = []
    for (const c of this.live) {
      waits.push(new Promise((r) => c.once('exit', r)))
      c.kill('SIGKILL')
    }
    await Promise.all(waits)
  }
}
