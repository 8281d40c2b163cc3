import { afterEach, describe, expect, it } from 'vitest'
import { ApiServer, listStrategy } from '../../../src/apiserver/index.js'
import { parseTokenFile } from '../../../src/apiserver/token-file.js'
import { apiVersionOf, servedResources, type ResourceInfo } from '../../../src/api/resources.js'
import { openMemoryStore, type VersionedStore } from '../../../src/store/index.js'
import { minimal, podTemplate, selector } from '../../helpers/minimal-objects.js'

let server: ApiServer | undefined
let store: VersionedStore | undefined
afterEach(async () => {
  await server?.close()
  await store?.close()
  server = undefined
  store = undefined
})

async function start(tokens?: string): Promise<string> {
  store = await openMemoryStore()
  server = await ApiServer.start({ store, port: 0, ...(tokens ? { tokens: parseTokenFile(tokens, 'tokens.csv') } : {}) })
  return server.url
}

/** The watch's lines until `count` arrived (or the stream ended), then stops reading it. */
async function firstEvents(res: Response, count: number, done: AbortController): Promise<string[]> {
  const decoder = new TextDecoder()
  let text = ''
  const lines = (): string[] => text.split('\n').filter((l) => l.trim() !== '')
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true })
      if (lines().length >= count) break
    }
  } finally {
    done.abort()
  }
  return lines()
}

