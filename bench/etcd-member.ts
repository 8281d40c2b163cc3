/**
 * One etcd member on loopback as the benchmarks and tests start it: its command line (client and
 * peer URLs on 127.0.0.1, a data dir, one initial cluster) and the wait for /health. Pure but for
 * the health probe.
 */
import { get as httpGet, type IncomingMessage } from 'node:http'
import { get as httpsGet } from 'node:https'

export const etcdBinary = '/usr/bin/etcd'

export interface EtcdMemberPlan {
  readonly name: string
  readonly clientPort: number
  readonly peerPort: number
  readonly dataDir: string
  /** Serve clients over TLS with this certificate and require client certificates signed by caFile. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile: string }
}

/** etcd's flags for `m` in a new cluster of `all` (same token for every member). */
export function etcdMemberArgs(m: EtcdMemberPlan, all: readonly EtcdMemberPlan[], token: string): string[] {
  const scheme = m.tls ? 'https' : 'http'
  return [
    '--name', m.name, '--data-dir', m.dataDir,
    '--listen-client-urls', `${scheme}://127.0.0.1:${m.clientPort}`, '--advertise-client-urls', `${scheme}://127.0.0.1:${m.clientPort}`,
    ...(m.tls ? ['--cert-file', m.tls.certFile, '--key-file', m.tls.keyFile, '--trusted-ca-file', m.tls.caFile, '--client-cert-auth'] : []),
    '--listen-peer-urls', `http://127.0.0.1:${m.peerPort}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peerPort}`,
    '--initial-cluster', all.map((p) => `${p.name}=http://127.0.0.1:${p.peerPort}`).join(','),
    '--initial-cluster-token', token, '--initial-cluster-state', 'new',
    '--listen-metrics-urls', '', '--log-level', 'error', '--logger', 'zap',
  ]
}

/** Resolves once ENDPOINT/health says {"health":"true"} (a leader, serving); `alive` false stops early. */
export async function waitEtcdHealthy(endpoint: string, alive: () => boolean, timeoutMs = 20_000, tls?: { readonly ca: Buffer; readonly cert: Buffer; readonly key: Buffer }): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (!alive()) throw new Error(`etcd at ${endpoint} exited before it was healthy`)
    if (await healthy(endpoint, tls)) return
    if (Date.now() > deadline) throw new Error(`etcd at ${endpoint} not healthy after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

function healthy(endpoint: string, tls: { readonly ca: Buffer; readonly cert: Buffer; readonly key: Buffer } | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const url = `${tls ? 'https' : 'http'}://${endpoint}/health`
    const onResponse = (res: IncomingMessage): void => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => resolve(res.statusCode === 200 && /"health":\s*"true"/.test(body)))
      res.on('error', () => resolve(false))
    }
    const req = tls ? httpsGet(url, { ca: tls.ca, cert: tls.cert, key: tls.key, timeout: 1_000 }, onResponse) : httpGet(url, { timeout: 1_000 }, onResponse)
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(false))
  })
}
