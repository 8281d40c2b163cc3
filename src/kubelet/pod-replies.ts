/**
 * The built-in behaviours as pure functions: an HTTP request or a UDP datagram in, the reply
 * out. The pod servers are thin shells around these, so what each image answers is testable
 * without a socket.
 */
import { assertNever } from '../errors.js'
import type { PodBehaviour } from './pod-behaviour.js'
import type { SeenSource } from './seen-source-table.js'

export interface PodIdentity {
  readonly namespace: string
  readonly name: string
  readonly podIP: string
  readonly node: string
}

export interface HttpRequestInfo {
  readonly method: string
  /** Path and query, as received. */
  readonly url: string
  readonly seen: SeenSource
  readonly headers?: Readonly<Record<string, string | string[] | undefined>>
}

export interface HttpReply {
  readonly status: number
  readonly contentType: string
  readonly body: string
}

const text = (body: string, status = 200): HttpReply => ({ status, contentType: 'text/plain; charset=utf-8', body })

function hostPort(s: SeenSource): string {
  return s.address.includes(':') ? `[${s.address}]:${s.port}` : `${s.address}:${s.port}`
}

export function httpReply(b: PodBehaviour, req: HttpRequestInfo, pod: PodIdentity): HttpReply {
  const url = new URL(req.url, 'http://pod.invalid')
  switch (b.kind) {
    case 'netexec':
      return netexecReply(url, req, pod)
    case 'serve-hostname':
      return text(pod.name)
    case 'nginx':
      return {
        status: 200,
        contentType: 'text/html',
        body: `<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head>\n<body><h1>Welcome to nginx!</h1>\n<p>Served by pod ${pod.namespace}/${pod.name} (${pod.podIP}) on ${pod.node}.</p></body></html>\n`,
      }
    case 'http-echo':
      return text(`${b.text}\n`)
    case 'echo':
    case 'exec':
    case 'none':
      return text(`pod ${pod.namespace}/${pod.name} (${pod.podIP}) on ${pod.node}\nclient ${hostPort(req.seen)}\n${req.method} ${req.url}\n`)
    default:
      return assertNever(b)
  }
}

/** agnhost netexec's HTTP endpoints (test/images/agnhost/netexec/netexec.go) that involve no dialing. */
function netexecReply(url: URL, req: HttpRequestInfo, pod: PodIdentity): HttpReply {
  switch (url.pathname) {
    case '/':
      return text(`NOW: ${pod.name}`)
    case '/hostname':
      return text(pod.name)
    case '/clientip':
      return text(hostPort(req.seen))
    case '/echo':
      return text(url.searchParams.get('msg') ?? '')
    case '/healthz':
    case '/readyz':
      return text('ok')
    case '/header': {
      const key = (url.searchParams.get('key') ?? '').toLowerCase()
      const v = req.headers?.[key]
      return text(Array.isArray(v) ? v.join(',') : v ?? '')
    }
    default:
      return text(`kpe: netexec endpoint ${url.pathname} is not emulated (no /dial, /shell or /exit)\n`, 404)
  }
}

/** A UDP datagram's answer, or undefined for none. */
export function udpReply(b: PodBehaviour, data: string, seen: SeenSource, pod: PodIdentity): string | undefined {
  switch (b.kind) {
    case 'netexec': {
      // agnhost netexec's UDP server: "hostname", "echo MSG", "clientip".
      const cmd = data.trim()
      if (cmd === 'hostname') return pod.name
      if (cmd === 'clientip') return hostPort(seen)
      if (cmd.startsWith('echo ')) return cmd.slice(5)
      return undefined
    }
    case 'serve-hostname':
      return pod.name
    case 'http-echo':
    case 'nginx':
      return undefined
    case 'echo':
    case 'exec':
    case 'none':
      return `pod ${pod.namespace}/${pod.name} saw ${hostPort(seen)}: ${data}`
    default:
      return assertNever(b)
  }
}

/** The first line a default TCP echo writes before echoing. */
export function tcpGreeting(seen: SeenSource, pod: PodIdentity): string {
  return `kpe echo: pod ${pod.namespace}/${pod.name} (${pod.podIP}) saw ${hostPort(seen)}\n`
}

/** Does this first chunk of a TCP stream start an HTTP/1.x request? */
export function looksLikeHttp(chunk: Buffer): boolean {
  return /^(GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS|TRACE|CONNECT) \S+ HTTP\/1\.[01]\r?\n/.test(chunk.subarray(0, 2048).toString('latin1')) ||
    /^(GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS) /.test(chunk.subarray(0, 16).toString('latin1'))
}
