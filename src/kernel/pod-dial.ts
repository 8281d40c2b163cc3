/**
 * A connection from inside a pod's own namespace (the pod toolbox: `kubectl exec client -- curl`):
 * the pod's agent dials, the kernel of the pod's node decides, and the connection log records
 * what happened; for a connection, the endpoint conntrack's reply tuple names on the pod's node.
 */
import type { Duplex } from 'node:stream'
import { DialError } from '../kubelet/index.js'
import type { NetnsRunner } from '../lab/index.js'
import { findByOriginal, handInFailure, parseConntrackTable } from '../netns/index.js'
import { podToolboxEntry } from '../up/index.js'
import type { ConnectionLog, ConnectionRecord } from '../proxy/userspace/index.js'
import type { PodAgent } from './pod-agent.js'

/** How long a dial that nobody answers (a DROP) waits: Linux's default SYN retries, about 127 s. */
const dropGiveUpMs = 127_000

export interface PodDialLog {
  readonly log: ConnectionLog
  readonly podByIP: (ip: string) => string | undefined
  readonly describeDestination: (host: string, port: number) => string
}

export interface PodDialRequest {
  /** The dialling pod as the log names it: `namespace/name (podIP)`. */
  readonly pod: string
  readonly node: string
  readonly host: string
  readonly port: number
  readonly signal: AbortSignal
}

export async function dialFromPod(agent: PodAgent, r: PodDialRequest, log?: PodDialLog & { readonly conntrack: NetnsRunner }): Promise<Duplex> {
  const base = { at: Date.now(), entry: podToolboxEntry, client: `pod ${r.pod}`, destination: log?.describeDestination(r.host, r.port) ?? `${r.host} port ${r.port}/tcp`, node: r.node }
  const dialed = agent.dial({ host: r.host, port: r.port, timeoutMs: dropGiveUpMs })
  const aborted = new Promise<never>((_, reject) => {
    const fail = (): void => reject(new DialError('timeout', `connect to ${r.host}:${r.port} timed out`))
    if (r.signal.aborted) fail()
    else r.signal.addEventListener('abort', fail, { once: true })
  })
  // An abandoned dial that connects later is closed at once.
  dialed.then((c) => { if (r.signal.aborted) c.socket.destroy() }, () => {})
  try {
    const c = await Promise.race([dialed, aborted])
    if (log) void recordEndpoint(log, base, c.local, r)
    return c.socket
  } catch (err) {
    if (err instanceof DialError) {
      log?.log.add({ ...base, verdict: 'drop', reason: 'no answer before the caller gave up (a DROP, or a slow endpoint)' })
      throw err
    }
    const code = String((err as { code?: unknown }).code ?? 'EIO')
    const kind = handInFailure(code)
    const message = err instanceof Error ? err.message : String(err)
    log?.log.add({ ...base, verdict: kind === 'refused' ? 'reject' : kind === 'dropped' ? 'drop' : 'unreachable', reason: `the kernel answered ${code}` })
    throw new DialError(kind === 'dropped' ? 'timeout' : kind, message)
  }
}

/** The endpoint the pod's node chose, from its conntrack entry for this connection's original tuple. */
async function recordEndpoint(log: PodDialLog & { readonly conntrack: NetnsRunner }, base: Omit<ConnectionRecord, 'verdict'>, local: { readonly address: string; readonly port: number }, { host, port }: Pick<PodDialRequest, 'host' | 'port'>): Promise<void> {
  let record: ConnectionRecord = { ...base, verdict: 'forward', seen: `${local.address}:${local.port}`, reason: `no conntrack entry on ${base.node} for ${local.address}:${local.port}` }
  try {
    const out = await log.conntrack(['conntrack', '-L', '-p', 'tcp', '--orig-src', local.address, '--orig-port-src', String(local.port)], { onNonZeroExit: 'return', timeoutMs: 5000 })
    const e = findByOriginal(parseConntrackTable(out.stdout), 'tcp', { src: local.address, sport: local.port, dst: host, dport: port })
    if (e) {
      const pod = log.podByIP(e.reply.src)
      record = { ...base, verdict: 'forward', endpoint: `${e.reply.src}:${e.reply.sport}`, seen: `${e.reply.dst}:${e.reply.dport}`, ...(pod ? { pod } : {}) }
    }
  } catch {
    // The node's namespace went away (kpe stopping): the record keeps the dial's own result.
  }
  log.log.add(record)
}
