/**
 * HTTP plumbing: reading and decoding request bodies (JSON, YAML), content negotiation
 * (Table, aggregated discovery) and writing JSON or Status replies. No routing decisions.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { parse as parseYaml } from 'yaml'
import { ApiError, badRequest, unsupportedMediaType } from './api-error.js'

const maxBodyBytes = 8 * 1024 * 1024

export const tableContentType = 'application/json;as=Table;v=v1;g=meta.k8s.io'
export const aggregatedContentType = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList'

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > maxBodyBytes) throw new ApiError(413, 'BadRequest', 'request entity too large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? 'application/json').split(';')[0]?.trim().toLowerCase() ?? 'application/json'
}

/** Decodes a JSON or YAML body (kubectl sends JSON; curl users often send YAML). */
export function decodeBody(buf: Buffer, type: string): unknown {
  const text = buf.toString('utf8')
  if (type.includes('protobuf')) throw unsupportedMediaType(type)
  if (text.trim() === '') throw badRequest('request body is empty')
  const isYaml = type.endsWith('yaml')
  try {
    return isYaml ? (parseYaml(text) as unknown) : (JSON.parse(text) as unknown)
  } catch (e) {
    throw badRequest(`the body of the request could not be decoded: ${e instanceof Error ? e.message : String(e)}`)
  }
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

export function sendJson(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  const text = JSON.stringify(body)
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' })
  res.end(text)
}

export function sendError(res: ServerResponse, err: ApiError): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  sendJson(res, err.code, err.toStatus())
}
