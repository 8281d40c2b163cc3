/**
 * Attach mode against a running `kpe up`, through its kubeconfig only: what `kpe rules
 * --kubeconfig` computes for a node agrees rule for rule with what that node's kube-proxy loop
 * holds (`kpe rules --live`), kube-proxy's settings come from the kube-proxy ConfigMap kpe up publishes, and
 * `--watch` renders again after a change made with kubectl.
 */
import { spawn } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers/shared.js'
import { hasKubectl, run, startKpeUp, type KpeUp } from './kpe-up-process.js'

const main = join(repoRoot, 'dist/src/cli/main.js')
const kpe = (...args: string[]) => run(process.execPath, [main, ...args])

describe.runIf(hasKubectl)('kpe rules --kubeconfig against kpe up', () => {
  let up: KpeUp
  beforeAll(async () => {
    up = await startKpeUp(['fixtures/demo.yaml'])
  }, 40_000)
  afterAll(async () => {
    await up?.stop()
    if (up) rmSync(up.dataDir, { recursive: true, force: true })
  })

  it('publishes kube-proxy\'s configuration as kubeadm does', async () => {
    const cm = await up.kubectl('get', 'configmap', '-n', 'kube-system', 'kube-proxy', '-o', 'jsonpath={.data.config\\.conf}')
    expect(cm.code, cm.stderr).toBe(0)
    expect(cm.stdout).toMatch(/kind: KubeProxyConfiguration/)
  })

  it('agrees rule for rule with the node\'s live table', async () => {
    await up.kubectl('wait', '--for=condition=Ready', 'pod', '--all', '--timeout=30s')
    const attached = join(up.dataDir, 'attached.dump')
    const live = join(up.dataDir, 'live.dump')
    let diff = ''
    // the proxier syncs shortly after the last change: retry until both sides have settled
    for (const deadline = Date.now() + 45_000; Date.now() < deadline;) {
      const a = await kpe('rules', '--kubeconfig', up.kubeconfig, '--node', 'node-a', '--as-saved')
      const l = await kpe('rules', '--live', '--node', 'node-a', '--data-dir', up.dataDir)
      expect(a.code, a.stderr).toBe(0)
      expect(l.code, l.stderr).toBe(0)
      expect(a.stdout).toContain('default/web:http')
      writeFileSync(attached, a.stdout)
      writeFileSync(live, l.stdout)
      // the live table is the executor's (restore syntax, built-in chains included): compare as rules
      diff = (await kpe('rules', '--diff', '--rules', attached, '--rules2', live)).stdout
      if (diff === 'no changes\n') break
      await new Promise((r) => setTimeout(r, 500))
    }
    expect(diff).toBe('no changes\n')
  }, 90_000)

  it('kpe trace --kubeconfig resolves pods and Services by name, with the cluster\'s own addresses', async () => {
    const ips = await up.kubectl('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.podIP}')
    expect(ips.code, ips.stderr).toBe(0)
    const t = await kpe('trace', '--kubeconfig', up.kubeconfig, '--from', 'pod/client', '--to', 'svc/web', '-o', 'json')
    expect(t.code, t.stderr).toBe(0)
    const output = (JSON.parse(t.stdout) as { output: string }).output
    for (const ip of ips.stdout.split(' ')) expect(output).toContain(`${ip}:`)
  }, 30_000)

  it('--watch renders again after kubectl changes a Service', async () => {
    const child = spawn(process.execPath, [main, 'rules', '--kubeconfig', up.kubeconfig, '--node', 'node-a', '--watch'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
    const renders = (): number => out.split('\n').filter((l) => l.startsWith('# kpe: ')).length
    const until = async (ok: () => boolean): Promise<void> => {
      for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 100))
    }
    try {
      await until(() => renders() >= 1)
      expect(renders()).toBe(1)
      expect(out).not.toContain('default/attach-watch')
      const created = await up.kubectl('create', 'service', 'clusterip', 'attach-watch', '--tcp=8080:8080')
      expect(created.code, created.stderr).toBe(0)
      await until(() => out.includes('default/attach-watch'))
      expect(out).toContain('"default/attach-watch:8080-8080 has no endpoints"')
      expect(renders()).toBeGreaterThanOrEqual(2)
    } finally {
      child.kill('SIGINT')
      await up.kubectl('delete', 'service', 'attach-watch')
    }
  }, 30_000)
})
