/**
 * Runs toolbox commands against a test pod: an in-memory container, a resolver over a fixed
 * name table, and a dialer that connects to loopback servers the test starts (port 0) in place
 * of cluster addresses. Collects stdout, stderr and the exit code.
 */
import { connect } from 'node:net'
import { Readable } from 'node:stream'
import {
  DialError, MemoryFilesystem, renderHostsFile, renderResolvConf, runToolbox,
  type PodResolver, type ToolboxContext,
} from '../../../../src/kubelet/index.js'
import { podResolvConf } from '../../../../src/dns/index.js'

export interface Outcome {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export interface Harness {
  readonly ctx: ToolboxContext
  /** cluster address -> loopback port of a test server. */
  readonly routes: Map<string, number>
  /** absolute names -> addresses. */
  readonly names: Map<string, string[]>
  readonly dials: { ip: string; port: number }[]
  run(argv: readonly string[], stdin?: string | Buffer, tty?: boolean): Promise<Outcome & { readonly raw: Buffer }>
}

export function harness(env: Record<string, string> = {}): Harness {
  const routes = new Map<string, number>()
  const names = new Map<string, string[]>()
  const dials: { ip: string; port: number }[] = []
  const files = new MemoryFilesystem(1024 * 1024)
  const resolvConf = podResolvConf('default', 'cluster.local')
  files.write('/etc/resolv.conf', Buffer.from(renderResolvConf(resolvConf)))
  files.write('/etc/hosts', Buffer.from(renderHostsFile({ podIPs: ['10.244.0.2'], hostname: 'client', namespace: 'default', clusterDomain: 'cluster.local' })))
  const resolver: PodResolver = { lookup: async (fqdn) => names.get(fqdn) ?? [] }
  const ctx: ToolboxContext = {
    pod: { namespace: 'default', name: 'client', hostname: 'client', podIPs: ['10.244.0.2'], nodeName: 'node-a', podCIDRPrefix: 24 },
    env: new Map(Object.entries({ PATH: '/bin', HOSTNAME: 'client', ...env })),
    files, resolvConf, resolver,
    dialer: {
      dial: (ip, port) => new Promise((resolve, reject) => {
        dials.push({ ip, port })
        const local = routes.get(`${ip}:${port}`)
        if (local === undefined) return reject(new DialError('refused', `nothing at ${ip}:${port}`))
        const s = connect(local, '127.0.0.1', () => resolve(s))
        s.once('error', (e) => reject(new DialError('refused', e.message)))
      }),
    },
    now: () => Date.now(),
  }
  return {
    ctx, routes, names, dials,
    async run(argv, stdin, tty = false) {
      const out: Buffer[] = []
      const err: Buffer[] = []
      const code = await runToolbox(argv, {
        stdin: stdin === undefined ? undefined : Readable.from([Buffer.from(stdin)]),
        stdout: (d) => out.push(Buffer.from(d)), stderr: (d) => err.push(Buffer.from(d)), signal: new AbortController().signal, tty,
      }, ctx)
      const raw = Buffer.concat(out)
      return { code, stdout: raw.toString(), stderr: Buffer.concat(err).toString(), raw }
    },
  }
}
