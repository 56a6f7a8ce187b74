/**
 * The `bcache-bench --help` text and the `--preset start` flags
 * (bench-args.ts parses what they describe).
 */
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Flags --preset start stands for (explicit flags win). */
export const START_PRESET: readonly string[] = [
  '--nodes', '5', '--duration', '10', '--rate', '500', '--gossip-nodes', '1,3', '--gossip-interval', '50,200', '--chart', join(tmpdir(), 'bcache-bench.svg')
]

export const USAGE = `usage: bcache-bench [options]

Measures what bcache's gossip tuning costs and buys on this machine. By default
starts an embedded cluster (--nodes child processes on 127.0.0.1, ports picked
by the OS), runs a write/read workload for --duration seconds, and reports per
run: replication lag (set on the writer -> visible on each other node)
p50/p90/p99/max, time until all nodes converge after the load stops, writes/s
achieved, datagrams and bytes sent/received per node per second, bytes
received per node per replicated payload byte (1.0 is the physical floor),
CPU % and RSS per node, and failure-detection time with --kill.
Every tuning flag takes a comma-separated list; every combination is run on a
fresh cluster.

Cluster
  --nodes N               nodes (default 5; with --simulate a list, default 10,100)
  --in-process            run the nodes inside this process instead of child
                          processes (real UDP/TCP on 127.0.0.1; CPU and RSS are
                          then the whole process's)
  --join HOST:PORT        do not start a cluster: run one load generator node and
                          one observer node that join the existing cluster at
                          HOST:PORT (only their own figures are reported)
  --profile NAME          lan | local | wan: base tuning (default lan)
  --kill                  after the load, SIGKILL the last node and time until
                          every survivor marks it dead (not with --join)

Workload
  --duration SECONDS      load time per run (default 10)
  --rate N                writes per second, whole cluster, split evenly over
                          the writers (default 1000)
  --writers N|all         the first N nodes write (default all)
  --read-ratio R:W        reads per write on every node, e.g. 9:1 (default 1:1)
  --keys N                distinct keys per writer (default 10000)
  --distribution D        uniform | zipf (exponent 1) key popularity (default uniform)
  --value-size BYTES      value length (default 100)
  --ttl-share PERCENT     share of sets carrying a TTL (default 0)
  --ttl SECONDS           that TTL (default 60)
  --delete-share PERCENT  share of writes that are deletes (default 0); sets of
                          keys deleted later in the run are not timed
  --seed N                workload seed (default 1; also seeds the loss draws)
  --loss PERCENT          datagram loss, 0..100 (default 0): in the simulator's
                          network, or, on real runs, on every node's sends (the
                          real UDP transport behind a fault stage; TCP anti-
                          entropy is not lossy). Shows what fan-out buys.
  --converge-timeout S    how long to wait for convergence after the load (default 30)

Tuning (each a LIST: 1,2,3)
  --gossip-nodes LIST     gossipNodes: members each gossip tick sends to
  --gossip-interval LIST  gossipIntervalMs: ms between gossip ticks
  --retransmit-mult LIST  retransmitMult: broadcasts are sent mult*ceil(log10(N+1)) times
  --packet-budget LIST    packetBudgetBytes: largest datagram, 64..65000

Simulation
  --simulate              run tools/simulate.ts instead: the real membership
                          engine for --nodes LIST sizes on an in-memory network
                          with virtual time (dissemination rounds, msg/s,
                          false deaths, detection and join times; spread to
                          99 % / 99.99 % beside Serf's epidemic model, bytes per
                          member record); up to 10,000 nodes (~6 min CPU).
                          Re-runs node with --expose-gc and, from 3,000 nodes,
                          a larger --max-old-space-size by itself
  --simulate-replication  what one write costs on 10..1000 real cache nodes in
                          virtual time (own flags: --simulate-replication --help)

Output
  --json                  print the report as JSON on stdout (no table)
  --chart FILE.svg        write an SVG chart: lag p99 against KB/s and CPU per run
                          (with --simulate: spread time against datagrams/s),
                          the best trade-offs and the default marked
  --preset start          the npm start sweep: ${START_PRESET.join(' ')}
  -h, --help              this text

Exit status: 0 on success, 2 on a bad command line, 1 if a run failed,
130 on Ctrl-C (the cluster is stopped first; the runs that finished are
still printed, and written to the chart).`
