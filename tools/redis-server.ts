/**
 * A throwaway Redis for the benchmarks that compare against it: Debian's
 * `redis-server` on 127.0.0.1 (a free port found by binding port 0 and
 * closing it; `--save '' --appendonly no`, so nothing touches the disk),
 * talked to with ioredis, for benchmarks/redis-compare.ts and
 * partition-reads.ts. The server is killed by
 * {@link stopRedis}, and at process exit.
 */
import { spawn } from 'node:child_process'
import { connect, createServer } from 'node:net'
import { Redis } from 'ioredis'
import { ChildRegistry } from './child-registry.js'
import { pollUntil } from './wait.js'

const servers = new ChildRegistry()
process.on('exit', () => servers.killSync())

/** A port that was free a moment ago (redis refuses port 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1')
    sock.once('connect', () => { sock.destroy(); resolve(true) })
    sock.once('error', () => resolve(false))
  })
}

/** Starts redis-server on 127.0.0.1 and connects; undefined when it is not installed. */
export async function startRedis(): Promise<Redis | undefined> {
  const port = await freePort()
  const child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  const missing = await new Promise<boolean>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ENOENT'))
    child.once('spawn', () => resolve(false))
  })
  if (missing) return undefined
  servers.track(child)
  await pollUntil(() => accepts(port), 10_000, () => `redis-server on port ${port} not up within 10 s`, 50)
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 })
  await client.connect()
  return client
}

/** Kills every redis-server started here and waits for them to exit. */
export function stopRedis(): Promise<void> {
  return servers.killAll()
}
