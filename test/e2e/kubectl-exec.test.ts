/**
 * End-to-end: kubectl 1.32 and 1.33 exec, attach, cp and run -i against one `kpe up` of the demo
 * cluster, over WebSocket (their default) and SPDY (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false), a
 * terminal under script(1), the toolbox's curl leaving as the client pod (spread over the web
 * pods, listed by `kpe connections`), and the Python client's kubernetes.stream exec.
 */
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers/shared.js'
import { hasKubectl, kubectlPath, livePods, run, startKpeUp, type KpeUp, type Run } from './kpe-up-process.js'

const kubectl133 = '/usr/lib/google-cloud-sdk/bin/kubectl.1.33'
const kubectls = [['1.32', kubectlPath], ['1.33', kubectl133]].filter(([, p]) => existsSync(p!)) as [string, string][]
const hasScript = existsSync('/usr/bin/script')
for (const [what, ok] of [['kubectl 1.32 and 1.33', hasKubectl && kubectls.length === 2], ['script (util-linux)', hasScript]] as const) {
  if (!ok && process.env['CI']) throw new Error(`${what} missing and CI is set`)
  if (!ok) console.warn(`kubectl exec e2e: ${what} missing; those tests are skipped`)
}

let up: KpeUp | undefined
let tmp = ''
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'kpe-exec-e2e-'))
  if (hasKubectl) up = await startKpeUp(['fixtures/demo.yaml'])
}, 60_000)
afterAll(async () => {
  await up?.stop()
  if (up) rmSync(up.dataDir, { recursive: true, force: true })
  rmSync(tmp, { recursive: true, force: true })
})

