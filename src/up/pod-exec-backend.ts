/**
 * The kubelet's side of `kubectl exec` and `kubectl attach` for `kpe up`: commands run in the
 * pod toolbox (never as host processes; `--allow-exec` pods are the one exception, see
 * host-exec.ts); attach runs a toolbox container's own command once, bound to the client (what
 * `kubectl run -i` needs), and otherwise streams what the container writes from now on (an
 * emulated server's request lines, from its kubelet's container log) until the client leaves or
 * the container ends.
 */
import type { Readable } from 'node:stream'
import type { Pod } from '../api/index.js'
import type { RemoteCommandBackend, RemoteCommandStreams, RemoteCommandTarget } from '../apiserver/index.js'
import { isToolboxCommand, runToolbox, type CommandIO } from '../kubelet/index.js'
import type { KubeletReachability } from './kubelet-reachability.js'
import type { PodToolboxContexts } from './pod-toolbox.js'

/** Runs a command for exec when the pod is a real process (`--allow-exec`); undefined leaves it to the toolbox. */
export type HostExec = (target: RemoteCommandTarget, command: readonly string[], streams: RemoteCommandStreams) => Promise<number> | undefined

/** A terminal turns "\n" into "\r\n" on output (onlcr); kubectl's raw terminal relies on it. */
function outputOf(w: NodeJS.WritableStream | undefined, tty: boolean): (data: string | Buffer) => void {
  if (!w) return () => {}
  return (data) => {
    // The client may be gone (its stream ended) while a command still writes.
    if ((w as NodeJS.WritableStream & { writableEnded?: boolean; destroyed?: boolean }).writableEnded || (w as { destroyed?: boolean }).destroyed) return
    const b = Buffer.isBuffer(data) ? data : Buffer.from(data)
    w.write(tty ? Buffer.from(b.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1') : b)
  }
}

export function commandIO(streams: RemoteCommandStreams): CommandIO {
  const stdout = outputOf(streams.stdout, streams.tty)
  return {
    stdin: streams.stdin as Readable | undefined,
    stdout,
    // With a terminal there is one output stream, as in a real pod.
    stderr: streams.stderr ? outputOf(streams.stderr, false) : streams.tty ? stdout : () => {},
    signal: streams.signal,
    tty: streams.tty,
  }
}

/** A container's output from now on, or undefined when its kubelet does not run it. */
export type ContainerOutput = (target: RemoteCommandTarget) => Readable | undefined

export class PodRemoteCommand implements RemoteCommandBackend {
  readonly #contexts: PodToolboxContexts
  readonly #hostExec: HostExec | undefined
  /** Containers whose own toolbox command already ran on an attach (pod UID/container). */
  readonly #ran = new Set<string>()
  #output: ContainerOutput | undefined
  #reachability: KubeletReachability | undefined

  constructor(contexts: PodToolboxContexts, hostExec?: HostExec) {
    this.#contexts = contexts
    this.#hostExec = hostExec
  }

  /** Where attach reads a running container's output (kpe up's kubelets, once they run). */
  attachOutput(output: ContainerOutput): void {
    this.#output = output
  }

  /** How to tell that a pod's kubelet is down (kpe node stop); see kubelet-reachability.ts. */
  useKubeletReachability(reachability: KubeletReachability): void {
    this.#reachability = reachability
  }

  kubeletUnreachable(pod: Pod): string | undefined {
    return this.#reachability?.(pod.spec?.nodeName)?.error
  }

  async exec(target: RemoteCommandTarget, command: readonly string[], streams: RemoteCommandStreams): Promise<number> {
    const host = this.#hostExec?.(target, command, streams)
    if (host) return host
    return runToolbox(command, commandIO(streams), this.#contexts.context(target.pod, target.container))
  }

  async attach(target: RemoteCommandTarget, streams: RemoteCommandStreams): Promise<void> {
    const c = (target.pod.spec.containers ?? []).find((x) => x.name === target.container)
    const argv = [...(c?.command ?? []), ...(c?.args ?? [])]
    const key = `${target.pod.metadata.uid ?? ''}/${target.container}`
    if (c && isToolboxCommand(argv[0]) && !this.#ran.has(key)) {
      this.#ran.add(key)
      await runToolbox(argv, commandIO(streams), this.#contexts.context(target.pod, target.container))
      return
    }
    streams.stdin?.resume()
    const output = this.#output?.(target)
    await new Promise<void>((resolve) => {
      const done = (): void => { output?.destroy(); resolve() }
      if (streams.signal.aborted) return done()
      streams.signal.addEventListener('abort', done, { once: true })
      if (!output) return
      const write = commandIO(streams).stdout
      output.on('data', (chunk: Buffer) => write(chunk))
      output.once('end', done)
      output.once('error', done)
    })
  }
}
