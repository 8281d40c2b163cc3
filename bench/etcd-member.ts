/**
 * One etcd member on loopback as the benchmarks and tests start it: its command line (client and
 * peer URLs on 127.0.0.1, a data dir, one initial cluster) and the wait for /health. Pure but for
 * the health probe.
 */

export const etcdBinary = '/usr/bin/etcd'

export interface EtcdMemberPlan {
  readonly name: string
  readonly clientPort: number
  readonly peerPort: number
  readonly dataDir: string
}

/** etcd's flags for `m` in a new cluster of `all` (same token for every member). */
export function etcdMemberArgs(m: EtcdMemberPlan, all: readonly EtcdMemberPlan[], token: string): string[] {
  return [
    '--name', m.name, '--data-dir', m.dataDir,
    '--listen-client-urls', `http://127.0.0.1:${m.clientPort}`, '--advertise-client-urls', `http://127.0.0.1:${m.clientPort}`,
    '--listen-peer-urls', `http://127.0.0.1:${m.peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peerPort}`,
    '--initial-cluster', all.map((p) => `${p.name}=http://127.0.0.1:${p.peerPort}`).join(','),
    '--initial-cluster-token', token, '--initial-cluster-state', 'new',
    '--listen-metrics-urls', '', '--log-level', 'error', '--logger', 'zap',
  ]
}

/** Resolves once http://ENDPOINT/health says {"health":"true"} (a leader, serving); `alive` false stops early. */
export async function waitEtcdHealthy(endpoint: string, alive: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (!alive()) throw new Error(`etcd at ${endpoint} exited before it was healthy`)
    try {
      const res = await fetch(`http://${endpoint}/health`, { signal: AbortSignal.timeout(1_000) })
      if (res.ok && String(((await res.json()) as { health?: unknown }).health) === 'true') return
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`etcd at ${endpoint} not healthy after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
