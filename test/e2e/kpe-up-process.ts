/**
 * Starts the real `kpe up` CLI for end-to-end suites as kpe-up.test.ts does: every port 0, node
 * addresses on a random private loopback prefix, a temporary data dir. Also kubectl and curl
 * runners bound to it. Only loopback addresses are ever dialled.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { createServer } from 'node:net'
import { chmodSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '../helpers/shared.js'
import { afterAll, beforeAll } from 'vitest'
import { tempDir } from '../helpers/temp-dirs.js'
import { e2eStoreArgs, pauseE2eStore } from './kpe-up-store.js'

export const kubectlPath = '/usr/bin/kubectl'
export const hasKubectl = existsSync(kubectlPath)

export interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export interface KpeUp {
  readonly child: ChildProcess
  readonly dataDir: string
  readonly prefix: string
  readonly summary: string
  readonly kubeconfig: string
  kubectl(...args: string[]): Promise<Run>
  stop(): Promise<number | null>
}

export function run(file: string, args: readonly string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, [...args], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp' }, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })
    })
  })
}

/**
 * A port free on 127.0.0.1 for TCP (and UDP with alsoUdp), for flags whose 0 means "off" rather
 * than "any" (--dns-port, --ingress-port). Closed again before it is returned: a small race.
 */
export async function freeLoopbackPort(alsoUdp = false): Promise<number> {
  for (;;) {
    const tcp = createServer()
    const port = await new Promise<number>((resolve) => tcp.listen(0, '127.0.0.1', () => resolve((tcp.address() as { port: number }).port)))
    const udp = alsoUdp ? createSocket('udp4') : undefined
    const ok = udp ? await new Promise<boolean>((resolve) => { udp.once('error', () => resolve(false)); udp.bind(port, '127.0.0.1', () => resolve(true)) }) : true
    await new Promise((r) => tcp.close(r))
    if (ok) udp?.close()
    if (ok) return port
  }
}

/** curl with no proxy environment (a proxy only where a test names one), silent, bounded. */
export function curl(args: readonly string[], maxTimeS = 3): Promise<Run> {
  // run() gives curl no *_proxy variables; `--noproxy '*'` is not used because it also disables
  // a proxy named with -x, which would send the request straight to a cluster address.
  return run('curl', ['-s', '--max-time', String(maxTimeS), ...args], (maxTimeS + 2) * 1000)
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0

/** argv run as uid/gid 65534 when the tests run as root (the kernel dataplane must work without root), else as is. */
export function asNonRoot(argv: readonly string[]): string[] {
  return isRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...argv] : [...argv]
}

export interface StartKpeUpOptions {
  readonly dataDir?: string
  /** 'kernel': `--dataplane kernel`, run as a non-root user (setpriv to 65534 when the tests run as root). */
  readonly dataplane?: 'userspace' | 'kernel'
}

/**
 * Every kpe up this test file started: one still running when the file ends is stopped here,
 * before tempDir's hook (registered earlier, at import) removes the data dirs startKpeUp made.
 */
const startedUps: KpeUp[] = []
afterAll(async () => {
  for (const up of startedUps.splice(0)) await up.stop()
})

export async function startKpeUp(manifests: readonly string[] = ['fixtures/demo.yaml'], extraArgs: readonly string[] = [], opts: StartKpeUpOptions = {}): Promise<KpeUp> {
  const dataDir = opts.dataDir ?? tempDir('kpe-up-')
  const prefix = `127.${randomInt(20, 250)}.${randomInt(1, 250)}.`
  const cacheDir = join(dataDir, 'kubectl-cache')
  // KPE_E2E_DATAPLANE=kernel runs every suite that starts kpe up through here against the kernel dataplane.
  const kernel = (opts.dataplane ?? process.env['KPE_E2E_DATAPLANE']) === 'kernel'
  // Tests running as root start the kernel kpe as uid 65534, which must write its data dir.
  if (kernel && isRoot) chmodSync(dataDir, 0o777)
  // KPE_E2E_STORE=etcd runs them all on a real etcd (kpe-up-store.ts)
  const storeArgs = await e2eStoreArgs(dataDir, extraArgs)
  const argv = [process.execPath, join(repoRoot, 'dist/src/cli/main.js'), 'up', ...manifests.flatMap((f) => ['-f', f]), '--data-dir', dataDir,
    '--port', '0', '--socks-port', '0', '--http-proxy-port', '0', '--metrics-port', '0', '--dns-port', '0', '--ingress-port', '0', '--ingress-tls-port', '0', '--node-loopback-prefix', prefix,
    ...(kernel ? ['--dataplane', 'kernel'] : []), ...storeArgs, ...extraArgs]
  const [file, ...args] = kernel ? asNonRoot(argv) : argv
  const child = spawn(file!, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (d: string) => { stderr = (stderr + d).slice(-4000) })
  child.stdout!.setEncoding('utf8')
  let summary = ''
  const started = new Promise<void>((resolve, reject) => {
    // The kernel dataplane builds namespaces and starts an agent per pod before it settles.
    const timer = setTimeout(() => reject(new Error(`kpe up printed no summary: ${summary}\n${stderr}`)), kernel ? 60_000 : 30_000)
    child.stdout!.on('data', (d: string) => {
      summary += d
      if (summary.includes('Ctrl-C stops everything')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => reject(new Error(`kpe up exited early (${code}): ${summary}\n${stderr}`)))
  })
  await started.catch(async (e: unknown) => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await pauseE2eStore(dataDir)
    throw e
  })
  const kubeconfig = join(dataDir, 'kubeconfig')
  const up: KpeUp = {
    child, dataDir, prefix, summary, kubeconfig,
    kubectl: (...args) => run(kubectlPath, ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args]),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        await pauseE2eStore(dataDir)
        return child.exitCode
      }
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
      child.kill('SIGINT')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      return exited.finally(() => { clearTimeout(timer); return pauseE2eStore(dataDir) })
    },
  }
  startedUps.push(up)
  return up
}

