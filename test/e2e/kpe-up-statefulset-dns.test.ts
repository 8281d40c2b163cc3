/**
 * StatefulSet names in cluster DNS, end to end: `kpe up` with the real kubectl applying a
 * StatefulSet `web` behind a headless Service; `dig` on the host DNS port and `nslookup` in the
 * client pod answer web-0.web / web-1.web with the pods' IPs, and a scaled-down replica's name
 * goes away. Only loopback addresses are dialled.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freeLoopbackPort, hasKubectl, run, startKpeUp, type KpeUp } from './kpe-up-process.js'

const hasDig = existsSync('/usr/bin/dig')
if ((!hasDig || !hasKubectl) && process.env['CI']) throw new Error('dig (Debian dnsutils) and kubectl are required in CI')
if (!hasDig || !hasKubectl) console.warn('kpe-up-statefulset-dns: skipped, dig or kubectl is missing')

const client = `apiVersion: v1
kind: Pod
metadata: { name: client, namespace: default }
spec:
  containers: [{ name: shell, image: registry.k8s.io/e2e-test-images/agnhost:2.53, args: [pause] }]
`
const statefulSet = `apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec:
  clusterIP: None
  selector: { app: web }
  ports: [{ name: http, port: 8080 }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: web, namespace: default }
spec:
  serviceName: web
  replicas: 2
  podManagementPolicy: Parallel   # both at once: the test needs names, not ordering
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
      - name: agnhost
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: [netexec, --http-port=8080]
        ports: [{ name: http, containerPort: 8080 }]
`

let up: KpeUp
let dnsPort = 0
let dir = ''

beforeAll(async () => {
  if (!hasDig || !hasKubectl) return
  dir = mkdtempSync(join(tmpdir(), 'kpe-sts-dns-'))
  writeFileSync(join(dir, 'client.yaml'), client)
  writeFileSync(join(dir, 'web.yaml'), statefulSet)
  dnsPort = await freeLoopbackPort(true)
  up = await startKpeUp([join(dir, 'client.yaml')], ['--dns-port', String(dnsPort)])
  const applied = await up.kubectl('apply', '-f', join(dir, 'web.yaml'))
  if (applied.code !== 0) throw new Error(applied.stderr)
  const rolled = await up.kubectl('rollout', 'status', 'statefulset/web', '--timeout=30s')
  if (rolled.code !== 0) throw new Error(rolled.stderr)
}, 60_000)

afterAll(async () => {
  await up?.stop()
  if (up) rmSync(up.dataDir, { recursive: true, force: true })
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const podIP = async (name: string): Promise<string> => (await up.kubectl('get', 'pod', name, '-o', 'jsonpath={.status.podIP}')).stdout
const digShort = async (name: string): Promise<string> => {
  const r = await run('dig', ['@127.0.0.1', '-p', String(dnsPort), '+time=2', '+tries=1', '+short', name], 10_000)
  if (r.code !== 0) throw new Error(`dig ${name}: ${r.code} ${r.stderr}`)
  return r.stdout.trim()
}

describe.skipIf(!hasDig || !hasKubectl)('a StatefulSet\'s pods by name in cluster DNS', () => {
  it('dig on the host DNS port answers web-0.web and web-1.web with the pod IPs', async () => {
    const ips = [await podIP('web-0'), await podIP('web-1')]
    expect(ips.every((ip) => /^10\.244\.\d+\.\d+$/.test(ip))).toBe(true)
    expect(await digShort('web-0.web.default.svc.cluster.local')).toBe(ips[0])
    expect(await digShort('web-1.web.default.svc.cluster.local')).toBe(ips[1])
    expect((await digShort('web.default.svc.cluster.local')).split('\n').sort()).toEqual([...ips].sort())
  })

  it('kubectl exec client -- nslookup web-0.web answers through the pod\'s search path', async () => {
    const ip = await podIP('web-0')
    const r = await up.kubectl('exec', 'client', '--', 'nslookup', 'web-0.web')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('web-0.web.default.svc.cluster.local')
    expect(r.stdout).toMatch(new RegExp(`Address:\\s+${ip.replace(/\./g, '\\.')}\\s*$`, 'm'))
  })

  it('a replica scaled away loses its name (NXDOMAIN), the others keep theirs', async () => {
    expect((await up.kubectl('scale', 'statefulset/web', '--replicas=1')).code).toBe(0)
    let gone = 'x'
    for (let i = 0; i < 60 && gone !== ''; i++) {
      gone = await digShort('web-1.web.default.svc.cluster.local')
      if (gone !== '') await new Promise((r) => setTimeout(r, 250))
    }
    expect(gone).toBe('')
    const r = await run('dig', ['@127.0.0.1', '-p', String(dnsPort), '+time=2', '+tries=1', 'web-1.web.default.svc.cluster.local'], 10_000)
    expect(r.stdout).toContain('status: NXDOMAIN')
    expect(await digShort('web-0.web.default.svc.cluster.local')).toBe(await podIP('web-0'))
  }, 30_000)
})
