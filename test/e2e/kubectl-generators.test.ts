/**
 * End-to-end: every `kubectl create <generator>`, `run`, `expose`, `auth can-i`, `auth whoami` and
 * `get all`, run by the real kubectl 1.32 and 1.33 against one `kpe up`, one namespace per
 * version. Each created object is read back as JSON and one field it was built from is checked.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasKubectl, kubectlPath, run, startKpeUp, type KpeUp, type Run } from './kpe-up-process.js'
import { tempDir } from '../helpers/temp-dirs.js'

const kubectl133 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33'
const inCi = process.env['CI'] !== undefined && process.env['CI'] !== ''
if (!existsSync(kubectl133)) {
  if (inCi) throw new Error(`${kubectl133} is missing: CI must run both kubectl versions`)
  console.warn(`kubectl-generators: skipping the 1.33 column, ${kubectl133} is not installed`)
}
const binaries = [
  { version: '1.32', path: kubectlPath },
  ...(existsSync(kubectl133) ? [{ version: '1.33', path: kubectl133 }] : []),
]

let up: KpeUp
let tls: { cert: string; key: string }
beforeAll(async () => {
  if (!hasKubectl) return
  up = await startKpeUp()
  // A throwaway self-signed pair for `create secret tls`; nothing outside the temp dir sees it.
  const dir = tempDir('kpe-tls-')
  tls = { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key') }
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=kpe.test', '-keyout', tls.key, '-out', tls.cert], { stdio: 'ignore' })
}, 60_000)
afterAll(async () => {
  await up?.stop()
})

type Json = Record<string, any>

interface Generator {
  /** Arguments after `kubectl create`; `ns` is the version's namespace, `v` a name suffix for cluster-scoped objects. */
  readonly args: (ns: string, v: string) => string[]
  /** The `kubectl get` target that reads the object back. */
  readonly get: (ns: string, v: string) => string[]
  readonly check: (obj: Json, ns: string, v: string) => void
}

const namespaced = (resource: string, name: string) => (ns: string) => [resource, name, '-n', ns]
const clusterScoped = (resource: string, name: string) => (_ns: string, v: string) => [resource, `${name}-${v}`]

