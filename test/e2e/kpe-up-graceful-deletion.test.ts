/**
 * Graceful deletion against the real `kpe up` with the real kubectl: deleting a Deployment
 * leaves its Pods Terminating for their grace period, their endpoints serving+terminating, the
 * node rules still jumping to them (kube-proxy's terminating-endpoint fallback) and NodePort
 * traffic still answered; then the Service REJECTs. A deleted namespace is Terminating with its
 * conditions, refuses new content, and goes once its Pods are gone; --cascade=foreground keeps
 * the Deployment (foregroundDeletion) until its Pods are gone. Only loopback addresses are dialled.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { curl, hasKubectl, kpeUpForFile } from './kpe-up-process.js'

const grace = 6
const deployment = (name: string, namespace: string, nodePort?: number): string => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  replicas: 2
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      terminationGracePeriodSeconds: ${grace}
      containers:
      - name: agnhost
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: ["netexec", "--http-port=8080"]
        ports: [{ name: http, containerPort: 8080 }]
        readinessProbe: { httpGet: { path: /hostname, port: http }, periodSeconds: 1 }
${nodePort === undefined ? '' : `---
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  type: NodePort
  selector: { app: ${name} }
  ports: [{ name: http, port: 80, targetPort: http, nodePort: ${nodePort} }]
`}`

const k = kpeUpForFile()
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function until(what: string, cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(200)
  }
}

function agentsUrl(): string {
  const m = /curl (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(k.up.summary)
  if (!m) throw new Error(`no agents URL in the summary: ${k.up.summary}`)
  return m[1]!
}

async function apply(name: string, yaml: string): Promise<void> {
  const file = join(k.up.dataDir, `${name}.yaml`)
  writeFileSync(file, yaml)
  await k.ok('apply', '-f', file)
}

describe.skipIf(!hasKubectl)('graceful deletion through kpe up', () => {
  it('a deleted Deployment\'s Pods terminate for their grace period while the fallback keeps traffic flowing', async () => {
    const nodePort = 30093
    const url = `http://${k.up.prefix}1:${nodePort}/hostname`
    await apply('grace', deployment('grace', 'default', nodePort))
    await k.ok('rollout', 'status', 'deploy/grace', '--timeout=60s')
    await until('NodePort traffic', async () => (await curl([url])).code === 0)
    const pods = (await k.ok('get', 'pods', '-l', 'app=grace', '-o', 'jsonpath={.items[*].metadata.name}')).split(' ')
    expect(pods).toHaveLength(2)

    const deletedAt = Date.now()
    await k.ok('delete', 'deployment', 'grace', '--wait=false')
    await until('pods terminating', async () => (await k.ok('get', 'pods', '-l', 'app=grace')).split('\n').filter((l) => l.includes('Terminating')).length === 2)
    const slices = JSON.parse(await k.ok('get', 'endpointslices', '-l', 'kubernetes.io/service-name=grace', '-o', 'json')) as { items: { endpoints?: { conditions: unknown }[] }[] }
    expect(slices.items.flatMap((s) => s.endpoints ?? []).map((e) => e.conditions)).toEqual([
      { ready: false, serving: true, terminating: true }, { ready: false, serving: true, terminating: true },
    ])
    // every node's rules still send the Service to the terminating endpoints: no "has no endpoints" REJECT
    await until('fallback rules', async () => {
      const rules = await curl([`${agentsUrl()}/rules/node-a`])
      return (rules.stdout.match(/-A KUBE-SVC-\S+ .*default\/grace:http.* -j KUBE-SEP-/g) ?? []).length === 2 && !rules.stdout.includes('default/grace:http has no endpoints')
    })
    const answers = await Promise.all([0, 1, 2, 3, 4, 5].map(() => curl([url])))
    expect(answers.map((a) => a.code)).toEqual([0, 0, 0, 0, 0, 0])
    expect(answers.every((a) => pods.includes(a.stdout.trim()))).toBe(true)

    await until('pods gone', async () => (await k.ok('get', 'pods', '-l', 'app=grace', '-o', 'name')).trim() === '', 30_000)
    const elapsed = (Date.now() - deletedAt) / 1000
    console.log(`Deployment pods terminated ${elapsed.toFixed(1)} s after the delete (grace ${grace} s)`)
    expect(elapsed).toBeGreaterThanOrEqual(grace - 1)
    await until('REJECT once the endpoints are gone', async () => (await curl([`${agentsUrl()}/rules/node-a`])).stdout.includes('default/grace:http has no endpoints'))
    expect((await curl([url])).code).not.toBe(0)
    await k.ok('delete', 'service', 'grace')
  }, 90_000)

  it('a deleted namespace is Terminating with its conditions until its Pods are gone; foreground keeps the owner', async () => {
    await k.ok('create', 'namespace', 'scratch')
    await apply('scratch', deployment('doomed', 'scratch'))
    await apply('fg', deployment('fg', 'default'))
    await Promise.all([k.ok('rollout', 'status', 'deploy/doomed', '-n', 'scratch', '--timeout=60s'), k.ok('rollout', 'status', 'deploy/fg', '--timeout=60s')])

    await k.ok('delete', 'namespace', 'scratch', '--wait=false')
    await k.ok('delete', 'deployment', 'fg', '--cascade=foreground', '--wait=false')
    expect(await k.ok('get', 'namespace', 'scratch', '-o', 'jsonpath={.status.phase}')).toBe('Terminating')
    expect(await k.ok('get', 'namespace', 'scratch')).toMatch(/scratch\s+Terminating/)
    await until('namespace conditions', async () => (await k.ok('get', 'namespace', 'scratch', '-o', 'jsonpath={.status.conditions[?(@.type=="NamespaceContentRemaining")].message}')).includes('pods has 2 resource instances'))
    const refused = await k.up.kubectl('create', 'configmap', 'late', '-n', 'scratch')
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain('unable to create new content in namespace scratch because it is being terminated')

    const fg = JSON.parse(await k.ok('get', 'deployment', 'fg', '-o', 'json')) as { metadata: { finalizers?: string[]; deletionTimestamp?: string } }
    expect(fg.metadata.finalizers).toEqual(['foregroundDeletion'])
    expect(fg.metadata.deletionTimestamp).toEqual(expect.any(String))

    await until('namespace gone', async () => (await k.up.kubectl('get', 'namespace', 'scratch')).stderr.includes('NotFound'), 30_000)
    await until('foreground owner gone', async () => (await k.up.kubectl('get', 'deployment', 'fg')).stderr.includes('NotFound'), 30_000)
    expect((await k.ok('get', 'pods', '-l', 'app=fg', '-o', 'name')).trim()).toBe('')
  }, 90_000)
})
