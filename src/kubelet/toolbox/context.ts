/**
 * What a toolbox command sees: its pod (names and addresses), its container's environment and
 * files, the resolver and the dialer (injected: `kpe up` dials through the node's dataplane as
 * the pod, and resolves through cluster names or a DNS server), and its standard streams.
 */
import type { Duplex, Readable } from 'node:stream'
import type { MemoryFilesystem } from './memory-filesystem.js'
import type { PodResolvConf } from '../../dns/index.js'

export interface ToolboxPod {
  readonly namespace: string
  readonly name: string
  readonly hostname: string
  readonly podIPs: readonly string[]
  readonly nodeName: string
  /** The node's pod CIDR prefix length, for `ip addr` (default 24). */
  readonly podCIDRPrefix?: number
}

/**
 * Answers DNS questions for a pod: the addresses of an absolute name, [] when it does not exist
 * (NXDOMAIN). kpe up implements it over its cluster names; a DNS server can take its place.
 */
export interface PodResolver {
  lookup(fqdn: string, signal: AbortSignal): Promise<readonly string[]>
}

/** Why a dial failed, in the words curl and wget use. */
export class DialError extends Error {
  constructor(readonly why: 'refused' | 'unreachable' | 'timeout', message: string) {
    super(message)
  }
}

/** Opens TCP connections as the pod (source = its IP, through its node's rules). */
export interface PodDialer {
  dial(ip: string, port: number, signal: AbortSignal): Promise<Duplex>
}

export interface ToolboxContext {
  readonly pod: ToolboxPod
  readonly env: ReadonlyMap<string, string>
  readonly files: MemoryFilesystem
  readonly resolvConf: PodResolvConf
  readonly resolver: PodResolver
  readonly dialer: PodDialer
  readonly now: () => number
}

export interface CommandIO {
  readonly stdin: Readable | undefined
  readonly stdout: (data: string | Buffer) => void
  readonly stderr: (data: string | Buffer) => void
  readonly signal: AbortSignal
  /** Whether stdin/stdout are a terminal (kubectl exec -t). */
  readonly tty: boolean
}

/** The shell state a command runs in: the toolbox context, variables and working directory. */
export interface CommandScope {
  readonly ctx: ToolboxContext
  readonly vars: Map<string, string>
  cwd: string
}

export type Command = (args: readonly string[], io: CommandIO, scope: CommandScope) => Promise<number>

/** All of stdin (empty when there is none). */
export async function readAll(stdin: Readable | undefined, limit = 64 * 1024 * 1024): Promise<Buffer> {
  if (!stdin) return Buffer.alloc(0)
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of stdin) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(String(c))
    size += b.length
    if (size > limit) throw new Error(`stdin is larger than ${limit} bytes`)
    chunks.push(b)
  }
  return Buffer.concat(chunks)
}

/** Sleeps, or resolves early (false) when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false)
  return new Promise((resolve) => {
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(true) }, ms)
    const onAbort = (): void => { clearTimeout(timer); resolve(false) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
