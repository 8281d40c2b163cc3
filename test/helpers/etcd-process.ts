/**
 * Real etcd members for tests: Debian's etcd-server on loopback, free ports, a temporary data
 * dir each; waits until healthy, stops by PID and removes the dirs. Also the CI gate: without
 * /usr/bin/etcd the suite fails loudly under CI and skips with a printed reason elsewhere.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { etcdBinary, etcdMemberArgs, waitEtcdHealthy, type EtcdMemberPlan } from '../../bench/etcd-member.js'
import { freeLoopbackPort } from '../e2e/kpe-up-process.js'
import { requireUserNamespace } from './root.js'

export const etcdPath = etcdBinary
export const etcdctlPath = '/usr/bin/etcdctl'

/** True when the suite may run; under CI a missing etcd is a failing test, never a silent skip. */
export function requireEtcd(suite: string): boolean {
  const missing = [etcdPath, etcdctlPath].filter((p) => !existsSync(p))
  return requireUserNamespace(suite, missing.length > 0 ? `${missing.join(', ')} missing (apt-get install etcd-server etcd-client)` : undefined)
}

/**
 * One etcd member for a whole test file, when requireEtcd(suite) lets the suite run (else
 * undefined): started before the file's tests, stopped after. `endpoints` is read once it runs.
 */
export function etcdForFile(suite: string): { readonly endpoints: readonly string[] } | undefined {
  if (!requireEtcd(suite)) return undefined
  let etcd: EtcdCluster | undefined
  beforeAll(async () => { etcd = await startEtcd(1) }, 30_000)
  afterAll(async () => { await etcd?.stop() })
  return {
    get endpoints() {
      if (!etcd) throw new Error(`${suite}: etcd has not started`)
      return etcd.endpoints.split(',')
    },
  }
}

export interface EtcdMember {
  readonly name: string
  /** host:port of its client listener. */
  readonly endpoint: string
  readonly dataDir: string
  child: ChildProcess
  /** SIGKILL, as a crash; the data dir stays. */
  kill(): Promise<void>
  /** Starts a killed member again on its data dir and ports; resolves once it is healthy. */
  restart(): Promise<void>
}

/** A client's TLS material for an etcd started with `tls: true`: files (for kpe's flags) and their bytes. */
export interface EtcdClientTls {
  readonly caFile: string
  readonly certFile: string
  readonly keyFile: string
  readonly ca: Buffer
  readonly cert: Buffer
  readonly key: Buffer
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[]
  /** With `tls: true`: etcd serves clients over TLS and requires a client certificate; this is one. */
  readonly tls: EtcdClientTls | undefined
  /** Every member's endpoint, comma-separated, as kpe's etcd:// URL takes them. */
  readonly endpoints: string
  readonly url: string
  /** Stops every member still running (SIGTERM, then SIGKILL) and removes the data dirs. */
  stop(): Promise<void>
}

/** Starts `size` members forming one cluster on 127.0.0.1 and waits until every one is healthy. */
export async function startEtcd(size = 1, opts: { readonly tls?: boolean; /** Where the members' data dirs go; default the temp dir. */ readonly parentDir?: string } = {}): Promise<EtcdCluster> {
  const token = `kpe-test-${process.pid}-${Date.now()}`
  const certDir = opts.tls ? mkdtempSync(join(tmpdir(), 'kpe-etcd-pki-')) : undefined
  const tls = certDir ? makeCertificates(certDir) : undefined
  const plan: EtcdMemberPlan[] = []
  for (let i = 0; i < size; i++) {
    plan.push({
      name: `m${i}`, clientPort: await freeLoopbackPort(), peerPort: await freeLoopbackPort(), dataDir: mkdtempSync(join(opts.parentDir ?? tmpdir(), 'kpe-etcd-')),
      ...(tls && certDir ? { tls: { certFile: join(certDir, 'server.pem'), keyFile: join(certDir, 'server-key.pem'), caFile: tls.caFile } } : {}),
    })
  }
  const members: EtcdMember[] = plan.map((m) => {
    const args = etcdMemberArgs(m, plan, token)
    const member: EtcdMember = {
      name: m.name, endpoint: `127.0.0.1:${m.clientPort}`, dataDir: m.dataDir,
      child: spawnMember(m, args),
      kill: () => killAndWait(member.child, 'SIGKILL'),
      async restart() {
        await killAndWait(member.child, 'SIGKILL')
        member.child = spawnMember(m, args)
        await waitEtcdHealthy(member.endpoint, () => member.child.exitCode === null && member.child.signalCode === null, 20_000, tls)
      },
    }
    return member
  })
  const cluster: EtcdCluster = {
    members, tls,
    endpoints: members.map((m) => m.endpoint).join(','),
    url: `etcd://${members.map((m) => m.endpoint).join(',')}`,
    async stop() {
      await Promise.all(members.map((m) => killAndWait(m.child, 'SIGTERM')))
      for (const m of members) rmSync(m.dataDir, { recursive: true, force: true })
      if (certDir) rmSync(certDir, { recursive: true, force: true })
    },
  }
  try {
    await Promise.all(members.map((m) => waitEtcdHealthy(m.endpoint, () => m.child.exitCode === null && m.child.signalCode === null, 20_000, tls)))
  } catch (e) {
    await cluster.stop()
    throw e
  }
  return cluster
}

function spawnMember(m: EtcdMemberPlan, args: readonly string[]): ChildProcess {
  const child = spawn(etcdPath, [...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  child.stderr!.setEncoding('utf8')
  let tail = ''
  child.stderr!.on('data', (d: string) => { tail = (tail + d).slice(-2000) })
  child.once('exit', (code, signal) => { if (code !== 0 && signal === null) console.warn(`[etcd ${m.name}] exited ${code}: ${tail}`) })
  return child
}

function killAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
  return exited.finally(() => clearTimeout(timer))
}

/** A CA, a serving certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makeCertificates(dir: string): EtcdClientTls {
  const ssl = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' }) }
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=kpe-test-etcd-ca', '-keyout', 'ca-key.pem', '-out', 'ca.pem')
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n')
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n')
  for (const [name, cn] of [['server', '127.0.0.1'], ['client', 'kpe']] as const) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`)
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.pem`)
  }
  const file = (f: string): string => join(dir, f)
  return {
    caFile: file('ca.pem'), certFile: file('client.pem'), keyFile: file('client-key.pem'),
    ca: readFileSync(file('ca.pem')), cert: readFileSync(file('client.pem')), key: readFileSync(file('client-key.pem')),
  }
}
