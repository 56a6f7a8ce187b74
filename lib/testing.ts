/**
 * `bcache/testing`: what your own tests need to run bcache nodes (or bare
 * membership engines) deterministically: an in-memory network that can drop,
 * delay, reorder and partition, a transport wrapper that injects faults on
 * real sockets, a manual clock and seeded randomness. Pass them as
 * components: `Bcache.create(opts, { transport: net.bind(), clock, random })`.
 */
export { MemoryNetwork, MemoryTransport, type MemoryTransportInit, type MemoryNetworkStats, type LinkConditions, type FaultModel } from './transport/memory-network.js'
export { FaultTransport, type PacketFaults, type FaultStats, type FaultTransportComponents } from './transport/fault-transport.js'
export { UdpTcpTransport } from './transport/udp-tcp-transport.js'
export type { Transport, StreamConn, TransportStats } from './transport/transport.js'
export { ManualClock, systemClock, type Clock, type Timer } from './clock.js'
export { seededRandom, type Random } from './random.js'
