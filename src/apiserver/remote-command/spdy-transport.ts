/**
 * exec and attach over SPDY/3.1 (channel protocol v4.channel.k8s.io), as the kubelet serves
 * them: the client opens one stream per channel with a `streamType` header (error, stdin,
 * stdout, stderr, resize); the command starts once every stream the query asked for is there
 * (or fails after the stream creation timeout). Output ends with FIN, then the Status is written
 * on the error stream and the connection is closed.
 */
import type { Duplex } from 'node:stream'
import { headerValue, SpdyServerConnection, type SpdyStream } from '../spdy/index.js'
import type { RemoteCommandOptions } from './options.js'
import { internalErrorStatus, type RemoteCommandStatus } from './status.js'
import { ResizeDecoder, type RemoteCommandStreams, type TerminalSize } from './session.js'

const streamTypes = ['error', 'stdin', 'stdout', 'stderr', 'resize'] as const
type StreamType = (typeof streamTypes)[number]

export interface SpdyRemoteCommandOptions {
  readonly options: RemoteCommandOptions
  readonly run: (streams: RemoteCommandStreams) => Promise<RemoteCommandStatus>
  /** kubelet's streamCreationTimeout. Default 30 s. */
  readonly streamCreationTimeoutMs?: number
  readonly log?: (line: string) => void
}

function expectedStreams(o: RemoteCommandOptions): Set<StreamType> {
  const want = new Set<StreamType>(['error'])
  if (o.stdin) want.add('stdin')
  if (o.stdout) want.add('stdout')
  if (o.stderr) want.add('stderr')
  if (o.tty) want.add('resize')
  return want
}

export function serveSpdyRemoteCommand(transport: Duplex, o: SpdyRemoteCommandOptions): SpdyServerConnection {
  const want = expectedStreams(o.options)
  const got = new Map<StreamType, SpdyStream>()
  const abort = new AbortController()
  const resizeListeners: ((s: TerminalSize) => void)[] = []
  let started = false
  const timer = setTimeout(() => {
    o.log?.(`remote command: timed out waiting for client to create streams (have ${[...got.keys()].join(', ') || 'none'})`)
    got.get('error')?.end(JSON.stringify(internalErrorStatus('executing command in', new Error('timed out waiting for client to create streams'))))
    conn.close()
  }, o.streamCreationTimeoutMs ?? 30_000)
  timer.unref()

  const start = async (): Promise<void> => {
    started = true
    clearTimeout(timer)
    const errorStream = got.get('error')!
    errorStream.resume()
    const resize = got.get('resize')
    if (resize) {
      const decoder = new ResizeDecoder()
      resize.on('data', (chunk: Buffer) => { for (const s of decoder.push(chunk)) for (const l of resizeListeners) l(s) })
    }
    const stdout = got.get('stdout')
    const stderr = got.get('stderr')
    const streams: RemoteCommandStreams = {
      stdin: got.get('stdin'), stdout, stderr, tty: o.options.tty, signal: abort.signal,
      onResize: (l) => { resizeListeners.push(l) },
    }
    const status = await o.run(streams)
    if (abort.signal.aborted) return
    await Promise.all([stdout, stderr].map((s) => endStream(s)))
    errorStream.end(JSON.stringify(status), () => conn.close())
  }

  const conn: SpdyServerConnection = new SpdyServerConnection(transport, {
    validate(headers) {
      const type = headerValue(headers, 'streamtype') ?? ''
      if (!(streamTypes as readonly string[]).includes(type)) return `unexpected stream type: ${JSON.stringify(type)}`
      if (started || got.has(type as StreamType)) return `${type} stream already assigned`
      return undefined
    },
    ...(o.log ? { log: o.log } : {}),
    onClose() {
      clearTimeout(timer)
      abort.abort()
    },
    onStream(stream) {
      stream.on('error', () => {})
      const type = headerValue(stream.headers, 'streamtype') as StreamType
      got.set(type, stream)
      // A stream the query did not ask for is still accepted and drained, as the kubelet does.
      if (!want.has(type)) stream.resume()
      if (!started && [...want].every((t) => got.has(t))) void start()
    },
  })
  return conn
}

/** Sends FIN on an output stream and waits for it to be written. */
function endStream(s: SpdyStream | undefined): Promise<void> {
  if (!s || s.writableEnded || s.destroyed) return Promise.resolve()
  return new Promise((resolve) => {
    s.once('close', resolve)
    s.end(() => resolve())
  })
}