const generators: Record<string, Generator> = {
  'deployment': { args: (ns) => ['deployment', 'web', '--image', 'nginx', '--replicas', '2', '--port', '80', '-n', ns], get: namespaced('deployment', 'web'),
    check: (o) => { expect(o.spec.replicas).toBe(2); expect(o.spec.template.spec.containers[0].ports[0].containerPort).toBe(80) } },
  'service clusterip': { args: (ns) => ['service', 'clusterip', 'api', '--tcp=8080:http', '-n', ns], get: namespaced('service', 'api'),
    check: (o) => { expect(o.spec.type).toBe('ClusterIP'); expect(o.spec.ports[0]).toMatchObject({ port: 8080, targetPort: 'http' }); expect(o.spec.clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/) } },
  'service nodeport': { args: (ns) => ['service', 'nodeport', 'front', '--tcp=80:8080', '-n', ns], get: namespaced('service', 'front'),
    check: (o) => { expect(o.spec.type).toBe('NodePort'); expect(o.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000) } },
  'service loadbalancer': { args: (ns) => ['service', 'loadbalancer', 'edge', '--tcp=443:8443', '-n', ns], get: namespaced('service', 'edge'),
    check: (o) => { expect(o.spec.type).toBe('LoadBalancer'); expect(o.spec.ports[0]).toMatchObject({ port: 443, targetPort: 8443 }) } },
  'service externalname': { args: (ns) => ['service', 'externalname', 'ext', '--external-name', 'db.example.test', '-n', ns], get: namespaced('service', 'ext'),
    check: (o) => { expect(o.spec.type).toBe('ExternalName'); expect(o.spec.externalName).toBe('db.example.test') } },
  'configmap': { args: (ns) => ['configmap', 'settings', '--from-literal=mode=fast', '-n', ns], get: namespaced('configmap', 'settings'),
    check: (o) => expect(o.data).toEqual({ mode: 'fast' }) },
  'secret generic': { args: (ns) => ['secret', 'generic', 'creds', '--from-literal=password=s3cret', '-n', ns], get: namespaced('secret', 'creds'),
    check: (o) => { expect(o.type).toBe('Opaque'); expect(Buffer.from(o.data.password, 'base64').toString()).toBe('s3cret') } },
  'secret tls': { args: (ns) => ['secret', 'tls', 'cert', '--cert', tls.cert, '--key', tls.key, '-n', ns], get: namespaced('secret', 'cert'),
    check: (o) => { expect(o.type).toBe('kubernetes.io/tls'); expect(Buffer.from(o.data['tls.crt'], 'base64').toString()).toContain('BEGIN CERTIFICATE') } },
  'secret docker-registry': { args: (ns) => ['secret', 'docker-registry', 'pull', '--docker-server=registry.test', '--docker-username=u', '--docker-password=p', '-n', ns], get: namespaced('secret', 'pull'),
    check: (o) => { expect(o.type).toBe('kubernetes.io/dockerconfigjson'); expect(JSON.parse(Buffer.from(o.data['.dockerconfigjson'], 'base64').toString()).auths).toHaveProperty('registry.test') } },
  'job': { args: (ns) => ['job', 'once', '--image', 'busybox', '-n', ns, '--', 'true'], get: namespaced('job', 'once'),
    check: (o) => { expect(o.spec.template.spec.containers[0].command).toEqual(['true']); expect(o.spec.template.spec.restartPolicy).toBe('Never') } },
  'cronjob': { args: (ns) => ['cronjob', 'nightly', '--image', 'busybox', '--schedule', '0 3 * * *', '-n', ns], get: namespaced('cronjob', 'nightly'),
    check: (o) => { expect(o.spec.schedule).toBe('0 3 * * *'); expect(o.spec.jobTemplate.spec.template.spec.containers[0].image).toBe('busybox') } },
  'serviceaccount': { args: (ns) => ['serviceaccount', 'robot', '-n', ns], get: namespaced('serviceaccount', 'robot'),
    check: (o, ns) => expect(o.metadata).toMatchObject({ name: 'robot', namespace: ns }) },
  'role': { args: (ns) => ['role', 'reader', '--verb=get,list', '--resource=pods', '-n', ns], get: namespaced('role', 'reader'),
    check: (o) => expect(o.rules[0]).toMatchObject({ verbs: ['get', 'list'], resources: ['pods'] }) },
  'rolebinding': { args: (ns) => ['rolebinding', 'reader', '--role=reader', `--serviceaccount=${ns}:robot`, '-n', ns], get: namespaced('rolebinding', 'reader'),
    check: (o, ns) => { expect(o.roleRef).toMatchObject({ kind: 'Role', name: 'reader' }); expect(o.subjects[0]).toMatchObject({ kind: 'ServiceAccount', name: 'robot', namespace: ns }) } },
  'clusterrole': { args: (_ns, v) => ['clusterrole', `viewer-${v}`, '--verb=get', '--resource=nodes'], get: clusterScoped('clusterrole', 'viewer'),
    check: (o) => expect(o.rules[0]).toMatchObject({ verbs: ['get'], resources: ['nodes'] }) },
  'clusterrolebinding': { args: (_ns, v) => ['clusterrolebinding', `viewer-${v}`, `--clusterrole=viewer-${v}`, '--user=alice'], get: clusterScoped('clusterrolebinding', 'viewer'),
    check: (o, _ns, v) => { expect(o.roleRef).toMatchObject({ kind: 'ClusterRole', name: `viewer-${v}` }); expect(o.subjects[0]).toMatchObject({ kind: 'User', name: 'alice' }) } },
  'poddisruptionbudget': { args: (ns) => ['poddisruptionbudget', 'web', '--selector=app=web', '--min-available=1', '-n', ns], get: namespaced('pdb', 'web'),
    check: (o) => { expect(o.spec.minAvailable).toBe(1); expect(o.spec.selector.matchLabels).toEqual({ app: 'web' }) } },
  'ingress': { args: (ns) => ['ingress', 'web', '--rule=web.localtest.me/=web:80', '--default-backend=web:http', '-n', ns], get: namespaced('ingress', 'web'),
    check: (o) => {
      expect(o.spec.rules[0]).toMatchObject({ host: 'web.localtest.me', http: { paths: [{ path: '/', pathType: 'Exact', backend: { service: { name: 'web', port: { number: 80 } } } }] } })
      // A port by name only: the protobuf body also carries number 0, which means unset.
      expect(o.spec.defaultBackend).toEqual({ service: { name: 'web', port: { name: 'http' } } })
    } },
  'priorityclass': { args: (_ns, v) => ['priorityclass', `urgent-${v}`, '--value=1000', '--description=kpe test'], get: clusterScoped('priorityclass', 'urgent'),
    check: (o) => { expect(o.value).toBe(1000); expect(o.description).toBe('kpe test'); expect(o).not.toHaveProperty('globalDefault') } },
  'quota': { args: (ns) => ['quota', 'small', '--hard=pods=10,requests.cpu=2', '-n', ns], get: namespaced('resourcequota', 'small'),
    check: (o) => expect(o.spec.hard).toEqual({ pods: '10', 'requests.cpu': '2' }) },
}

