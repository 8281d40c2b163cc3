/**
 * What a container does on each of its ports, decided from its image and arguments: the
 * well-known test images (agnhost netexec / serve-hostname, nginx, hashicorp/http-echo) get
 * their built-in behaviour, anything else a default echo. Pure: reads the Container only.
 */
import type { Container } from '../api/index.js'
import type { L4Proto } from '../net/index.js'

export type PodBehaviour =
  /** agnhost netexec: HTTP /hostname, /clientip, /echo on TCP; hostname/echo/clientip commands on UDP. */
  | { readonly kind: 'netexec' }
  /** agnhost serve-hostname: the pod name over HTTP, TCP or UDP. */
  | { readonly kind: 'serve-hostname' }
  /** nginx: a static page naming the pod. */
  | { readonly kind: 'nginx' }
  /** hashicorp/http-echo: the `-text` for every request. */
  | { readonly kind: 'http-echo'; readonly text: string }
  /** Any other image: HTTP, TCP or UDP echo that names the pod and the client address it saw. */
  | { readonly kind: 'echo' }
  /** agnhost pause and friends: nothing listens. */
  | { readonly kind: 'none' }
  /** The manifest's command as a real process (only with allowExec). */
  | { readonly kind: 'exec'; readonly argv: readonly string[] }

export interface ServedPort {
  readonly port: number
  readonly proto: L4Proto
}

export interface ContainerPlan {
  readonly behaviour: PodBehaviour
  readonly ports: readonly ServedPort[]
}

const agnhostCommands = new Set(['netexec', 'serve-hostname', 'pause', 'porter', 'fake-gitserver', 'liveness', 'test-webserver'])

function words(c: Container): string[] {
  return [...(c.command ?? []), ...(c.args ?? [])]
}

/** `--name=value`, `-name=value`, `--name value` or `-name value`. */
export function flagValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!
    for (const dash of ['--', '-']) {
      if (w.startsWith(`${dash}${name}=`)) return w.slice(dash.length + name.length + 1)
      if (w === `${dash}${name}` && i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) return argv[i + 1]
    }
  }
  return undefined
}

function portFlag(argv: readonly string[], name: string, fallback: number): number {
  const v = flagValue(argv, name)
  const text = v?.includes(':') ? v.slice(v.lastIndexOf(':') + 1) : v
  const n = text === undefined ? NaN : Number(text)
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : fallback
}

function imageName(image: string | undefined): string {
  const noTag = (image ?? '').replace(/@.*$/, '').replace(/:[^/:]*$/, '')
  return noTag.slice(noTag.lastIndexOf('/') + 1)
}

export function containerPlan(c: Container, opts: { readonly allowExec: boolean }): ContainerPlan {
  const argv = words(c)
  const declared: ServedPort[] = (c.ports ?? []).filter((p) => (p.protocol ?? 'TCP') !== 'SCTP').map((p) => ({ port: p.containerPort, proto: (p.protocol ?? 'TCP') === 'UDP' ? 'udp' : 'tcp' }))
  const name = imageName(c.image)
  const plan = (behaviour: PodBehaviour, implied: ServedPort[]): ContainerPlan => ({ behaviour, ports: mergePorts(declared, implied) })
  if (name === 'agnhost') {
    const sub = argv.find((w) => agnhostCommands.has(w))
    if (sub === 'netexec') return plan({ kind: 'netexec' }, [{ port: portFlag(argv, 'http-port', 8080), proto: 'tcp' }, { port: portFlag(argv, 'udp-port', 8081), proto: 'udp' }])
    if (sub === 'serve-hostname') {
      const port = portFlag(argv, 'port', 9376)
      return plan({ kind: 'serve-hostname' }, argv.includes('--udp') ? [{ port, proto: 'udp' }] : [{ port, proto: 'tcp' }])
    }
    if (sub === 'pause') return { behaviour: { kind: 'none' }, ports: [] }
  }
  if (name === 'http-echo') return plan({ kind: 'http-echo', text: flagValue(argv, 'text') ?? '' }, [{ port: portFlag(argv, 'listen', 5678), proto: 'tcp' }])
  if (name === 'nginx' || name.startsWith('nginx-')) return plan({ kind: 'nginx' }, declared.length > 0 ? [] : [{ port: 80, proto: 'tcp' }])
  if (opts.allowExec && (c.command?.length ?? 0) > 0) return { behaviour: { kind: 'exec', argv }, ports: declared }
  return plan({ kind: 'echo' }, [])
}

function mergePorts(a: readonly ServedPort[], b: readonly ServedPort[]): ServedPort[] {
  const seen = new Set<string>()
  const out: ServedPort[] = []
  for (const p of [...a, ...b]) {
    const k = `${p.port}/${p.proto}`
    if (!seen.has(k)) {
      seen.add(k)
      out.push(p)
    }
  }
  return out
}
