/**
 * UNSAFE, opt-in only (`kpe up --allow-exec`, for pods whose container is itself a real
 * process): `kubectl exec` runs the command as a host process with the caller's privileges.
 * The pod's identity travels in the environment (POD_* variables and proxy variables naming the
 * SOCKS5 and HTTP entries with the pod's user name), so proxy-aware tools leave as the pod. The
 * process leads its own group, which is killed when the client goes away.
 */
import { spawn } from 'node:child_process'
import type { Readable, Writable } from 'node:stream'
import type { PodIdentity } from './pod-replies.js'

export interface HostCommandStreams {
  readonly stdin: Readable | undefined
  readonly stdout: Writable | undefined
  readonly stderr: Writable | undefined
  readonly signal: AbortSignal
}

/** The entry points a host process is pointed at (loopback ports of kpe up). */
export interface PodProxyPorts {
  readonly socks?: number
  readonly http?: number
}

/** The environment that gives a host process the pod's identity. */
export function podIdentityEnv(pod: PodIdentity, ports: PodProxyPorts): Record<string, string> {
  const user = `pod.${pod.namespace}.${pod.name}`
  const env: Record<string, string> = { POD_NAME: pod.name, POD_NAMESPACE: pod.namespace, POD_IP: pod.podIP, NODE_NAME: pod.node, NO_PROXY: '', no_proxy: '' }
  if (ports.socks !== undefined) env['ALL_PROXY'] = env['all_proxy'] = `socks5h://${user}@127.0.0.1:${ports.socks}`
  if (ports.http !== undefined) env['HTTP_PROXY'] = env['http_proxy'] = `http://${user}@127.0.0.1:${ports.http}`
  return env
}

/** Runs argv; resolves with its exit code (128+N for signal N), 127 when it cannot be started. */
export function runHostCommand(argv: readonly string[], env: Readonly<Record<string, string>>, s: HostCommandStreams): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env: { ...process.env, ...env } })
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
      } catch {
        // the group is gone already
      }
    }
    s.signal.addEventListener('abort', killGroup, { once: true })
    child.stdin.on('error', () => {})
    if (s.stdin) s.stdin.pipe(child.stdin)
    else child.stdin.end()
    child.stdout.on('data', (c: Buffer) => s.stdout?.write(c))
    child.stderr.on('data', (c: Buffer) => (s.stderr ?? s.stdout)?.write(c))
    child.once('error', (e: NodeJS.ErrnoException) => {
      s.signal.removeEventListener('abort', killGroup)
      ;(s.stderr ?? s.stdout)?.write(`exec: ${JSON.stringify(argv[0])}: ${e.code === 'ENOENT' ? 'executable file not found in $PATH' : e.message}\n`)
      resolve(e.code === 'ENOENT' ? 127 : 126)
    })
    child.once('close', (code, signal) => {
      s.signal.removeEventListener('abort', killGroup)
      s.stdin?.unpipe(child.stdin)
      const signals: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }
      resolve(code ?? 128 + (signal ? signals[signal] ?? 1 : 1))
    })
  })
}
