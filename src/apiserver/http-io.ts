/**
 * HTTP plumbing: reading and decoding request bodies (JSON, YAML, protobuf; 415 for anything
 * else), content negotiation (Table, aggregated discovery, protobuf) and writing JSON, protobuf
 * or Status replies. No routing decisions.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { parse as parseYaml } from 'yaml'
import { decodeProtobufObject, encodeProtobufObject, exceedsJsonDepth, maxJsonDepth, ProtobufConversionError } from '../api/index.js'
import { ApiError, badRequest, unsupportedMediaType } from './api-error.js'

/** kube-apiserver's MaxRequestBodyBytes. */
export const maxBodyBytes = 3 * 1024 * 1024

/** The body media types an object write accepts; kube-apiserver's JSON and YAML serializers. */
const objectBodyTypes: Readonly<Record<string, 'json' | 'yaml'>> = {
  'application/json': 'json',
  'application/yaml': 'yaml',
}
export const protobufType = 'application/vnd.kubernetes.protobuf'

export const tableContentType = 'application/json;as=Table;v=v1;g=meta.k8s.io'
export const aggregatedContentType = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList'

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > maxBodyBytes) throw new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${maxBodyBytes}`)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

/**
 * The request's media type without parameters, lower case. A request without Content-Type is
 * JSON, as in kube-apiserver (its input negotiation falls back to its first serializer, JSON).
 */
export function mediaType(req: IncomingMessage): string {
  const header = req.headers['content-type']
  if (header === undefined || header.trim() === '') return 'application/json'
  return header.split(';')[0]?.trim().toLowerCase() ?? ''
}

/**
 * Decodes a JSON, YAML or protobuf body (typed clients such as kubectl create send protobuf;
 * curl users often send YAML). A protobuf body becomes the JSON form of the same object, so
 * the same pipeline follows. Any other type is 415: text/plain, form and multipart bodies are
 * what a web page can send cross-origin without a preflight, so they are never read as JSON.
 * Nesting deeper than maxJsonDepth is 400.
 */
export function decodeBody(buf: Buffer, type: string): unknown {
  if (type === protobufType) return decodeProtobufBody(buf)
  const format = objectBodyTypes[type]
  if (format === undefined) throw unsupportedMediaType(type)
  return parseText(buf.toString('utf8'), format)
}

function decodeProtobufBody(buf: Buffer): Record<string, unknown> {
  if (buf.length === 0) throw badRequest('request body is empty')
  let value: Record<string, unknown>
  try {
    value = decodeProtobufObject(buf)
  } catch (e) {
    if (e instanceof ProtobufConversionError || e instanceof RangeError) throw badRequest(`the body of the request could not be decoded: ${e.message}`)
    throw e
  }
  if (exceedsJsonDepth(value, maxJsonDepth)) throw badRequest(`the body of the request could not be decoded: exceeded max depth (${maxJsonDepth})`)
  return value
}

/** Parses JSON or YAML text (aliases capped) and refuses nesting deeper than maxJsonDepth. */
export function parseText(text: string, format: 'json' | 'yaml'): unknown {
  if (text.trim() === '') throw badRequest('request body is empty')
  let value: unknown
  try {
    value = format === 'yaml' ? (parseYaml(text, { maxAliasCount: 100 }) as unknown) : (JSON.parse(text) as unknown)
  } catch (e) {
    throw badRequest(`the body of the request could not be decoded: ${e instanceof Error ? e.message : String(e)}`)
  }
  if (typeof value === 'object' && value !== null && exceedsJsonDepth(value, maxJsonDepth)) {
    throw badRequest(`the body of the request could not be decoded: exceeded max depth (${maxJsonDepth})`)
  }
  return value
}

export function decodeObjectBody(buf: Buffer, type: string): Record<string, unknown> {
  const body = decodeBody(buf, type)
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('the body of the request must be a JSON object')
  }
  return body as Record<string, unknown>
}

export function wantsTable(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? ''
  return accept.split(',').some((a) => a.includes('as=Table') && a.includes('g=meta.k8s.io'))
}

export function wantsAggregatedDiscovery(req: IncomingMessage): boolean {
  const accept = req.headers.accept ?? ''
  return accept.split(',').some((a) => a.includes('as=APIGroupDiscoveryList') && a.includes('v=v2') && !a.includes('v=v2beta1'))
}

/**
 * True when the client prefers protobuf: the first media range it accepts (by q, then order)
 * is application/vnd.kubernetes.protobuf, as typed clients ask ("protobuf, json"). Ranges with
 * an `as=` (Table, discovery) are other negotiations and are skipped here.
 */
export function wantsProtobuf(req: IncomingMessage): boolean {
  const ranges = (req.headers.accept ?? '').split(',').map((clause, order) => {
    const [type = '', ...params] = clause.split(';').map((x) => x.trim().toLowerCase())
    const q = params.find((x) => x.startsWith('q='))
    return { type, params, order, q: q === undefined ? 1 : Number(q.slice(2)) }
  }).filter((r) => r.type !== '' && r.q > 0 && !r.params.some((x) => x.startsWith('as=')))
  ranges.sort((a, b) => b.q - a.q || a.order - b.order)
  return ranges[0]?.type === protobufType
}

/** The protobuf encoding, or undefined when there is none: the client then gets JSON, its second choice. */
export function tryEncodeProtobuf(body: Readonly<Record<string, unknown>>): Buffer | undefined {
  try {
    return encodeProtobufObject(body)
  } catch (e) {
    if (e instanceof ProtobufConversionError) return undefined
    throw e
  }
}

/** An API object (or Status) in protobuf when the client prefers it and its kind has a message, else JSON. */
export function sendObject(req: IncomingMessage, res: ServerResponse, code: number, body: Readonly<Record<string, unknown>>): void {
  const encoded = wantsProtobuf(req) ? tryEncodeProtobuf(body) : undefined
  if (encoded === undefined) return sendJson(res, code, body)
  res.writeHead(code, { 'Content-Type': protobufType, 'Content-Length': encoded.length, 'Cache-Control': 'no-cache, private' })
  res.end(encoded)
}

export function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  const text = JSON.stringify(body)
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' })
  res.end(text)
}

/** The error as a Status, in protobuf when the request (if known) prefers it. */
export function sendError(res: ServerResponse, err: ApiError, req?: IncomingMessage): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const status = err.toStatus() as unknown as Record<string, unknown>
  if (req) sendObject(req, res, err.code, status)
  else sendJson(res, err.code, status)
}
