/**
 * Issue 12 (every built-in kind, real OpenAPI, access reviews) against the real `kpe up` CLI and
 * the real kubectl 1.32 and 1.33: a 47-object application bundle applies and becomes Ready,
 * `get all`, `explain`, strict validation, `apply --prune`, the create generators, and the review
 * kinds. Only loopback addresses are dialled; the data dir is removed after.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers/shared.js'
import { hasKubectl, kpeUpForFile, run } from './kpe-up-process.js'

const kubectl133 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33'
const file = kpeUpForFile()
const ok = file.ok

/** kubectl 1.33, called directly (the /usr/bin/kubectl dispatcher picks 1.32). */
function kubectlNext(...args: string[]) {
  return run(kubectl133, ['--kubeconfig', file.up.kubeconfig, '--cache-dir', join(file.up.dataDir, 'kubectl-cache-133'), ...args])
}

function manifest(name: string, text: string): string {
  const p = join(file.up.dataDir, name)
  writeFileSync(p, text)
  return p
}

describe.skipIf(!hasKubectl)('every built-in kind through kubectl and kpe up', () => {
  it('applies the microservices demo bundle with plain kubectl apply, and every Deployment becomes Ready', async () => {
    const out = await ok('apply', '-f', join(repoRoot, 'fixtures/microservices-demo.yaml'))
    expect(out.trim().split('\n')).toHaveLength(47)
    expect(out).not.toMatch(/error/i)
    await ok('wait', '-n', 'shop', '--for=condition=Available', 'deployment', '--all', '--timeout=90s')
    const deployments = JSON.parse(await ok('get', 'deploy', '-n', 'shop', '-o', 'json')) as { items: { spec: { replicas: number }; status: { readyReplicas?: number } }[] }
    expect(deployments.items).toHaveLength(10)
    for (const d of deployments.items) expect(d.status.readyReplicas).toBe(d.spec.replicas)
  }, 120_000)

  it('lists the `all` category kinds with `get all`, and prints each kind with its own columns', async () => {
    const all = await ok('get', 'all', '-n', 'shop')
    for (const kind of ['pod/', 'service/', 'deployment.apps/', 'replicaset.apps/', 'statefulset.apps/cart-store', 'cronjob.batch/catalog-refresh', 'horizontalpodautoscaler.autoscaling/storefront']) {
      expect(all, kind).toContain(kind)
    }
    for (const kind of ['serviceaccount/', 'configmap/', 'ingress', 'poddisruptionbudget']) expect(all, kind).not.toContain(kind)
    expect((await ok('get', 'sts', '-n', 'shop')).split('\n')[0]).toMatch(/^NAME\s+READY\s+AGE$/)
    expect((await ok('get', 'cronjobs', '-n', 'shop')).split('\n')[0]).toMatch(/^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE$/)
    expect((await ok('get', 'hpa', '-n', 'shop')).split('\n')[1]).toMatch(/^storefront\s+Deployment\/storefront\s+cpu: <unknown>\/70%\s+2\s+6\s+/)
    expect((await ok('get', 'ing', '-n', 'shop')).split('\n')[1]).toMatch(/^storefront\s+shop-edge\s+shop\.localtest\.me\s+80\s+/)
    expect((await ok('get', 'pdb', '-n', 'shop')).split('\n')[0]).toMatch(/^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE$/)
    expect(await ok('get', 'sa', '-n', 'shop', '-o', 'name')).toContain('serviceaccount/default')
  }, 60_000)

  it.each([['1.32'], ['1.33']])('explains nested fields with their types (kubectl %s)', async (version) => {
    const explain = (...args: string[]) => (version === '1.32' ? file.up.kubectl(...args) : kubectlNext(...args))
    const containers = await explain('explain', 'deployment.spec.template.spec.containers')
    expect(containers.code, containers.stderr).toBe(0)
    expect(containers.stdout).toMatch(/FIELD: containers <\[\]Container>/)
    expect(containers.stdout).toMatch(/\n {2}image\t<string>/)
    expect(containers.stdout).toMatch(/\n {2}ports\t<\[\]ContainerPort>/)
    const cron = await explain('explain', 'cronjob.spec.jobTemplate.spec.template.spec.restartPolicy')
    expect(cron.stdout).toMatch(/FIELD: restartPolicy <string>/)
    const spec = await explain('explain', 'deployment.spec')
    expect(spec.stdout).toMatch(/\n {2}selector\t<LabelSelector> -required-/)
    expect(spec.stdout).toMatch(/\n {2}replicas\t<integer>\n/)
    const rb = await explain('explain', 'rolebinding.roleRef')
    expect(rb.code, rb.stderr).toBe(0)
  }, 60_000)

  it('refuses an unknown field with --validate=strict, naming its path', async () => {
    const f = manifest('strict.yaml', 'apiVersion: batch/v1\nkind: Job\nmetadata: {name: strict}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: busybox, imagePullPolicyy: Always}]\n')
    const r = await file.up.kubectl('apply', '--validate=strict', '-f', f)
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('unknown field "spec.template.spec.containers[0].imagePullPolicyy"')
  })

  it('maps every kind for apply --prune -l and prunes the labelled objects left out', async () => {
    const objects = (withAll: boolean) => [
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep, labels: {bundle: prune-demo}}\ndata: {a: "1"}',
      ...(withAll ? [
        'apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly, labels: {bundle: prune-demo}}\nspec:\n  schedule: "0 1 * * *"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers: [{name: c, image: busybox}]',
        'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: edge, labels: {bundle: prune-demo}}\nspec:\n  defaultBackend:\n    service: {name: keep, port: {number: 80}}',
        'apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, labels: {bundle: prune-demo}}\nspec:\n  selector: {matchLabels: {app: agent}}\n  template:\n    metadata: {labels: {app: agent}}\n    spec:\n      containers: [{name: c, image: busybox}]',
      ] : []),
    ].join('\n---\n')
    await ok('apply', '-f', manifest('prune-1.yaml', objects(true)))
    const r = await file.up.kubectl('apply', '--prune', '-l', 'bundle=prune-demo', '-f', manifest('prune-2.yaml', objects(false)))
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('cronjob.batch/nightly pruned')
    expect(r.stdout).toContain('ingress.networking.k8s.io/edge pruned')
    expect(r.stdout).toContain('daemonset.apps/agent pruned')
    expect(r.stdout).toContain('configmap/keep unchanged')
  }, 60_000)

  it('accepts what the create generators build (serviceaccount, role, bindings, pdb, ingress, priorityclass, quota, cronjob, job)', async () => {
    // The generators' own POSTs are protobuf (branch `protobuf`); here their output goes in as YAML.
    const generators = [
      ['serviceaccount', 'gen-sa'],
      ['role', 'gen-role', '--verb=get,list', '--resource=pods'],
      ['rolebinding', 'gen-rb', '--role=gen-role', '--serviceaccount=default:gen-sa'],
      ['clusterrole', 'gen-cr', '--verb=get', '--resource=nodes'],
      ['clusterrolebinding', 'gen-crb', '--clusterrole=gen-cr', '--user=alice'],
      ['poddisruptionbudget', 'gen-pdb', '--selector=app=web', '--min-available=1'],
      ['ingress', 'gen-ing', '--rule=demo.localtest.me/*=web:80'],
      ['priorityclass', 'gen-pc', '--value=1000'],
      ['quota', 'gen-quota', '--hard=pods=5'],
      ['cronjob', 'gen-cj', '--image=busybox', '--schedule=*/5 * * * *'],
      ['job', 'gen-job', '--image=busybox'],
    ]
    for (const [what, name, ...flags] of generators) {
      const yaml = await ok('create', what!, name!, ...flags, '--dry-run=client', '-o', 'yaml')
      const applied = await file.up.kubectl('apply', '-f', manifest(`${name}.yaml`, yaml))
      expect(applied.code, `${what}: ${applied.stderr}`).toBe(0)
      expect(applied.stdout).toContain(`/${name} created`)
    }
    expect(await ok('get', 'clusterrolebinding', 'gen-crb', '-o', 'wide')).toMatch(/gen-crb\s+ClusterRole\/gen-cr\s+\S+\s+alice/)
  }, 90_000)

  it('answers access reviews for the single administrator', async () => {
    // `kubectl auth can-i` and `auth whoami` post protobuf (branch `protobuf`); the same reviews as JSON:
    const post = async (path: string, body: unknown) => JSON.parse(await ok('create', '--raw', path, '-f', manifest('review.json', JSON.stringify(body)))) as { status: Record<string, unknown> }
    const review = await post('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb: 'create', resource: 'pods', namespace: 'shop' } } })
    expect(review.status['allowed']).toBe(true)
    const rules = await post('/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'shop' } })
    expect(rules.status['resourceRules']).toEqual([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }])
    const who = await post('/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' })
    expect(who.status['userInfo']).toEqual({ username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] })
  })

  it('validates a List client-side with the protobuf OpenAPI v2 document, as kubectl does for Lists', async () => {
    const list = (data: string) => `apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: listed}\n  ${data}: {a: "1"}\n`
    const bad = await file.up.kubectl('apply', '-f', manifest('list-bad.yaml', list('datta')))
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toContain('unknown field "datta" in io.k8s.api.core.v1.ConfigMap')
    expect(await ok('apply', '-f', manifest('list-good.yaml', list('data')))).toContain('configmap/listed created')
  })
})
