/**
 * The portforward.k8s.io protocol over a SPDY connection, as the kubelet serves it
 * (pkg/kubelet/cri/streaming/portforward/httpstream.go): per forwarded connection the client
 * opens an error stream and a data stream with the same `requestid` and `port`; once both are
 * there, the pod's port is dialled through the injected backend and bytes flow on the data
 * stream, FIN for FIN. A failure is written on the error stream as kubelet words it; the error
 * stream is closed when the forwarded connection ends. The pod is read fresh for every pair.
 */
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { objectKey, type Pod } from '../api/index.js'
import { headerValue, SpdyServerConnection, type SpdyHeaders, type SpdyStream } from './spdy/index.js'
import type { KubeletDial } from './kubelet-dial.js'

/** What a forwarded connection dials: a pod's IP and port. */
export interface PortForwardPod {
  readonly namespace: string
  readonly name: string
  readonly uid: string
  readonly podIP: string
}

/**
 * Opens TCP connections into pods for the `portforward` subresource (a kubelet's job). `kpe up`
 * wires one over the pod network table; without one the subresource answers 503.
 */
export interface PortForwardBackend extends KubeletDial {
  /** Rejects with the reason, worded for "error forwarding port P to pod …: <reason>". */
  dial(pod: PortForwardPod, port: number): Promise<Socket>
}

export interface PortForwardOptions {
  readonly backend: PortForwardBackend
  /** The pod as it is now (undefined once deleted). */
  readonly pod: () => Pod | undefined
  /** kubelet's streamCreationTimeout: how long half a pair waits for the other half. Default 30 s. */
  readonly streamCreationTimeoutMs?: number
  readonly log?: (line: string) => void
}

export const streamTypeHeader = 'streamtype'
export const portHeader = 'port'
export const requestIdHeader = 'requestid'

interface StreamPair {
  error?: SpdyStream
  data?: SpdyStream
  readonly timer: NodeJS.Timeout
}

/** kubelet's header checks on a new stream (httpStreamReceived). */
export function validatePortForwardStream(headers: SpdyHeaders): string | undefined {
  const type = headerValue(headers, streamTypeHeader)
  if (type !== 'error' && type !== 'data') return `invalid stream type ${JSON.stringify(type ?? '')}`
  const port = headerValue(headers, portHeader) ?? ''
  if (port === '') return `"${portHeader}" header is required`
  if (!/^\d+$/.test(port) || Number(port) > 65535) return `unable to parse "${port}" as a port`
  if (Number(port) < 1) return `port "${port}" must be > 0`
  return undefined
}

/**
 * The pair key. Clients before requestid headers existed get kubelet's best effort: the error
 * stream's id, which is the data stream's id minus 2 when connections are not concurrent.
 */
function requestIdOf(stream: SpdyStream): string {
  const id = headerValue(stream.headers, requestIdHeader)
  if (id !== undefined && id !== '') return id
  return String(headerValue(stream.headers, streamTypeHeader) === 'error' ? stream.id : stream.id - 2)
}

export function servePortForward(transport: Duplex, o: PortForwardOptions): SpdyServerConnection {
  const pairs = new Map<string, StreamPair>()
  const timeoutMs = o.streamCreationTimeoutMs ?? 30_000
  return new SpdyServerConnection(transport, {
    validate: validatePortForwardStream,
    ...(o.log ? { log: o.log } : {}),
    onClose() {
      // A half pair's streams were reset with the connection; its timer must not hold them 30 s more.
      for (const pair of pairs.values()) clearTimeout(pair.timer)
      pairs.clear()
    },
    onStream(stream) {
      // Errors show up as 'close' (and the reset reason); nothing here may throw at the process.
      stream.on('error', () => {})
      const requestId = requestIdOf(stream)
      const type = headerValue(stream.headers, streamTypeHeader) === 'error' ? 'error' : 'data'
      let pair = pairs.get(requestId)
      if (!pair) {
        const timer = setTimeout(() => {
          pairs.delete(requestId)
          if (pair?.error) pair.error.end('timed out waiting for streams')
          pair?.data?.end()
        }, timeoutMs).unref()
        pair = { timer }
        pairs.set(requestId, pair)
      }
      if (pair[type]) {
        o.log?.(`port-forward request ${requestId}: ${type} stream already assigned`)
        stream.destroy()
        return
      }
      pair[type] = stream
      if (pair.error && pair.data) {
        clearTimeout(pair.timer)
        pairs.delete(requestId)
        void forwardPair(pair.error, pair.data, o)
      }
    },
  })
}

async function forwardPair(errorStream: SpdyStream, data: SpdyStream, o: PortForwardOptions): Promise<void> {
  // The client half-closes the error stream at once and only reads it.
  errorStream.resume()
  const port = Number(headerValue(data.headers, portHeader))
  const pod = o.pod()
  const name = pod ? objectKey(pod, 'default') : 'unknown'
  const fail = (reason: string): void => {
    o.log?.(`port-forward ${name}:${port}: ${reason}`)
    errorStream.end(`error forwarding port ${port} to pod ${name}, uid ${pod?.metadata.uid ?? ''}: ${reason}`)
    data.end()
  }
  if (!pod) return fail('pod not found')
  const podIP = pod.status?.podIP
  if (pod.status?.phase !== 'Running' || !podIP) return fail(`pod is not running (phase ${pod.status?.phase ?? 'Pending'})`)
  let socket: Socket
  try {
    socket = await o.backend.dial({ namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '', podIP }, port)
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e))
  }
  if (data.destroyed) {
    socket.destroy()
    errorStream.end()
    return
  }
  relay(socket, data, () => errorStream.end())
}

/** Bytes both ways with backpressure; FIN for FIN; a reset on either side tears down both. */
function relay(socket: Socket, data: SpdyStream, done: () => void): void {
  socket.on('error', () => data.destroy())
  data.on('close', () => {
    if (data.resetReason !== undefined) socket.destroy()
  })
  socket.on('close', () => {
    if (!data.writableEnded) data.destroy()
    done()
  })
  data.pipe(socket)
  socket.pipe(data)
}