describe.skipIf(!hasKubectl)('kubectl generators against kpe up', () => {
  describe.each(binaries)('kubectl $version', ({ version, path }) => {
    const v = version.replace('.', '-')
    const ns = `gen-${v}`
    const kubectl = (...args: string[]): Promise<Run> => run(path, ['--kubeconfig', up.kubeconfig, '--cache-dir', join(up.dataDir, `kc-${v}`), ...args])
    const ok = async (...args: string[]): Promise<string> => {
      const r = await kubectl(...args)
      if (r.code !== 0) throw new Error(`kubectl ${version} ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
      return r.stdout
    }
    const getJson = async (target: string[]): Promise<Json> => JSON.parse(await ok('get', ...target, '-o', 'json')) as Json

    it('create namespace', async () => {
      expect(await ok('create', 'namespace', ns)).toContain(`namespace/${ns} created`)
      expect((await getJson(['namespace', ns])).status.phase).toBe('Active')
    })

    it.each(Object.entries(generators))('create %s, then read it back', async (_name, g) => {
      expect(await ok('create', ...g.args(ns, v))).toMatch(/ created\n$/)
      g.check(await getJson(g.get(ns, v)), ns, v)
    })

    it('run, then expose the pod', async () => {
      expect(await ok('run', 'solo', '--image', 'nginx', '--port', '80', '--labels', 'app=solo', '-n', ns)).toContain('pod/solo created')
      expect((await getJson(['pod', 'solo', '-n', ns])).spec.containers[0]).toMatchObject({ image: 'nginx', ports: [{ containerPort: 80 }] })
      expect(await ok('expose', 'pod', 'solo', '--port', '8080', '--target-port', '80', '-n', ns)).toContain('service/solo exposed')
      expect((await getJson(['service', 'solo', '-n', ns])).spec).toMatchObject({ selector: { app: 'solo' }, ports: [{ port: 8080, targetPort: 80 }] })
    })

    it('expose the deployment as a NodePort', async () => {
      expect(await ok('expose', 'deployment', 'web', '--name', 'web-np', '--port', '80', '--type', 'NodePort', '-n', ns)).toContain('service/web-np exposed')
      const svc = await getJson(['service', 'web-np', '-n', ns])
      expect(svc.spec).toMatchObject({ type: 'NodePort', selector: { app: 'web' } })
      expect(svc.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000)
    })

    it('auth can-i create pods says yes, auth whoami names the admin', async () => {
      expect((await ok('auth', 'can-i', 'create', 'pods', '-n', ns)).trim()).toBe('yes')
      expect(await ok('auth', 'whoami')).toMatch(/Username\s+\S+/)
    })

    it('get all lists what the generators made in the namespace', async () => {
      const all = await ok('get', 'all', '-n', ns)
      for (const name of ['pod/solo', 'service/api', 'service/web-np', 'deployment.apps/web', 'job.batch/once', 'cronjob.batch/nightly']) expect(all).toContain(name)
    })
  })
})
