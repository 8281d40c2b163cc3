/**
 * `kpe up --store etcd://...` end to end: a real etcd on loopback ports, one kpe up on it for the
 * file, the real kubectl doing create/apply/get/list/watch/scale/delete, and etcdctl reading the
 * objects where kube-apiserver keeps them.
 */
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requireEtcd, etcdctlPath, startEtcd, type EtcdCluster } from '../helpers/etcd-process.js'
import { requireUserNamespace } from '../helpers/root.js'
import { hasKubectl, kubectlPath, startKpeUp, type KpeUp } from './kpe-up-process.js'

function etcdctl(endpoints: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(etcdctlPath, ['--endpoints', endpoints, ...args], { env: { ETCDCTL_API: '3', PATH: '/usr/bin:/bin' }, encoding: 'latin1' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`etcdctl ${args.join(' ')}: ${stderr}`))
      else resolve(stdout)
    })
  })
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

if (requireEtcd('kpe up on etcd') && requireUserNamespace('kpe up on etcd', hasKubectl ? undefined : `${kubectlPath} not found`)) {
  describe('kpe up --store etcd://', () => {
    let etcd: EtcdCluster
    let up: KpeUp
    const work = mkdtempSync(join(tmpdir(), 'kpe-up-etcd-'))
    const ok = async (...args: string[]): Promise<string> => {
      const r = await up.kubectl(...args)
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
      return r.stdout
    }
    beforeAll(async () => {
      etcd = await startEtcd(1)
      up = await startKpeUp([], ['--store', etcd.url])
    }, 60_000)
    afterAll(async () => {
      await up?.stop()
      if (up) rmSync(up.dataDir, { recursive: true, force: true })
      await etcd?.stop()
      rmSync(work, { recursive: true, force: true })
    })

    it('etcdctl get --prefix /registry/services/specs/ shows kpe\'s Services, protobuf-encoded with the ClusterIP kubectl shows', async () => {
      expect(up.summary).toContain(`state stays in etcd (${etcd.endpoints}, under /registry).`)
      await ok('create', 'service', 'clusterip', 'web', '--tcp=80:8080')
      const ip = (await ok('get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}')).trim()
      const rv = (await ok('get', 'svc', 'web', '-o', 'jsonpath={.metadata.resourceVersion}')).trim()
      const keys = (await etcdctl(etcd.endpoints, 'get', '--prefix', '--keys-only', '/registry/services/specs/')).split('\n').filter(Boolean)
      expect(keys).toEqual(expect.arrayContaining(['/registry/services/specs/default/kubernetes', '/registry/services/specs/default/web']))
      const value = await etcdctl(etcd.endpoints, 'get', '--print-value-only', '/registry/services/specs/default/web')
      expect(value.startsWith('k8s\u0000')).toBe(true)
      expect(value).toContain(ip)
      const kv = JSON.parse(await etcdctl(etcd.endpoints, 'get', '-w', 'json', '/registry/services/specs/default/web')).kvs[0]
      expect(String(kv.mod_revision)).toBe(rv)
      expect((await etcdctl(etcd.endpoints, 'get', '--prefix', '--keys-only', '/registry/minions/')).split('\n').filter(Boolean).length).toBeGreaterThan(0)
    })

    it('create, scale and delete a Deployment: pods follow, and etcd holds exactly them', async () => {
      await ok('create', 'deployment', 'api', '--image=registry.k8s.io/pause:3.10', '--replicas=2')
      await ok('rollout', 'status', 'deployment/api', '--timeout=30s')
      await ok('scale', 'deployment', 'api', '--replicas=3')
      await ok('rollout', 'status', 'deployment/api', '--timeout=30s')
      const pods = (await ok('get', 'pods', '-l', 'app=api', '-o', 'name')).split('\n').filter(Boolean)
      expect(pods).toHaveLength(3)
      const podKeys = (await etcdctl(etcd.endpoints, 'get', '--prefix', '--keys-only', '/registry/pods/default/')).split('\n').filter((k) => k.startsWith('/registry/pods/default/api-'))
      expect(podKeys.map((k) => `pod/${k.split('/').at(-1)}`).sort()).toEqual([...pods].sort())
      await ok('delete', 'deployment', 'api', '--wait=true', '--timeout=30s')
      expect(await etcdctl(etcd.endpoints, 'get', '--prefix', '--keys-only', '/registry/deployments/default/api')).toBe('')
      // the pods are in their grace period; forced, they leave etcd at once
      await ok('delete', 'pods', '-l', 'app=api', '--grace-period=0', '--force')
      await waitFor('the pods to leave etcd', async () => !(await etcdctl(etcd.endpoints, 'get', '--prefix', '--keys-only', '/registry/pods/default/')).includes('/api-'))
      expect((await ok('get', 'pods', '-l', 'app=api', '-o', 'name')).trim()).toBe('')
    })

    it('apply twice, list by label, and watch a change', async () => {
      const file = join(work, 'cm.yaml')
      const cm = (v: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  labels: { tier: conf }\ndata:\n  mode: "${v}"\n`
      writeFileSync(file, cm('one'))
      expect(await ok('apply', '-f', file)).toMatch(/configmap\/settings created/)
      const watcher = spawn(kubectlPath, ['--kubeconfig', up.kubeconfig, 'get', 'configmaps', 'settings', '-w', '--output-watch-events', '-o', 'jsonpath={.type} {.object.data.mode}{"\\n"}'], { stdio: ['ignore', 'pipe', 'pipe'] })
      let out = ''
      watcher.stdout.setEncoding('utf8')
      watcher.stdout.on('data', (d: string) => { out += d })
      try {
        await waitFor('the watch to list', () => out.includes('ADDED one'))
        writeFileSync(file, cm('two'))
        expect(await ok('apply', '-f', file)).toMatch(/configmap\/settings configured/)
        await waitFor('the watch to see the apply', () => out.includes('MODIFIED two'))
      } finally {
        watcher.kill()
      }
      expect((await ok('get', 'configmaps', '-l', 'tier=conf', '-o', 'name')).trim()).toBe('configmap/settings')
      expect(await etcdctl(etcd.endpoints, 'get', '--print-value-only', '/registry/configmaps/default/settings')).toContain('two')
      await ok('delete', 'configmap', 'settings')
      expect((await up.kubectl('get', 'configmap', 'settings')).stderr).toMatch(/NotFound|not found/)
    })
  })
}
