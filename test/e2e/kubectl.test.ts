/**
 * End-to-end: the real /usr/bin/kubectl against an in-process kpe apiserver (port 0, temp data
 * dir, temp kubeconfig, temp HOME and --cache-dir; ~/.kube is never touched). Without kubectl
 * the suite fails when CI is set and is skipped with a printed reason otherwise.
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiServer, renderKubeconfig } from '../../src/apiserver/index.js'
import { EtcdStore, openDurableStore, type ObjectStore } from '../../src/store/index.js'
import { startEtcd, type EtcdCluster } from '../helpers/etcd-process.js'

/** KPE_E2E_STORE=etcd runs the same suite on a real etcd (test/e2e/kubectl-etcd.test.ts sets it). */
const onEtcd = process.env['KPE_E2E_STORE'] === 'etcd'
let etcd: EtcdCluster | undefined

const kubectlPath = '/usr/bin/kubectl'
const hasKubectl = existsSync(kubectlPath)
if (!hasKubectl) {
  if (process.env['CI']) throw new Error(`${kubectlPath} is missing, and CI is set: the kubectl end-to-end tests cannot be skipped`)
  console.warn(`skipping kubectl e2e tests: ${kubectlPath} not found (install google-cloud-cli's kubectl)`)
}

let work = ''
let store: ObjectStore
let server: ApiServer
let env: NodeJS.ProcessEnv = {}

interface Run { readonly code: number; readonly stdout: string; readonly stderr: string }

