/**
 * exec and attach over WebSocket with the binary channel protocols: every message starts with
 * its channel byte (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize). v5.channel.k8s.io adds
 * channel 255, where `[255, n]` closes channel n (the client's way to end stdin); under
 * v4.channel.k8s.io stdin ends only with the connection. After the command the Status goes on
 * the error channel and the socket is closed normally.
 */
import { PassThrough, Writable } from 'node:stream'
import type { WebSocket } from 'ws'
import type { RemoteCommandOptions } from './options.js'
import type { RemoteCommandStatus } from './status.js'
import { ResizeDecoder, type RemoteCommandStreams, type TerminalSize } from './session.js'

export const channelProtocolV5 = 'v5.channel.k8s.io'
export const channelProtocolV4 = 'v4.channel.k8s.io'
/** What kpe speaks, in its order of preference. */
export const webSocketChannelProtocols = [channelProtocolV5, channelProtocolV4] as const

export const channel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4, close: 255 } as const

/**
 * How long a command waits after the handshake before it runs. client-go registers its streams
 * in a goroutine racing the one that reads the socket: a frame read first is dropped ("Unknown
 * stream id"), and a close read first fails the session ("closed all streams", exit 1). Upstream
 * a command starts only after the API server has dialled the kubelet and the runtime has
 * started the process, which takes longer; a toolbox command could finish within the race.
 */
export const clientStreamSetupMs = 50

export interface WebSocketRemoteCommandOptions {
  readonly options: RemoteCommandOptions
  readonly protocol: string
  readonly run: (streams: RemoteCommandStreams) => Promise<RemoteCommandStatus>
}

function channelWriter(ws: WebSocket, id: number): Writable {
  const w = new Writable({
    write(chunk: Buffer, _enc, callback) {
      if (ws.readyState !== ws.OPEN) return callback()
      ws.send(Buffer.concat([Buffer.from([id]), chunk]), { binary: true }, () => callback())
    },
  })
  // A write after the end (a command still printing as the session closes) must not reach the process.
  w.on('error', () => {})
  return w
}

export function serveWebSocketRemoteCommand(ws: WebSocket, o: WebSocketRemoteCommandOptions): void {
  const abort = new AbortController()
  const stdin = o.options.stdin ? new PassThrough() : undefined
  stdin?.on('error', () => {})
  const resizeListeners: ((s: TerminalSize) => void)[] = []
  const resize = new ResizeDecoder()
  const v5 = o.protocol === channelProtocolV5
  ws.on('error', () => {})
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const msg = isBinary ? data : Buffer.from(data)
    if (msg.length === 0) return
    const id = msg[0]!
    const body = msg.subarray(1)
    // Data after the client closed stdin (v5) is dropped, as the kubelet drops it.
    if (id === channel.stdin) { if (stdin && !stdin.writableEnded) stdin.write(body) }
    else if (id === channel.resize) for (const s of resize.push(body)) for (const l of resizeListeners) l(s)
    else if (id === channel.close && v5 && body[0] === channel.stdin) stdin?.end()
  })
  ws.on('close', () => {
    stdin?.end()
    abort.abort()
  })
  const stdout = o.options.stdout ? channelWriter(ws, channel.stdout) : undefined
  const stderr = o.options.stderr ? channelWriter(ws, channel.stderr) : undefined
  const streams: RemoteCommandStreams = {
    stdin, stdout, stderr, tty: o.options.tty, signal: abort.signal,
    onResize: (l) => { resizeListeners.push(l) },
  }
  void (async () => {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, clientStreamSetupMs)
      abort.signal.addEventListener('abort', () => { clearTimeout(timer); resolve() }, { once: true })
    })
    // A client gone before its command started runs nothing.
    if (abort.signal.aborted) return
    const status = await o.run(streams)
    await Promise.all([stdout, stderr].map((w) => (w && !w.writableEnded ? new Promise<void>((resolve) => w.end(resolve)) : undefined)))
    if (ws.readyState !== ws.OPEN) return
    ws.send(Buffer.concat([Buffer.from([channel.error]), Buffer.from(JSON.stringify(status))]), { binary: true }, () => ws.close(1000))
  })()
}
