/**
 * Real etcd members for tests: Debian's etcd-server on loopback, free ports, a temporary data
 * dir each; waits until healthy, stops by PID and removes the dirs. Also the CI gate: without
 * /usr/bin/etcd the suite fails loudly under CI and skips with a printed reason elsewhere.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freeLoopbackPort } from '../e2e/kpe-up-process.js'
import { requireUserNamespace } from './root.js'

export const etcdPath = '/usr/bin/etcd'
export const etcdctlPath = '/usr/bin/etcdctl'

/** True when the suite may run; under CI a missing etcd is a failing test, never a silent skip. */
export function requireEtcd(suite: string): boolean {
  const missing = [etcdPath, etcdctlPath].filter((p) => !existsSync(p))
  return requireUserNamespace(suite, missing.length > 0 ? `${missing.join(', ')} missing (apt-get install etcd-server etcd-client)` : undefined)
}

export interface EtcdMember {
  readonly name: string
  /** host:port of its client listener. */
  readonly endpoint: string
  readonly dataDir: string
  child: ChildProcess
  /** SIGKILL, as a crash; the data dir stays. */
  kill(): Promise<void>
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[]
  /** Every member's endpoint, comma-separated, as kpe's etcd:// URL takes them. */
  readonly endpoints: string
  readonly url: string
  /** Stops every member still running (SIGTERM, then SIGKILL) and removes the data dirs. */
  stop(): Promise<void>
}

/** Starts `size` members forming one cluster on 127.0.0.1 and waits until every one is healthy. */
export async function startEtcd(size = 1): Promise<EtcdCluster> {
  const token = `kpe-test-${process.pid}-${Date.now()}`
  const plan: { name: string; client: number; peer: number; dataDir: string }[] = []
  for (let i = 0; i < size; i++) {
    plan.push({ name: `m${i}`, client: await freeLoopbackPort(), peer: await freeLoopbackPort(), dataDir: mkdtempSync(join(tmpdir(), 'kpe-etcd-')) })
  }
  const initialCluster = plan.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(',')
  const members: EtcdMember[] = plan.map((m) => {
    const member: EtcdMember = {
      name: m.name, endpoint: `127.0.0.1:${m.client}`, dataDir: m.dataDir,
      child: spawnMember(m, initialCluster, token),
      kill: () => killAndWait(member.child, 'SIGKILL'),
    }
    return member
  })
  const cluster: EtcdCluster = {
    members,
    endpoints: members.map((m) => m.endpoint).join(','),
    url: `etcd://${members.map((m) => m.endpoint).join(',')}`,
    async stop() {
      await Promise.all(members.map((m) => killAndWait(m.child, 'SIGTERM')))
      for (const m of members) rmSync(m.dataDir, { recursive: true, force: true })
    },
  }
  try {
    await Promise.all(members.map((m) => waitHealthy(m)))
  } catch (e) {
    await cluster.stop()
    throw e
  }
  return cluster
}

function spawnMember(m: { name: string; client: number; peer: number; dataDir: string }, initialCluster: string, token: string): ChildProcess {
  const child = spawn(etcdPath, [
    '--name', m.name, '--data-dir', m.dataDir,
    '--listen-client-urls', `http://127.0.0.1:${m.client}`, '--advertise-client-urls', `http://127.0.0.1:${m.client}`,
    '--listen-peer-urls', `http://127.0.0.1:${m.peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${m.peer}`,
    '--initial-cluster', initialCluster, '--initial-cluster-token', token, '--initial-cluster-state', 'new',
    '--listen-metrics-urls', '', '--log-level', 'error', '--logger', 'zap',
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  child.stderr!.setEncoding('utf8')
  let tail = ''
  child.stderr!.on('data', (d: string) => { tail = (tail + d).slice(-2000) })
  child.once('exit', (code, signal) => { if (code !== 0 && signal === null) console.warn(`[etcd ${m.name}] exited ${code}: ${tail}`) })
  return child
}

/** /health answers {"health":"true"} once the member has a leader and serves requests. */
async function waitHealthy(m: EtcdMember, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (m.child.exitCode !== null) throw new Error(`etcd ${m.name} exited (${m.child.exitCode}) before it was healthy`)
    try {
      const res = await fetch(`http://${m.endpoint}/health`, { signal: AbortSignal.timeout(1_000) })
      if (res.ok && String(((await res.json()) as { health?: unknown }).health) === 'true') return
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`etcd ${m.name} at ${m.endpoint} not healthy after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

function killAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill(signal)
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
  return exited.finally(() => clearTimeout(timer))
}