async function call(url: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  const contentType = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json'
  const res = await fetch(url, { method, headers: { 'Content-Type': contentType, ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> }
}

// autoscaling/v1 HorizontalPodAutoscaler is a second served version of the v2 objects (same store key): hpa-versions.test.ts covers it.
const storedOnly = servedResources.filter((r) => Object.hasOwn(minimal, r.kind) && !(r.group === '' && r.kind === 'Event') && !(r.group === 'autoscaling' && r.version === 'v1'))

function collection(base: string, r: ResourceInfo): string {
  return `${base}/${r.group === '' ? 'api' : `apis/${r.group}`}/${r.version}${r.namespaced ? '/namespaces/default' : ''}/${r.resource}`
}

describe('the stored-only built-in kinds', () => {
  it('are all covered here', () => {
    expect(storedOnly.map((r) => r.kind).sort()).toEqual(Object.keys(minimal).sort())
  })

  it('are created, read, listed, merge-patched and deleted', async () => {
    expect(storedOnly.length).toBeGreaterThanOrEqual(26)
    const base = await start()
    for (const r of storedOnly) {
      const url = collection(base, r)
      const created = await call(url, 'POST', { apiVersion: apiVersionOf(r), kind: r.kind, metadata: { name: 'x1' }, ...minimal[r.kind] })
      expect(created.status, `${r.kind}: ${JSON.stringify(created.json)}`).toBe(201)
      expect((await call(`${url}/x1`, 'GET')).json).toMatchObject({ kind: r.kind, metadata: { name: 'x1' } })
      const list = await call(url, 'GET')
      expect(list.json).toMatchObject({ kind: `${r.kind}List`, items: [expect.objectContaining({ metadata: expect.objectContaining({ name: 'x1' }) })] })
      const patched = await call(`${url}/x1`, 'PATCH', { metadata: { labels: { patched: 'yes' } } })
      expect(patched.json, r.kind).toMatchObject({ metadata: { labels: { patched: 'yes' } } })
      expect((await call(`${url}/x1`, 'DELETE')).status, r.kind).toBe(200)
    }
  })

  it('are watched: every stored-only kind streams its ADDED, MODIFIED and DELETED events', async () => {
    const base = await start()
    // One watch per kind, all open at once. Each is read until its third event (a fourth or a
    // missing one shows in the comparison), not cut by a short timeoutSeconds: under load the
    // writes of all kinds may take longer than any fixed window.
    await Promise.all(storedOnly.map(async (r) => {
      const url = collection(base, r)
      const rv = ((await call(url, 'GET')).json['metadata'] as { resourceVersion: string }).resourceVersion
      const done = new AbortController()
      const watch = fetch(`${url}?watch=true&resourceVersion=${rv}&timeoutSeconds=60`, { signal: done.signal }).then((res) => firstEvents(res, 3, done))
      await call(url, 'POST', { apiVersion: apiVersionOf(r), kind: r.kind, metadata: { name: 'w1' }, ...minimal[r.kind] })
      await call(`${url}/w1`, 'PATCH', { metadata: { labels: { seen: 'yes' } } })
      await call(`${url}/w1`, 'DELETE')
      // A fourth line, if one arrives with the third, stays in the list and fails the comparison.
      const events = (await watch).map((l) => JSON.parse(l) as { type: string; object: { kind: string } })
      expect(events.map((e) => `${e.type} ${e.object.kind}`), r.kind).toEqual([`ADDED ${r.kind}`, `MODIFIED ${r.kind}`, `DELETED ${r.kind}`])
    }))
  })

  it('refuse wrong JSON types with 400 and the field path, as the structural decoder reads their schema', async () => {
    const base = await start()
    const sts = servedResources.find((r) => r.kind === 'StatefulSet')!
    const bad = await call(collection(base, sts), 'POST', { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'b' }, spec: { ...minimal['StatefulSet']!['spec'] as object, replicas: 'two' } })
    expect(bad.status).toBe(400)
    expect(bad.json['details']).toMatchObject({ causes: [expect.objectContaining({ field: 'spec.replicas' })] })
  })

  it.each([
    ['StatefulSet', { spec: { selector: { matchLabels: { app: 'b' } }, template: podTemplate({ app: 'a' }) } }, 'spec.template.metadata.labels'],
    ['ReplicationController', { spec: { selector: { app: 'b' }, template: podTemplate({ app: 'a' }) } }, 'spec.template.metadata.labels'],
    ['DaemonSet', { spec: { template: podTemplate({ app: 'a' }) } }, 'spec.selector'],
    ['Job', { spec: { template: podTemplate({ app: 'a' }) } }, 'spec.template.spec.restartPolicy'],
    ['CronJob', { spec: { jobTemplate: { spec: { template: podTemplate({}, 'Never') } } } }, 'spec.schedule'],
    ['RoleBinding', { subjects: [] }, 'roleRef'],
    ['ClusterRoleBinding', { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' } }, 'roleRef.kind'],
    ['PodDisruptionBudget', { spec: { minAvailable: 1, maxUnavailable: 1, selector } }, 'spec'],
    ['HorizontalPodAutoscaler', { spec: { scaleTargetRef: { kind: 'Deployment', name: 'w' }, maxReplicas: 0 } }, 'spec.maxReplicas'],
    ['Ingress', { spec: { rules: [{ http: { paths: [{ path: '/', backend: { service: { name: 'w', port: { number: 80 } } } }] } }] } }, 'spec.rules[0].http.paths[0].pathType'],
    ['StorageClass', {}, 'provisioner'],
    ['CertificateSigningRequest', { spec: { request: 'aGk=' } }, 'spec.signerName'],
  ])('refuse an invalid %s with 422 naming %s', async (kind, body, field) => {
    const base = await start()
    const r = servedResources.find((x) => x.kind === kind)!
    const res = await call(collection(base, r), 'POST', { apiVersion: apiVersionOf(r), kind, metadata: { name: 'bad' }, ...body })
    expect(res.status, JSON.stringify(res.json)).toBe(422)
    expect((res.json['details'] as { causes: { field: string }[] }).causes.map((c) => c.field)).toContain(field)
  })

  it('accept RBAC names with colons (path segments) and refuse them for other kinds', async () => {
    const base = await start()
    const cr = servedResources.find((x) => x.kind === 'ClusterRole')!
    expect((await call(collection(base, cr), 'POST', { apiVersion: apiVersionOf(cr), kind: 'ClusterRole', metadata: { name: 'system:demo' }, rules: [] })).status).toBe(201)
    expect((await call(collection(base, cr), 'POST', { apiVersion: apiVersionOf(cr), kind: 'ClusterRole', metadata: { name: 'a/b' }, rules: [] })).status).toBe(422)
    const sa = servedResources.find((x) => x.kind === 'ServiceAccount')!
    expect((await call(collection(base, sa), 'POST', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'system:demo' } })).status).toBe(422)
  })

  it('serve the replicationcontrollers scale subresource with its plain label-map selector', async () => {
    const base = await start()
    const rc = servedResources.find((x) => x.kind === 'ReplicationController')!
    await call(collection(base, rc), 'POST', { apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'r' }, ...minimal['ReplicationController'] })
    expect((await call(`${collection(base, rc)}/r/scale`, 'GET')).json).toMatchObject({ kind: 'Scale', spec: { replicas: 1 }, status: { selector: 'app=a' } })
  })

  it('get kube-apiserver\'s defaults: workload strategies, Job retries, CronJob history, pod template defaults', async () => {
    const base = await start()
    const create = async (kind: string, body: Record<string, unknown>) => {
      const r = servedResources.find((x) => x.kind === kind)!
      const res = await call(collection(base, r), 'POST', { apiVersion: apiVersionOf(r), kind, metadata: { name: 'd' }, ...body })
      expect(res.status, JSON.stringify(res.json)).toBe(201)
      return res.json
    }
    expect(await create('StatefulSet', minimal['StatefulSet']!)).toMatchObject({
      spec: { replicas: 1, podManagementPolicy: 'OrderedReady', revisionHistoryLimit: 10, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
        template: { spec: { restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', containers: [{ imagePullPolicy: 'Always' }] } } },
    })
    expect(await create('DaemonSet', minimal['DaemonSet']!)).toMatchObject({ spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } } } })
    expect(await create('Job', minimal['Job']!)).toMatchObject({ spec: { completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false, template: { spec: { restartPolicy: 'Never', dnsPolicy: 'ClusterFirst' } } } })
    expect(await create('CronJob', minimal['CronJob']!)).toMatchObject({ spec: { concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1, jobTemplate: { spec: { backoffLimit: 6 } } } })
    expect(await create('ReplicationController', { spec: { template: podTemplate({ app: 'a' }) } })).toMatchObject({ spec: { replicas: 1, selector: { app: 'a' } } })
  })

  it('serve the statefulsets scale subresource', async () => {
    const base = await start()
    const sts = servedResources.find((x) => x.kind === 'StatefulSet')!
    await call(collection(base, sts), 'POST', { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 's' }, ...minimal['StatefulSet'] })
    const scale = await call(`${collection(base, sts)}/s/scale`, 'GET')
    expect(scale.json).toMatchObject({ kind: 'Scale', spec: { replicas: 1 }, status: { selector: 'app=a' } })
    await call(`${collection(base, sts)}/s/scale`, 'PATCH', { spec: { replicas: 3 } })
    expect((await call(`${collection(base, sts)}/s`, 'GET')).json).toMatchObject({ spec: { replicas: 3 } })
  })
})