function kubectl(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(kubectlPath, [...args, '--cache-dir', join(work, 'cache')], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

async function ok(...args: string[]): Promise<string> {
  const r = await kubectl(...args)
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}

async function manifest(name: string, text: string): Promise<string> {
  const p = join(work, name)
  await writeFile(p, text)
  return p
}

const deployYaml = (image: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: { app: web }
spec:
  replicas: 2
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
      - name: web
        image: ${image}
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: { app: web }
  ports:
  - name: http
    port: 80
    targetPort: 8080
`

beforeAll(async () => {
  if (!hasKubectl) return
  work = await mkdtemp(join(tmpdir(), 'kpe-kubectl-'))
  if (onEtcd) etcd = await startEtcd(1)
  store = etcd ? await EtcdStore.open({ endpoints: [etcd.endpoints], compactionIntervalMs: 0 }) : await openDurableStore({ dataDir: join(work, 'data') })
  server = await ApiServer.start({ store, port: 0 })
  const kubeconfig = join(work, 'kubeconfig')
  await writeFile(kubeconfig, renderKubeconfig(server.url))
  const { KUBECONFIG: _drop, ...rest } = process.env
  env = { ...rest, KUBECONFIG: kubeconfig, HOME: work }
})

afterAll(async () => {
  if (!hasKubectl) return
  await server.close()
  await store.close()
  await etcd?.stop()
  await rm(work, { recursive: true, force: true })
})

describe.skipIf(!hasKubectl)(`kubectl against kpe${onEtcd ? ' on etcd' : ''}`, () => {
  it('version reports server minor 32', async () => {
    expect(await ok('version')).toMatch(/Server Version: v1\.32\./)
  })

  it('client-side apply creates, reconfigures on change, and leaves unchanged objects alone', async () => {
    const f1 = await manifest('web-v1.yaml', deployYaml('nginx:1.27'))
    expect(await ok('apply', '-f', f1)).toMatch(/deployment.apps\/web created[\s\S]*service\/web created/)
    const f2 = await manifest('web-v2.yaml', deployYaml('nginx:1.28'))
    expect(await ok('apply', '-f', f2)).toMatch(/deployment.apps\/web configured[\s\S]*service\/web unchanged/)
    const d = JSON.parse(await ok('get', 'deploy', 'web', '-o', 'json')) as { spec: { template: { spec: { containers: { image: string }[] } } }; metadata: { generation: number } }
    expect(d.spec.template.spec.containers.map((c) => c.image)).toEqual(['nginx:1.28'])
    expect(d.metadata.generation).toBe(2)
  })

  it('server-side apply creates if absent and re-applies', async () => {
    const f = await manifest('cm-ssa.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: "1"\n')
    expect(await ok('apply', '--server-side', '-f', f)).toMatch(/configmap\/ssa serverside-applied/)
    const f2 = await manifest('cm-ssa2.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: "2"\n')
    expect(await ok('apply', '--server-side', '-f', f2)).toMatch(/serverside-applied/)
    const cm = JSON.parse(await ok('get', 'cm', 'ssa', '-o', 'json', '--show-managed-fields')) as { data: Record<string, string>; metadata: { managedFields: { manager: string; operation: string }[] } }
    expect(cm.data).toEqual({ a: '2' })
    expect(cm.metadata.managedFields).toContainEqual(expect.objectContaining({ manager: 'kubectl', operation: 'Apply' }))
  })

  it('create -f creates, and a second create reports AlreadyExists', async () => {
    const f = await manifest('pod.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: lone\n  labels: { app: lone }\nspec:\n  nodeName: node-a\n  containers:\n  - name: c\n    image: busybox:1.36\n')
    expect(await ok('create', '-f', f)).toMatch(/pod\/lone created/)
    const again = await kubectl('create', '-f', f)
    expect(again.code).not.toBe(0)
    expect(again.stderr).toMatch(/AlreadyExists.*pods "lone" already exists/)
  })

  it('create -f rejects unknown fields (Strict) and invalid objects (422 with field paths)', async () => {
    const unknown = await manifest('bad-field.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndatta:\n  a: "1"\n')
    const r1 = await kubectl('create', '-f', unknown)
    expect(r1.stderr).toMatch(/strict decoding error: unknown field "datta"/)
    const badPort = await manifest('bad-port.yaml', 'apiVersion: v1\nkind: Service\nmetadata:\n  name: badport\nspec:\n  ports:\n  - port: 70000\n')
    const r2 = await kubectl('create', '-f', badPort)
    expect(r2.stderr).toMatch(/is invalid:[\s\S]*spec\.ports\[0\]\.port: Invalid value: 70000/)
    const badLabel = await manifest('bad-label.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: badlabel\n  labels:\n    app: "not valid!"\n')
    const r3 = await kubectl('create', '-f', badLabel)
    expect(r3.code).not.toBe(0)
    expect(r3.stderr).toMatch(/is invalid:[\s\S]*metadata\.labels/)
    expect((await kubectl('get', 'configmap', 'badlabel')).code).not.toBe(0)
  })

  it('replace -f with a stale resourceVersion gets Conflict', async () => {
    const live = JSON.parse(await ok('get', 'cm', 'ssa', '-o', 'json')) as { metadata: { resourceVersion: string } }
    await ok('label', 'cm', 'ssa', 'bump=1')
    const stale = await manifest('stale.json', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa', resourceVersion: live.metadata.resourceVersion }, data: { a: 'x' } }))
    const r = await kubectl('replace', '-f', stale)
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/Conflict.*the object has been modified/)
    const fresh = await manifest('fresh.json', JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa' }, data: { a: 'x' } }))
    expect(await ok('replace', '-f', fresh)).toMatch(/configmap\/ssa replaced/)
  })

  it('get prints tables, wide columns, yaml, json, labels and all namespaces', async () => {
    const svc = await ok('get', 'svc')
    expect(svc.split('\n')[0]).toMatch(/^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/)
    expect(svc).toMatch(/web\s+ClusterIP\s+<none>\s+<none>\s+80\/TCP\s+\d+s/)
    expect((await ok('get', 'svc', '-o', 'wide')).split('\n')[0]).toMatch(/PORT\(S\)\s+AGE\s+SELECTOR$/)
    expect(await ok('get', 'svc', '-o', 'wide')).toMatch(/app=web/)
    expect(await ok('get', 'deploy')).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+0\/2/)
    expect(await ok('get', 'pods', '-o', 'wide')).toMatch(/lone\s+0\/1\s+Pending\s+0\s+\S+\s+<none>\s+node-a/)
    expect(await ok('get', 'svc', 'web', '-o', 'yaml')).toMatch(/kind: Service[\s\S]*targetPort: 8080/)
    expect(JSON.parse(await ok('get', 'svc', '-o', 'json'))).toMatchObject({ kind: 'List', items: [expect.objectContaining({ kind: 'Service' })] })
    expect(await ok('get', 'pods', '--show-labels')).toMatch(/LABELS\nlone\s.*app=lone/)
    expect(await ok('get', 'pods', '-A')).toMatch(/^NAMESPACE\s+NAME[\s\S]*default\s+lone/)
    expect(await ok('get', 'ns')).toMatch(/kube-system\s+Active/)
  })

  it('get -w sees a change', async () => {
    const child = spawn(kubectlPath, ['get', 'cm', 'ssa', '-w', '--cache-dir', join(work, 'cache')], { env })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    try {
      await waitFor(() => /ssa\s+1/.test(out))
      await ok('annotate', 'cm', 'ssa', 'seen=yes')
      const live = store.get({ resource: 'configmaps', namespace: 'default', name: 'ssa' })
      if (!live) throw new Error('ssa vanished')
      await store.update('configmaps', { ...structuredClone(live), data: { a: 'x', b: 'y' } })
      await waitFor(() => /ssa\s+2\s/.test(out))
    } finally {
      child.kill()
    }
  })

  it('describe svc, pod and node', async () => {
    const node = await manifest('node-a.yaml', `apiVersion: v1
kind: Node
metadata:
  name: node-a
  labels: { kubernetes.io/hostname: node-a }
status:
  capacity: { cpu: "4", memory: 8Gi, pods: "110" }
  allocatable: { cpu: "4", memory: 8Gi, pods: "110" }
  conditions:
  - { type: Ready, status: "True", reason: KubeletReady, message: ready }
  addresses:
  - { type: InternalIP, address: 192.168.0.10 }
`)
    await ok('apply', '-f', node)
    expect(await ok('get', 'nodes')).toMatch(/node-a\s+Ready/)
    expect(await ok('describe', 'svc', 'web')).toMatch(/Name:\s+web[\s\S]*Selector:\s+app=web[\s\S]*Port:\s+http\s+80\/TCP/)
    expect(await ok('describe', 'pod', 'lone')).toMatch(/Name:\s+lone[\s\S]*Node:\s+node-a/)
    expect(await ok('describe', 'node', 'node-a')).toMatch(/Name:\s+node-a[\s\S]*default\s+lone/)
  })

  it('label and annotate patch metadata', async () => {
    expect(await ok('label', 'pod', 'lone', 'tier=backend')).toMatch(/pod\/lone labeled/)
    expect(await ok('annotate', 'pod', 'lone', 'note=hello')).toMatch(/pod\/lone annotated/)
    const pod = JSON.parse(await ok('get', 'pod', 'lone', '-o', 'json')) as { metadata: { labels: Record<string, string>; annotations: Record<string, string> } }
    expect(pod.metadata.labels).toMatchObject({ tier: 'backend', app: 'lone' })
    expect(pod.metadata.annotations).toMatchObject({ note: 'hello' })
    expect(await ok('label', 'pod', 'lone', 'tier-')).toMatch(/labeled/)
    expect(await ok('get', 'pod', 'lone', '--show-labels')).not.toMatch(/tier=/)
  })

  it('port-forward without node agents (a bare API server) fails at once on both transports, naming kpe up', async () => {
    await store.create('pods', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'running', namespace: 'default', uid: 'u-running' },
      spec: { nodeName: 'node-a', containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 8080 }] }] }, status: { phase: 'Running', podIP: '10.244.0.9' },
    } as never)
    for (const websockets of ['true', 'false']) {
      const r = await new Promise<Run>((resolve) => {
        execFile(kubectlPath, ['port-forward', 'pod/running', ':8080', '--address', '127.0.0.1', '--cache-dir', join(work, 'cache')],
          { env: { ...env, KUBECTL_PORT_FORWARD_WEBSOCKETS: websockets }, timeout: 30_000 },
          (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }))
      })
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/error upgrading connection: no node agents are attached to this API server: port-forward needs `kpe up`/)
    }
  })

  it('delete removes objects and waits for them to be gone', async () => {
    expect(await ok('delete', 'pod', 'lone')).toMatch(/pod "lone" deleted/)
    expect(await ok('delete', '-f', join(work, 'web-v2.yaml'))).toMatch(/deployment.apps "web" deleted/)
    const r = await kubectl('get', 'pod', 'lone')
    expect(r.stderr).toMatch(/NotFound.*pods "lone" not found/)
  })
})

async function waitFor(cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const start = Date.now()
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 50))
  }
}
