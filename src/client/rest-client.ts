/**
 * A read-only Kubernetes REST client for attaching to a cluster: GET and watch, asking for
 * protobuf first (kube-apiserver answers JSON for kinds without a message), over the kubeconfig's
 * TLS and credentials. Errors keep the server's Status code and reason, so a 410 reads as
 * "relist" to the ListWatcher.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { decodeProtobufObject, decodeWatchEvent } from '../api/index.js'
import type { ClusterAccess } from './kubeconfig.js'
import type { ListResult, ObjectSource, WatchHandlers, WatchStop } from './object-source.js'

const protobufType = 'application/vnd.kubernetes.protobuf'
const accept = `${protobufType}, application/json`
/** A frame larger than kube-apiserver's own object limit is a broken stream, not an object. */
const maxFrameBytes = 64 << 20

type Json = Record<string, unknown>

/** A non-2xx answer: the Status the server sent (code, reason, message). */
export class ApiStatusError extends Error {
  readonly code: number
  readonly reason: string
  constructor(code: number, reason: string, message: string) {
    super(message)
    this.name = 'ApiStatusError'
    this.code = code
    this.reason = reason
  }
}

function decodeBody(res: IncomingMessage, body: Buffer): Json {
  const type = res.headers['content-type'] ?? ''
  if (type.startsWith(protobufType)) return decodeProtobufObject(body)
  return JSON.parse(body.toString('utf8')) as Json
}

function statusError(code: number, body: Json | undefined, path: string): ApiStatusError {
  const reason = typeof body?.['reason'] === 'string' ? body['reason'] : ''
  const message = typeof body?.['message'] === 'string' ? body['message'] : `HTTP ${code}`
  return new ApiStatusError(code, reason, `GET ${path}: ${message}`)
}

export class RestClient {
  readonly #access: ClusterAccess

  constructor(access: ClusterAccess) {
    this.#access = access
  }

  #open(path: string, onResponse: (res: IncomingMessage) => void, onError: (err: Error) => void): () => void {
    const a = this.#access
    const url = new URL(a.server + path)
    const tls = url.protocol === 'https:'
    const req = (tls ? httpsRequest : httpRequest)(url, {
      method: 'GET',
      // one request per connection: attach mode makes a handful, and pooled idle sockets would hold the process open
      agent: false,
      headers: { Accept: accept, 'User-Agent': 'kpe-attach', ...(a.token !== undefined ? { Authorization: `Bearer ${a.token}` } : {}) },
      ...(tls ? {
        rejectUnauthorized: !a.insecureSkipTlsVerify,
        ...(a.caPem !== undefined ? { ca: a.caPem } : {}), ...(a.certPem !== undefined ? { cert: a.certPem } : {}),
        ...(a.keyPem !== undefined ? { key: a.keyPem } : {}), ...(a.tlsServerName !== undefined ? { servername: a.tlsServerName } : {}),
      } : {}),
    }, onResponse)
    req.on('error', onError)
    req.end()
    return () => req.destroy()
  }

  /** One object or list, decoded from protobuf or JSON. */
  get(path: string): Promise<Json> {
    return new Promise((resolve, reject) => {
      this.#open(path, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('error', reject)
        res.on('end', () => {
          try {
            const body = decodeBody(res, Buffer.concat(chunks))
            const code = res.statusCode ?? 0
            if (code < 200 || code > 299) reject(statusError(code, body, path))
            else resolve(body)
          } catch (e) {
            reject(new Error(`GET ${path}: answer not understood: ${e instanceof Error ? e.message : String(e)}`))
          }
        })
      }, (e) => reject(new Error(`GET ${path}: ${e.message}`)))
    })
  }

  /** Events after `resourceVersion` until stop() or an error; ERROR events become errors. */
  watch(path: string, resourceVersion: string, handlers: WatchHandlers<Json>): WatchStop {
    let done = false
    const fail = (err: unknown): void => {
      if (done) return
      done = true
      cancel()
      handlers.error(err)
    }
    const deliver = (type: string, object: Json): void => {
      if (done) return
      if (type === 'ERROR') return fail(statusError(typeof object['code'] === 'number' ? object['code'] : 500, object, path))
      if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') handlers.event({ type, object })
    }
    const sep = path.includes('?') ? '&' : '?'
    const cancel = this.#open(`${path}${sep}watch=1&resourceVersion=${encodeURIComponent(resourceVersion)}`, (res) => {
      const code = res.statusCode ?? 0
      if (code < 200 || code > 299) {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          let body: Json | undefined
          try { body = decodeBody(res, Buffer.concat(chunks)) } catch { body = undefined }
          fail(statusError(code, body, path))
        })
        return
      }
      const frames = (res.headers['content-type'] ?? '').startsWith(protobufType) ? protobufFrames : jsonLines
      let pending: Buffer = Buffer.alloc(0)
      res.on('data', (c: Buffer) => {
        pending = Buffer.concat([pending, c])
        try {
          pending = frames(pending, deliver)
        } catch (e) {
          fail(new Error(`watch ${path}: stream not understood: ${e instanceof Error ? e.message : String(e)}`))
        }
      })
      res.on('end', () => fail(new Error(`watch ${path}: the server ended the stream`)))
      res.on('error', fail)
    }, fail)
    return { stop: () => { done = true; cancel() } }
  }

  /** list+watch of one collection path (e.g. /api/v1/services), for a ListWatcher. */
  source<T>(path: string): ObjectSource<T> {
    return {
      list: async (): Promise<ListResult<T>> => {
        const list = await this.get(path)
        const meta = (list['metadata'] ?? {}) as Json
        return { items: (Array.isArray(list['items']) ? list['items'] : []) as T[], resourceVersion: String(meta['resourceVersion'] ?? '') }
      },
      watch: (resourceVersion, handlers) => this.watch(path, resourceVersion, handlers as unknown as WatchHandlers<Json>),
    }
  }
}

/** Length-prefixed protobuf WatchEvents; returns the bytes of an incomplete last frame. */
function protobufFrames(buf: Buffer, deliver: (type: string, object: Json) => void): Buffer {
  let at = 0
  while (buf.length - at >= 4) {
    const length = buf.readUInt32BE(at)
    if (length > maxFrameBytes) throw new Error(`frame of ${length} bytes`)
    if (buf.length - at - 4 < length) break
    const { type, object } = decodeWatchEvent(buf.subarray(at + 4, at + 4 + length))
    deliver(type, object)
    at += 4 + length
  }
  return buf.subarray(at)
}

/** Newline-delimited JSON watch events; returns an incomplete last line. */
function jsonLines(buf: Buffer, deliver: (type: string, object: Json) => void): Buffer {
  let at = 0
  for (let nl = buf.indexOf(10, at); nl >= 0; nl = buf.indexOf(10, at)) {
    const line = buf.subarray(at, nl).toString('utf8').trim()
    at = nl + 1
    if (line === '') continue
    const ev = JSON.parse(line) as { type?: unknown; object?: unknown }
    deliver(String(ev.type), (ev.object ?? {}) as Json)
  }
  if (buf.length - at > maxFrameBytes) throw new Error('line longer than the frame limit')
  return buf.subarray(at)
}