/** kubectl with stdin and extra environment (run() in kpe-up-process has neither). */
function kubectl(bin: string, args: readonly string[], o: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<Run> {
  const argv = ['--kubeconfig', up!.kubeconfig, '--cache-dir', join(up!.dataDir, `cache-${bin.endsWith('1.33') ? '133' : '132'}`), ...args]
  return new Promise((resolve) => {
    const child = spawn(bin, argv, { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 30_000)
    child.on('close', (code) => { clearTimeout(timer); resolve({ code: code ?? 1, stdout, stderr }) })
    child.stdin.end(o.input ?? '')
  })
}

const spdy = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' }

describe.skipIf(!hasKubectl || kubectls.length < 2)('kubectl exec, attach, cp and run -i against kpe up', () => {
  describe.each(kubectls)('kubectl %s', (_v, bin) => {
    it.each([['WebSocket', {}], ['SPDY', spdy]])('exec carries output and the exit code over %s', async (_t, env) => {
      const r = await kubectl(bin, ['exec', 'client', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'], { env })
      expect(r).toMatchObject({ code: 3, stdout: 'out\n' })
      expect(r.stderr).toContain('err\n')
      expect((await kubectl(bin, ['exec', 'client', '--', 'nosuchtool'], { env })).code).toBe(127)
    })

    it.each([['WebSocket', {}], ['SPDY', spdy]])('exec -i passes stdin over %s', async (_t, env) => {
      expect(await kubectl(bin, ['exec', '-i', 'client', '--', 'sh'], { input: 'read_me=1; echo "got $read_me"; cat /etc/hostname\n', env })).toMatchObject({ code: 0, stdout: 'got 1\nclient\n' })
      expect((await kubectl(bin, ['exec', '-i', 'client', '--', 'cat'], { input: 'line one\nline two\n', env })).stdout).toBe('line one\nline two\n')
    })

    it.skipIf(!hasScript)('exec -it runs an interactive shell under a pseudo-terminal', async () => {
      const cmd = [bin, '--kubeconfig', up!.kubeconfig, 'exec', '-it', 'client', '--', 'sh'].join(' ')
      // Typed input arrives after kubectl has put the terminal in raw mode.
      const piped = await new Promise<Run>((resolve) => {
        const child = spawn('/usr/bin/script', ['-qec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] })
        let stdout = ''
        child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
        child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr: '' }))
        setTimeout(() => child.stdin.write('echo typed-$HOSTNAME\r'), 1500)
        setTimeout(() => child.stdin.write('exit 5\r'), 2500)
        setTimeout(() => child.kill('SIGKILL'), 20_000)
      })
      expect(piped.stdout).toContain('/ # echo typed-$HOSTNAME\r\ntyped-client\r\n/ # ')
      expect(piped.code).toBe(5)
    }, 40_000)

    it('cp copies a file into the pod and back', async () => {
      const src = join(tmp, `in-${_v}.txt`)
      writeFileSync(src, `payload ${_v}\n`)
      expect(await kubectl(bin, ['cp', src, `client:/tmp/copied-${_v}.txt`])).toMatchObject({ code: 0 })
      expect((await kubectl(bin, ['exec', 'client', '--', 'cat', `/tmp/copied-${_v}.txt`])).stdout).toBe(`payload ${_v}\n`)
      const back = join(tmp, `back-${_v}.txt`)
      expect(await kubectl(bin, ['cp', `client:/tmp/copied-${_v}.txt`, back])).toMatchObject({ code: 0 })
      expect(readFileSync(back, 'utf8')).toBe(`payload ${_v}\n`)
    })

    it('run --rm -i runs a busybox wget through attach and deletes the pod', async () => {
      const name = `tmp${_v.replace('.', '')}`
      const r = await kubectl(bin, ['run', name, '--rm', '-i', '--image', 'busybox', '--', 'wget', '-qO-', 'http://web/hostname'], { timeoutMs: 60_000 })
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toMatch(/^web-[a-z0-9]+-\w{5}pod "tmp\d+" deleted\n$/)
    }, 70_000)

    it('attach -i runs a waiting toolbox container once, bound to the client', async () => {
      const name = `att${_v.replace('.', '')}`
      const manifest = join(tmp, `${name}.json`)
      writeFileSync(manifest, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox', args: ['sh', '-c', 'read line; echo "attached $HOSTNAME got $line"'], stdin: true, stdinOnce: true }] } }))
      expect((await kubectl(bin, ['apply', '-f', manifest])).code).toBe(0)
      expect((await kubectl(bin, ['wait', '--for=condition=Ready', `pod/${name}`, '--timeout=30s'])).code).toBe(0)
      const r = await kubectl(bin, ['attach', '-i', name], { input: 'hello\n' })
      expect(r.stdout).toBe(`attached ${name} got hello\n`)
      expect((await kubectl(bin, ['delete', 'pod', name, '--wait=false'])).code).toBe(0)
    }, 60_000)
  })

  it('curl from the client pod leaves as that pod: spread over the web pods, listed by kpe connections', async () => {
    const seen = new Set<string>()
    for (let i = 0; i < 12; i++) {
      const r = await kubectl(kubectlPath, ['exec', 'client', '--', 'curl', '-s', 'http://web.default.svc.cluster.local/hostname'])
      expect(r.code, `exec curl ${i}: ${r.stderr} / ${r.stdout}`).toBe(0)
      seen.add(r.stdout)
    }
    expect([...seen].every((s) => /^web-[a-z0-9]+-\w{5}$/.test(s))).toBe(true)
    expect(seen.size).toBeGreaterThanOrEqual(2)
    const fromClientNow = (): { pod?: string }[] => {
      const conns = JSON.parse(execFileSync(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'connections', '--data-dir', up!.dataDir, '-o', 'json'], { encoding: 'utf8' })) as { entry: string; client: string; destination: string; pod?: string }[]
      return conns.filter((c) => c.entry === 'kubectl exec' && /^pod default\/client \(10\.244\.\d+\.\d+\)$/.test(c.client) && c.destination.startsWith('cluster-ip of default/web'))
    }
    // With --dataplane kernel a record is written once conntrack names the endpoint, a moment later.
    let fromClient = fromClientNow()
    for (const deadline = Date.now() + 5_000; fromClient.length < 12 && Date.now() < deadline; fromClient = fromClientNow()) await new Promise((r) => setTimeout(r, 100))
    expect(fromClient.length).toBeGreaterThanOrEqual(12)
    expect(new Set(fromClient.map((c) => c.pod)).size).toBeGreaterThanOrEqual(2)
  }, 60_000)

  it('attach to an emulated server streams the request lines it logs from then on', async () => {
    const web = (await livePods(up!, 'app=web'))[0]!.name
    const ip = (await kubectl(kubectlPath, ['get', 'pod', web, '-o', 'jsonpath={.status.podIP}'])).stdout
    const child = spawn(kubectlPath, ['--kubeconfig', up!.kubeconfig, 'attach', web], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()))
    try {
      for (let i = 0; i < 40 && !out.includes('/attached-marker'); i++) {
        await kubectl(kubectlPath, ['exec', 'client', '--', 'curl', '-s', `http://${ip}:8080/attached-marker`])
        await new Promise((r) => setTimeout(r, 250))
      }
      expect(out).toMatch(/^http 10\.244\.\d+\.\d+:\d+ "GET \/attached-marker HTTP\/1\.1" /m)
    } finally {
      child.kill('SIGINT')
      await closed
    }
  }, 30_000)

  it('nslookup and getent in a pod ask cluster DNS: a headless Service answers with its pod IPs', async () => {
    const manifest = join(tmp, 'headless.json')
    writeFileSync(manifest, JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-headless' }, spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } }))
    expect((await kubectl(kubectlPath, ['apply', '-f', manifest])).code).toBe(0)
    let r: Run | undefined
    for (let i = 0; i < 40; i++) {
      r = await kubectl(kubectlPath, ['exec', 'client', '--', 'nslookup', 'web-headless'])
      if ((r.stdout.match(/^Address: 10\.244\./gm) ?? []).length === 3) break
      await new Promise((res) => setTimeout(res, 250))
    }
    expect(r!.stdout).toMatch(/^Name:\tweb-headless\.default\.svc\.cluster\.local$/m)
    expect((r!.stdout.match(/^Address: 10\.244\.\d+\.\d+$/gm) ?? []).length).toBe(3)
    expect((await kubectl(kubectlPath, ['exec', 'client', '--', 'getent', 'hosts', 'kubernetes.default'])).stdout).toBe('10.96.0.1       kubernetes.default.svc.cluster.local\n')
  }, 30_000)

  it('internalTrafficPolicy: Local follows the client pod\'s node: its local endpoint, or dropped when it has none', async () => {
    const manifest = join(tmp, 'local.json')
    writeFileSync(manifest, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo-local' }, spec: { selector: { app: 'echo' }, internalTrafficPolicy: 'Local', ports: [{ port: 80, targetPort: 5678 }] } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client-c' }, spec: { nodeName: 'node-c', containers: [{ name: 'c', image: 'busybox', command: ['sleep', 'infinity'] }] } },
    ] }))
    expect((await kubectl(kubectlPath, ['apply', '-f', manifest])).code).toBe(0)
    expect((await kubectl(kubectlPath, ['wait', '--for=condition=Ready', 'pod/client-c', '--timeout=30s'])).code).toBe(0)
    // client is on node-a, which has one echo pod; node-c has none.
    const local = (await livePods(up!, 'app=echo')).find((p) => p.node === 'node-a')!.name
    let answered: Run | undefined
    for (let i = 0; i < 40; i++) {
      answered = await kubectl(kubectlPath, ['exec', 'client', '--', 'curl', '-s', '-m', '2', 'http://echo-local/'])
      if (answered.code === 0) break
      await new Promise((r) => setTimeout(r, 250))
    }
    for (let i = 0; i < 4; i++) {
      expect(answered!).toMatchObject({ code: 0, stdout: `hello from ${local}\n` })
      answered = await kubectl(kubectlPath, ['exec', 'client', '--', 'curl', '-s', '-m', '2', 'http://echo-local/'])
    }
    const dropped = await kubectl(kubectlPath, ['exec', 'client-c', '--', 'curl', '-sS', '-m', '1', 'http://echo-local/'])
    expect(dropped.code).toBe(28)
    expect(dropped.stderr).toMatch(/^curl: \(28\) /)
  }, 60_000)
})

const python = '/usr/bin/python3'
const hasPythonClient = ((): boolean => {
  try {
    execFileSync(python, ['-c', 'import kubernetes.stream'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()
if (!hasPythonClient && process.env['CI']) throw new Error(`${python} cannot import kubernetes.stream, and CI is set: install python3-kubernetes`)

describe.skipIf(!hasPythonClient || !hasKubectl)('the Python client kubernetes.stream (WebSocket v4.channel.k8s.io)', () => {
  it('execs with output, exit code, stdin and a curl that leaves as the pod', async () => {
    const r = await run(python, [join(repoRoot, 'test/e2e/python-exec.py'), up!.kubeconfig, 'client'], 60_000)
    expect(r.stderr).toBe('')
    const steps = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(steps).toEqual([
      { step: 'preloaded', output: 'out\nerr\n' },
      { step: 'exit', stdout: 'client\n', returncode: 3 },
      { step: 'stdin', stdout: 'from python\n' },
      { step: 'curl', stdout: expect.stringMatching(/^web-[a-z0-9]+-\w{5}$/), returncode: 0 },
    ])
  }, 70_000)
})
