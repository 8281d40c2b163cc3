/**
 * The guarantee behind the pod toolbox: without `--allow-exec` no client can make kpe up start
 * a host process. Every child_process entry is spied on (vi.mock) while an in-process cluster
 * answers exec and attach over WebSocket with commands that name real programs, and every pod
 * subresource with every method and a body. With allowExec the same spy sees the spawns, so the
 * check can fail.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { defaultClusterConfig, parseManifestDocuments } from '../../../src/cluster/index.js'
import { startCluster, type RunningCluster } from '../../../src/up/start-cluster.js'

const calls = vi.hoisted(() => [] as string[])
vi.mock('node:child_process', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:child_process')>()
  const spy = <F extends (...args: never[]) => unknown>(name: string, f: F): F => ((...args: Parameters<F>) => { calls.push(`${name} ${String(args[0])}`); return f(...args) }) as F
  return {
    ...real,
    spawn: spy('spawn', real.spawn), spawnSync: spy('spawnSync', real.spawnSync), exec: spy('exec', real.exec), execSync: spy('execSync', real.execSync),
    execFile: spy('execFile', real.execFile), execFileSync: spy('execFileSync', real.execFileSync), fork: spy('fork', real.fork),
  }
})

const manifest = `
apiVersion: v1
kind: Pod
metadata: { name: real, namespace: default }
spec:
  nodeName: node-a
  containers:
  - name: c
    image: busybox
    command: ["sleep", "30"]
    stdin: true
---
apiVersion: v1
kind: Pod
metadata: { name: toolbox, namespace: default }
spec:
  nodeName: node-a
  containers:
  - name: c
    image: busybox
    args: ["sh", "-c", "echo attached"]
    stdin: true
`

let cluster: RunningCluster | undefined
let dir: string | undefined
afterEach(async () => {
  await cluster?.stop()
  if (dir) await rm(dir, { recursive: true, force: true })
  cluster = dir = undefined
})

async function up(allowExec: boolean): Promise<{ base: string }> {
  dir = await mkdtemp(join(tmpdir(), 'kpe-nohost-'))
  cluster = await startCluster({
    dataDir: dir, apiPort: 0, config: defaultClusterConfig(), manifests: parseManifestDocuments(manifest, 'pods.yaml'),
    socksPort: 0, httpProxyPort: 0, metricsPort: 0, nodeLoopbackPrefix: '127.0.0.', ...(allowExec ? { allowExec } : {}),
  })
  for (let i = 0; i < 100; i++) {
    const phases = cluster.controlPlane.store.list('pods').items.map((p) => (p as { status?: { phase?: string } }).status?.phase)
    if (phases.length === 2 && phases.every((p) => p === 'Running')) break
    await new Promise((r) => setTimeout(r, 50))
  }
  return { base: cluster.controlPlane.url }
}

function exec(base: string, path: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}${path}`, 'v5.channel.k8s.io')
    let out = ''
    ws.on('message', (d: Buffer) => { out += d.subarray(1).toString() })
    ws.on('open', () => ws.send(Buffer.from([255, 0])))
    ws.on('close', () => resolve(out))
    ws.on('error', () => resolve(out))
    ws.on('unexpected-response', (_q, res) => { res.resume(); resolve(`HTTP ${res.statusCode}`) })
    setTimeout(() => ws.terminate(), 5_000).unref()
  })
}

const hostCommands = [['/bin/true'], ['node', '-e', '1'], ['python3', '-c', '1'], ['sh', '-c', '/usr/bin/id; exec /bin/sh; bash -c true'], ['sleep', '0'], ['env'], ['tar', 'cf', '-', '/etc']]
const q = (argv: readonly string[]): string => argv.map((w) => `command=${encodeURIComponent(w)}`).join('&')

describe('no host process without --allow-exec', () => {
  it('exec, attach and every pod subresource start none', async () => {
    const { base } = await up(false)
    calls.length = 0
    for (const pod of ['real', 'toolbox']) {
      for (const argv of hostCommands) expect(await exec(base, `/api/v1/namespaces/default/pods/${pod}/exec?${q(argv)}&stdin=true&stdout=true&stderr=true`)).not.toMatch(/^HTTP/)
      await exec(base, `/api/v1/namespaces/default/pods/${pod}/attach?stdin=true&stdout=true&stderr=true`)
    }
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'real' }, spec: { ephemeralContainers: [{ name: 'dbg', image: 'busybox', command: ['/bin/sh', '-c', 'touch /tmp/pwned'] }], containers: [{ name: 'c', command: ['/bin/true'] }] } })
    for (const sub of ['exec', 'attach', 'portforward', 'proxy', 'proxy/x', 'log', 'status', 'eviction', 'binding', 'ephemeralcontainers', 'resize', 'nonsense']) {
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
        const res = await fetch(`${base}/api/v1/namespaces/default/pods/real/${sub}?command=/bin/true&stdout=true`, {
          method, headers: { 'Content-Type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' }, ...(method === 'GET' || method === 'DELETE' ? {} : { body }),
        })
        await res.arrayBuffer()
      }
    }
    expect(calls).toEqual([])
  }, 60_000)

  it('with allowExec the same spy sees the container and the exec started', async () => {
    calls.length = 0
    const { base } = await up(true)
    expect(calls.some((c) => c.startsWith('spawn sleep'))).toBe(true)
    const out = await exec(base, `/api/v1/namespaces/default/pods/real/exec?${q(['sh', '-c', 'echo "$POD_NAMESPACE/$POD_NAME via $ALL_PROXY"'])}&stdout=true&stderr=true`)
    expect(calls.some((c) => c.startsWith('spawn sh'))).toBe(true)
    expect(out).toMatch(/^default\/real via socks5h:\/\/pod\.default\.real@127\.0\.0\.1:\d+\n/)
  }, 60_000)
})
