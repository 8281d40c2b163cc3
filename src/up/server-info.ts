/**
 * server.json, as `kpe up` leaves it once everything listens: the control plane's fields (url,
 * pid, token file, CA) plus the address of every entry point, for scripts and labs to read
 * instead of parsing the summary. Written 0600 and atomically (a temp file renamed over it).
 */
import { readFile, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { serverInfoFileName } from '../cluster/index.js'
import { writePrivateFile } from '../store/index.js'

/** Where each entry point listens; null when `kpe up` does not serve it. */
export interface EntryPoints {
  readonly apiServer: string
  /** Node name -> the loopback address its NodePorts listen on. */
  readonly nodePorts: Readonly<Record<string, string>>
  readonly socks5: string | null
  readonly httpProxy: string | null
  readonly dns: string | null
  readonly ingress: { readonly http: string | null; readonly https: string | null } | null
  readonly agents: string
}

export interface EntryPointFacts {
  readonly apiUrl: string
  readonly nodeLoopbacks: ReadonlyMap<string, string>
  readonly socksPort: number | undefined
  readonly httpProxyPort: number | undefined
  readonly dns: { readonly host: string; readonly port: number } | undefined
  readonly ingress?: { readonly httpPort: number | undefined; readonly httpsPort: number | undefined }
  readonly agentsUrl: string
}

const loopback = '127.0.0.1'

export function entryPoints(f: EntryPointFacts): EntryPoints {
  const ingress = f.ingress && (f.ingress.httpPort !== undefined || f.ingress.httpsPort !== undefined)
    ? { http: f.ingress.httpPort === undefined ? null : `http://${loopback}:${f.ingress.httpPort}`, https: f.ingress.httpsPort === undefined ? null : `https://${loopback}:${f.ingress.httpsPort}` }
    : null
  return {
    apiServer: f.apiUrl,
    nodePorts: Object.fromEntries([...f.nodeLoopbacks].sort(([a], [b]) => (a < b ? -1 : 1))),
    socks5: f.socksPort === undefined ? null : `${loopback}:${f.socksPort}`,
    httpProxy: f.httpProxyPort === undefined ? null : `http://${loopback}:${f.httpProxyPort}`,
    dns: f.dns ? `${f.dns.host}:${f.dns.port}` : null,
    ingress,
    agents: f.agentsUrl,
  }
}

/** The entry points as `kpe up` prints them at start. */
export function renderEntryPoints(e: EntryPoints): string[] {
  const rows: [string, string][] = [
    ['API server', e.apiServer],
    ...Object.entries(e.nodePorts).map(([node, address]): [string, string] => [`NodePorts of ${node}`, address]),
    ['SOCKS5', e.socks5 ?? '-'],
    ['HTTP proxy', e.httpProxy ?? '-'],
    ['DNS (UDP, TCP)', e.dns ?? '-'],
    ['Ingress', e.ingress ? [e.ingress.http, e.ingress.https].filter((x) => x !== null).join(' ') : '-'],
    ['agents', e.agents],
  ]
  const width = Math.max(...rows.map(([k]) => k.length))
  return rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)
}

/** Adds the entry points to the control plane's server.json, replacing the file in one rename. */
export async function writeServerInfo(dataDir: string, e: EntryPoints): Promise<void> {
  const path = join(dataDir, serverInfoFileName)
  let base: Record<string, unknown> = {}
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'))
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) base = parsed as Record<string, unknown>
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err
  }
  const tmp = `${path}.${process.pid}.tmp`
  try {
    await writePrivateFile(tmp, `${JSON.stringify({ ...base, ...e }, null, 2)}\n`)
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}
