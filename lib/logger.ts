/** Minimal logger seam; compatible with `console` and pino-like loggers. */
export interface Logger {
  debug(msg: string, ...args: unknown[]): void
  info(msg: string, ...args: unknown[]): void
  warn(msg: string, ...args: unknown[]): void
  error(msg: string, ...args: unknown[]): void
}

const noop = (): void => {}

/** Discards everything; the default. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop }
