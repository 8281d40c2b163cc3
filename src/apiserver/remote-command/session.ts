/**
 * The transport-neutral side of exec and attach: the streams a command sees, the backend that
 * runs it (a kubelet's job; `kpe up` plugs one in), and the one place a command's outcome
 * becomes the error channel's Status. Both transports (SPDY, WebSocket) build the streams and
 * call runRemoteCommand; neither knows what runs.
 */
import type { Readable, Writable } from 'node:stream'
import type { Pod } from '../../api/index.js'
import type { KubeletDial } from '../kubelet-dial.js'
import type { RemoteCommandOptions } from './options.js'
import { exitStatus, internalErrorStatus, type RemoteCommandStatus } from './status.js'

/** A terminal size as the resize channel carries it. */
export interface TerminalSize {
  readonly width: number
  readonly height: number
}

export interface RemoteCommandStreams {
  /** Present when the client asked for stdin; it ends when the client closes its side. */
  readonly stdin: Readable | undefined
  readonly stdout: Writable | undefined
  readonly stderr: Writable | undefined
  readonly tty: boolean
  /** Called with each size the client sends (tty only). */
  onResize(listener: (size: TerminalSize) => void): void
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal
}

/** The pod and container a request is for, read when it was accepted. */
export interface RemoteCommandTarget {
  readonly pod: Pod
  readonly namespace: string
  readonly name: string
  readonly container: string
}

/** Runs commands in pods for the exec and attach subresources; without one they answer 503. */
export interface RemoteCommandBackend extends KubeletDial {
  /** Resolves with the command's exit code; rejects when it could not be run at all. */
  exec(target: RemoteCommandTarget, command: readonly string[], streams: RemoteCommandStreams): Promise<number>
  /** Resolves when the attach ends (the container's output ended or the client left). */
  attach(target: RemoteCommandTarget, streams: RemoteCommandStreams): Promise<void>
}

/** Runs the request's command and turns its outcome into the Status for the error channel. */
export async function runRemoteCommand(backend: RemoteCommandBackend, target: RemoteCommandTarget, o: RemoteCommandOptions, streams: RemoteCommandStreams): Promise<RemoteCommandStatus> {
  try {
    if (o.kind === 'attach') {
      await backend.attach(target, streams)
      return exitStatus([], 0)
    }
    return exitStatus(o.command, await backend.exec(target, o.command, streams))
  } catch (e) {
    return internalErrorStatus(o.kind === 'exec' ? 'executing command in' : 'attaching to', e)
  }
}

/** Parses the resize channel's JSON objects (`{"Width":80,"Height":24}`), which may arrive split or glued. */
export class ResizeDecoder {
  #buffer = ''

  push(chunk: Buffer | string): TerminalSize[] {
    this.#buffer += chunk.toString()
    // A client sends a handful of small objects; anything longer is not a size.
    if (this.#buffer.length > 4096) this.#buffer = ''
    const out: TerminalSize[] = []
    for (let end = this.#buffer.indexOf('}'); end >= 0; end = this.#buffer.indexOf('}')) {
      const text = this.#buffer.slice(0, end + 1)
      this.#buffer = this.#buffer.slice(end + 1)
      try {
        const v = JSON.parse(text.slice(text.indexOf('{'))) as { Width?: unknown; Height?: unknown }
        if (Number.isInteger(v.Width) && Number.isInteger(v.Height)) out.push({ width: v.Width as number, height: v.Height as number })
      } catch {
        // not a size: skipped, as the kubelet logs and skips it
      }
    }
    return out
  }
}
