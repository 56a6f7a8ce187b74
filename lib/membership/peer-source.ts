/**
 * Turning the `peers` option into a {@link PeerSource}: "host:port" entries
 * whose host is an IP literal are used as they are; a host name (such as a
 * Kubernetes headless service, `cache.default.svc:7946`) is resolved, on
 * every read, to all its A and AAAA records through the injected
 * {@link Resolver}, each paired with the entry's port; a function is called
 * as it is. Duplicates are dropped. A name that fails to resolve is skipped
 * while others answer; when every entry fails, the read throws (a join then
 * retries it, a refresh logs it).
 */
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { formatAddress, parseAddress } from '../transport/transport.js'
import type { PeerSource } from './join.js'

/** Resolves a host name to its IP addresses (A and AAAA). */
export type Resolver = (host: string) => Promise<string[]>

/** The default resolver: `dns.lookup(host, { all: true })` (what `net.connect` would use). */
export const systemResolver: Resolver = async (host) => (await lookup(host, { all: true })).map((a) => a.address)

/** The `peers` option: addresses or names, or a function returning them. */
export type PeersOption = readonly string[] | (() => Promise<string[]>)

/** A source reading `peers` afresh each time (see the file comment). */
export function peerSource(peers: PeersOption, resolve: Resolver): PeerSource {
  if (typeof peers === 'function') return async () => [...new Set(await peers())]
  const entries = peers.map((p) => ({ entry: p, ...parseAddress(p) }))
  return async () => {
    const out = new Set<string>()
    const errors: unknown[] = []
    await Promise.all(entries.map(async ({ entry, host, port }) => {
      if (isIP(host) !== 0 || host === '') return void out.add(entry)
      try {
        for (const ip of await resolve(host)) out.add(formatAddress(ip, port))
      } catch (err) {
        errors.push(new Error(`resolving ${host} failed: ${String((err as Error)?.message ?? err)}`, { cause: err }))
      }
    }))
    if (out.size === 0 && errors.length > 0) throw errors[0]
    return [...out]
  }
}

/** Whether any entry of `peers` needs resolving (a name, or a function): then it is refreshed. */
export function needsRefresh(peers: PeersOption): boolean {
  return typeof peers === 'function' || peers.some((p) => isIP(parseAddress(p).host) === 0)
}
