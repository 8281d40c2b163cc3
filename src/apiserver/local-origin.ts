/**
 * Who may talk to a loopback server from a browser: nobody. The Host header must name this
 * server (a loopback name or the bind host, with its port), which defeats DNS rebinding; a
 * request carrying an Origin header must come from this server's own origin. Pure.
 */
import { isIP } from 'node:net'

/** The names and port a server answers to, and its scheme (for its own origin). */
export interface LocalAuthority {
  readonly hosts: readonly string[]
  readonly port: number
  readonly scheme: 'http' | 'https'
}

const loopbackNames = ['127.0.0.1', 'localhost', '[::1]']
const wildcardHosts = new Set(['0.0.0.0', '::', '[::]', ''])

/** A host as it appears in a Host header or URL authority: IPv6 literals in brackets, lower case. */
function authorityHost(host: string): string {
  const h = host.toLowerCase()
  return isIP(h) === 6 ? `[${h}]` : h
}

/** Loopback names plus the bind host (unless it is a wildcard address, which names no one host). */
export function localAuthority(bindHost: string, port: number, scheme: 'http' | 'https' = 'http'): LocalAuthority {
  const hosts = new Set(loopbackNames)
  if (!wildcardHosts.has(bindHost)) hosts.add(authorityHost(bindHost))
  return { hosts: [...hosts], port, scheme }
}

const defaultPorts = { http: 80, https: 443 } as const

/** Splits `host[:port]` / `[v6][:port]`; undefined when it is not an authority at all. */
function splitAuthority(value: string, scheme: 'http' | 'https'): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s/]+)(?::(\d{1,5}))?$/.exec(value.trim())
  if (!m) return undefined
  return { host: m[1]!.toLowerCase(), port: m[2] === undefined ? defaultPorts[scheme] : Number(m[2]) }
}

function names(a: LocalAuthority, value: string): boolean {
  const hp = splitAuthority(value, a.scheme)
  return hp !== undefined && hp.port === a.port && a.hosts.includes(hp.host)
}

/**
 * Why a request's Host and Origin headers are refused, or undefined when they are fine. A
 * missing Host (HTTP/1.0 tools) is accepted: browsers always send one.
 */
export function checkLocalRequest(headers: { readonly host?: string | undefined; readonly origin?: string | string[] | undefined }, a: LocalAuthority): string | undefined {
  const host = headers.host
  if (host !== undefined && !names(a, host)) {
    return `Host ${JSON.stringify(host)} does not name this server (${a.hosts.map((h) => `${h}:${a.port}`).join(', ')}): refused as a possible DNS rebinding`
  }
  const origin = headers.origin
  if (origin === undefined) return undefined
  const one = Array.isArray(origin) ? origin.join(', ') : origin
  if (!isOwnOrigin(one, a)) return `Origin ${JSON.stringify(one)} is not this server's origin: requests from web pages are refused`
  return undefined
}

function isOwnOrigin(origin: string, a: LocalAuthority): boolean {
  const m = /^(https?):\/\/([^/]+)$/i.exec(origin.trim())
  if (!m || m[1]!.toLowerCase() !== a.scheme) return false
  return names(a, m[2]!)
}
