/**
 * One HTTP/1.1 request from inside a pod, for curl and wget: the host is resolved as the pod
 * resolves names, the connection is opened through the pod's dialer (so it leaves as the pod),
 * node:http speaks the protocol over it. Every failure is a value naming the stage it happened
 * in, so each command words it as the real tool does.
 */
import { request, type IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { DialError, type CommandScope } from './context.js'
import { resolveName } from './name-resolution.js'

export interface FetchRequest {
  readonly url: URL
  readonly method: string
  /** Header lines in order; Host is set from the URL unless given. */
  readonly headers: readonly (readonly [string, string])[]
  readonly body?: Buffer
  /** Whole-operation limit (curl -m, wget -T). */
  readonly timeoutMs?: number
  readonly maxBodyBytes?: number
}

export interface FetchResponse {
  readonly ip: string
  readonly port: number
  readonly httpVersion: string
  readonly statusCode: number
  readonly statusMessage: string
  readonly rawHeaders: readonly string[]
  readonly body: Buffer
}

export type FetchFailure =
  | { readonly stage: 'resolve'; readonly host: string }
  | { readonly stage: 'connect'; readonly ip: string; readonly port: number; readonly why: DialError['why']; readonly message: string; readonly elapsedMs: number }
  | { readonly stage: 'timeout'; readonly elapsedMs: number; readonly receivedBytes: number; readonly connected: boolean }
  | { readonly stage: 'transfer'; readonly message: string; readonly emptyReply: boolean }

export type FetchResult = { readonly ok: true; readonly response: FetchResponse } | { readonly ok: false; readonly failure: FetchFailure }

export interface FetchEvents {
  readonly onResolved?: (ip: string, port: number) => void
  readonly onConnected?: (ip: string, port: number) => void
  readonly onRequestHead?: (lines: readonly string[]) => void
}

export function defaultPort(url: URL): number {
  return url.port === '' ? 80 : Number(url.port)
}

export async function httpFetch(req: FetchRequest, scope: CommandScope, outer: AbortSignal, ev: FetchEvents = {}): Promise<FetchResult> {
  const started = scope.ctx.now()
  const ctl = new AbortController()
  const onOuter = (): void => ctl.abort()
  outer.addEventListener('abort', onOuter, { once: true })
  let timedOut = false
  const timer = req.timeoutMs === undefined ? undefined : setTimeout(() => { timedOut = true; ctl.abort() }, req.timeoutMs)
  let received = 0
  let connected = false
  const elapsed = (): number => scope.ctx.now() - started
  const timeout = (): FetchResult => ({ ok: false, failure: { stage: 'timeout', elapsedMs: elapsed(), receivedBytes: received, connected } })
  try {
    const host = req.url.hostname
    const resolved = await resolveName(host, scope, ctl.signal)
    if (timedOut) return timeout()
    if (!resolved) return { ok: false, failure: { stage: 'resolve', host: host.replace(/^\[(.*)\]$/, '$1') } }
    const ip = resolved.addresses[0]!
    const port = defaultPort(req.url)
    ev.onResolved?.(ip, port)
    let socket: Duplex
    try {
      socket = await scope.ctx.dialer.dial(ip, port, ctl.signal)
    } catch (e) {
      if (timedOut) return timeout()
      const d = e instanceof DialError ? e : new DialError('refused', e instanceof Error ? e.message : String(e))
      return { ok: false, failure: { stage: 'connect', ip, port, why: d.why, message: d.message, elapsedMs: elapsed() } }
    }
    connected = true
    ev.onConnected?.(ip, port)
    const headers: (readonly [string, string])[] = req.headers.some(([k]) => k.toLowerCase() === 'host') ? [...req.headers] : [['Host', req.url.host], ...req.headers]
    const path = `${req.url.pathname || '/'}${req.url.search}`
    ev.onRequestHead?.([`${req.method} ${path} HTTP/1.1`, ...headers.map(([k, v]) => `${k}: ${v}`)])
    const limit = req.maxBodyBytes ?? 64 * 1024 * 1024
    return await new Promise<FetchResult>((resolve) => {
      const r = request({ method: req.method, path, headers: headers.flat(), setHost: false, createConnection: () => socket as never, signal: ctl.signal })
      r.on('error', (e: NodeJS.ErrnoException) => {
        socket.destroy()
        if (timedOut) return resolve(timeout())
        resolve({ ok: false, failure: { stage: 'transfer', message: e.code === 'ECONNRESET' ? 'Connection reset by peer' : e.message, emptyReply: e.code === 'ECONNRESET' && e.message === 'socket hang up' } })
      })
      r.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => {
          received += c.length
          if (received > limit) { res.destroy(new Error(`the response is larger than the toolbox's ${limit}-byte limit`)); return }
          chunks.push(c)
        })
        res.on('error', (e) => resolve(timedOut ? timeout() : { ok: false, failure: { stage: 'transfer', message: e.message, emptyReply: false } }))
        res.on('end', () => {
          socket.destroy()
          resolve({ ok: true, response: { ip, port, httpVersion: res.httpVersion, statusCode: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) } })
        })
      })
      r.end(req.body)
    })
  } finally {
    if (timer) clearTimeout(timer)
    outer.removeEventListener('abort', onOuter)
  }
}
