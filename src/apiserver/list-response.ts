/**
 * Writes a list response (`{kind, apiVersion, metadata, items}`) item by item, so a very large
 * collection never becomes one string (V8 caps strings near 512 MiB) and a slow client holds
 * back the writer (backpressure) instead of the whole body piling up in memory. In JSON, or in
 * protobuf (the XList message inside the k8s envelope) when the client prefers it.
 */
import type { ServerResponse } from 'node:http'
import { encodeEnvelope, encodeMessage, messageForKind, ProtobufConversionError } from '../api/index.js'

export interface ListHead {
  readonly kind: string
  readonly apiVersion: string
  readonly metadata: Readonly<Record<string, unknown>>
}

export interface ListWriteOptions {
  /** Serialized bytes gathered per write call. Default 256 KiB. */
  readonly chunkBytes?: number
  /** Answer in protobuf when the list kind has a message (else JSON, which the client also accepts). */
  readonly protobuf?: boolean
}

const headers = { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' }

/** Small lists go out in one piece with a Content-Length, large ones chunked. */
export async function sendList(res: ServerResponse, head: ListHead, items: readonly unknown[], opts: ListWriteOptions = {}): Promise<void> {
  const chunkBytes = opts.chunkBytes ?? 256 * 1024
  const listMessage = opts.protobuf ? messageForKind(head.apiVersion, head.kind) : undefined
  const protobufBody = listMessage === undefined ? undefined : encodeProtobufList(head, items, listMessage)
  if (protobufBody !== undefined) return sendProtobufList(res, protobufBody, chunkBytes)
  const open = JSON.stringify({ kind: head.kind, apiVersion: head.apiVersion, metadata: head.metadata })
  let chunk = `${open.slice(0, -1)},"items":[`
  let started = false
  for (let i = 0; i < items.length; i++) {
    chunk += `${i === 0 ? '' : ','}${JSON.stringify(items[i])}`
    if (chunk.length < chunkBytes) continue
    if (!started) {
      res.writeHead(200, headers)
      started = true
    }
    if (!(await writeChunk(res, chunk))) return
    chunk = ''
  }
  chunk += ']}'
  if (!started) res.writeHead(200, { ...headers, 'Content-Length': Buffer.byteLength(chunk) })
  res.end(chunk)
}

/**
 * A protobuf message is the concatenation of its fields, so the list's ListMeta and each item are
 * encoded apart (items as one-element XLists) and joined: no list object is ever built.
 */
function encodeProtobufList(head: ListHead, items: readonly unknown[], listMessage: string): Buffer | undefined {
  try {
    const parts = [encodeMessage(listMessage, { metadata: head.metadata })]
    for (const item of items) parts.push(encodeMessage(listMessage, { items: [item] }))
    return encodeEnvelope(head.apiVersion, head.kind, Buffer.concat(parts))
  } catch (e) {
    // An item protobuf cannot carry: the whole list goes out in JSON, the client's second choice.
    if (e instanceof ProtobufConversionError) return undefined
    throw e
  }
}

async function sendProtobufList(res: ServerResponse, body: Buffer, chunkBytes: number): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/vnd.kubernetes.protobuf', 'Cache-Control': 'no-cache, private', 'Content-Length': body.length })
  for (let at = 0; at + chunkBytes < body.length; at += chunkBytes) {
    if (!(await writeChunk(res, body.subarray(at, at + chunkBytes)))) return
  }
  res.end(body.subarray(Math.floor(Math.max(0, body.length - 1) / chunkBytes) * chunkBytes))
}

/** False when the client went away; waits for 'drain' when the socket buffer is full. */
function writeChunk(res: ServerResponse, chunk: string | Buffer): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false)
  if (res.write(chunk)) return Promise.resolve(true)
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      res.off('drain', onDrain)
      res.off('close', onClose)
      resolve(ok)
    }
    const onDrain = (): void => done(true)
    const onClose = (): void => done(false)
    res.on('drain', onDrain)
    res.on('close', onClose)
  })
}