export interface Served {
  readonly child: ChildProcess
  readonly address: string
  readonly output: () => string
  stop(): void
}

/** Spawns a long-running process and waits for a line matching `ready` (its first group is the address). */
export function spawnServing(file: string, args: readonly string[], ready: RegExp, timeoutMs = 15_000, env: NodeJS.ProcessEnv = process.env): Promise<Served> {
  const child = spawn(file, [...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env })
  let out = ''
  child.stdout!.setEncoding('utf8')
  child.stderr!.setEncoding('utf8')
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${file} ${args.join(' ')} did not get ready: ${out}`)) }, timeoutMs)
    const onData = (d: string): void => {
      out += d
      const m = ready.exec(out)
      if (!m) return
      clearTimeout(timer)
      resolve({ child, address: m[1]!, output: () => out, stop: () => { if (child.exitCode === null) child.kill('SIGINT') } })
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`${file} exited (${code}): ${out}`)))
  })
}

const portForwardShim = `const m = await import(${JSON.stringify(join(repoRoot, 'dist/src/cli/port-forward-command.js'))}); process.stdout.write(await m.runPortForwardCommand(process.argv.slice(1)))`

/**
 * `kpe port-forward ARGS` as a process: through main.js once its commands table has the
 * command, else through the built command module directly (the same code, minus main's exit mapping).
 */
export async function spawnPortForward(args: readonly string[]): Promise<Served> {
  const main = join(repoRoot, 'dist/src/cli/main.js')
  const help = await run(process.execPath, [main, 'port-forward', '--help'])
  const argv = help.stdout.includes('usage: kpe port-forward') ? [main, 'port-forward', ...args] : ['--input-type=module', '-e', portForwardShim, ...args]
  return spawnServing(process.execPath, argv, /Forwarding from (127\.[\d.]+:\d+)/)
}

/**
 * One `kpe up` (no manifests) for a whole e2e file: started before its tests when kubectl is
 * there, stopped and its data dir removed after, as every startKpeUp (with KPE_E2E_STORE=etcd, on
 * a real etcd). `ok` runs kubectl against it and throws on failure.
 */
export function kpeUpForFile(): { readonly up: KpeUp; ok(...args: string[]): Promise<string> } {
  let up: KpeUp | undefined
  beforeAll(async () => {
    if (hasKubectl) up = await startKpeUp([])
  }, 40_000)
  const running = (): KpeUp => {
    if (!up) throw new Error('kpe up is not running')
    return up
  }
  return {
    get up() { return running() },
    async ok(...args) {
      const r = await running().kubectl(...args)
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
      return r.stdout
    },
  }
}

/** The demo's pods behind a label selector as the live cluster has them: name and node, sorted by node. */
export async function livePods(up: KpeUp, selector: string): Promise<{ name: string; node: string; ip: string }[]> {
  const r = await up.kubectl('get', 'pods', '-l', selector, '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.podIP}{"\\n"}{end}')
  if (r.code !== 0) throw new Error(`kubectl get pods -l ${selector}: ${r.stderr}`)
  return r.stdout.trim().split('\n').filter((l) => l !== '').map((l) => l.split(' ')).map(([name, node, ip]) => ({ name: name!, node: node ?? '', ip: ip ?? '' }))
    .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
}