describe('access reviews', () => {
  const ssar = { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'create', resource: 'pods', namespace: 'default' } } }

  it('allow everything for the single identity and are never stored', async () => {
    const base = await start()
    const url = `${base}/apis/authorization.k8s.io/v1/selfsubjectaccessreviews`
    const res = await call(url, 'POST', ssar)
    expect(res).toMatchObject({ status: 201, json: { kind: 'SelfSubjectAccessReview', spec: ssar.spec, status: { allowed: true } } })
    expect((await call(url, 'GET')).status).toBe(405)
    const rules = await call(`${base}/apis/authorization.k8s.io/v1/selfsubjectrulesreviews`, 'POST', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'default' } })
    expect(rules.json).toMatchObject({ status: { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], incomplete: false } })
    expect((await call(url, 'POST', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview' })).status).toBe(422)
    expect((await call(url, 'POST', { ...ssar, spec: { resourceAttributes: { verb: 7 } } })).status).toBe(400)
  })

  it('name the loopback administrator, or the token file user of the bearer token', async () => {
    const body = { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }
    let base = await start()
    expect((await call(`${base}/apis/authentication.k8s.io/v1/selfsubjectreviews`, 'POST', body)).json).toMatchObject({
      status: { userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] } },
    })
    await server?.close()
    await store?.close()
    base = await start('s3cret,alice,u-1,"devs"\n')
    const auth = { Authorization: 'Bearer s3cret' }
    expect((await call(`${base}/apis/authentication.k8s.io/v1/selfsubjectreviews`, 'POST', body, auth)).json).toMatchObject({
      status: { userInfo: { username: 'alice', uid: 'u-1', groups: ['devs', 'system:masters', 'system:authenticated'] } },
    })
    expect((await call(`${base}/apis/authentication.k8s.io/v1/selfsubjectreviews`, 'POST', body)).status).toBe(401)
  })
})

describe('strategic merge list strategies from the descriptor markers', () => {
  it('follow patchStrategy/patchMergeKey of the fields, for every kind with a schema', () => {
    expect(listStrategy('StatefulSet', ['spec', 'template', 'spec', 'containers'])).toEqual({ type: 'merge', key: 'name' })
    expect(listStrategy('CronJob', ['spec', 'jobTemplate', 'spec', 'template', 'spec', 'containers', 'env'])).toEqual({ type: 'merge', key: 'name' })
    expect(listStrategy('DaemonSet', ['status', 'conditions'])).toEqual({ type: 'merge', key: 'type' })
    // Node podCIDRs merge as a set (patchStrategy=merge, no key); CSR conditions are a map list without a patch strategy.
    expect(listStrategy('Node', ['spec', 'podCIDRs'])).toEqual({ type: 'set' })
    expect(listStrategy('CertificateSigningRequest', ['status', 'conditions'])).toEqual({ type: 'replace' })
    expect(listStrategy('RoleBinding', ['subjects'])).toEqual({ type: 'replace' })
    expect(listStrategy('Deployment', ['metadata', 'finalizers'])).toEqual({ type: 'set' })
    expect(listStrategy('Service', ['spec', 'ports'])).toEqual({ type: 'merge', key: 'port' })
  })
})
