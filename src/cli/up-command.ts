/**
 * `kpe up --control-plane-only`: starts the control plane (store, API server, allocators,
 * controllers) from a data dir and a cluster configuration file, applies -f manifests, prints
 * the address and kubeconfig path, and runs until SIGINT/SIGTERM, then stops cleanly.
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { applyManifestDocuments, defaultClusterConfig, parseClusterConfig, parseManifestDocuments, startControlPlane, type ClusterConfig, type ManifestDocument } from '../cluster/index.js'
import type { EndpointSlice, Node, Pod, Service } from '../api/index.js'
import { parseTokenFile, TokenFileError, type ApiServerLimits } from '../apiserver/index.js'
import { InputError, UsageError } from '../errors.js'
import { printable } from '../printable.js'
import type { UserspaceLimits } from '../proxy/userspace/index.js'
import { withScaleNodes } from '../cluster/index.js'
import { kernelDataplane, kernelDataplaneUnavailable } from '../kernel/index.js'
import { renderUpSummary, startCluster, type NodeHealthOptions, type RunningCluster, type StartClusterOptions } from '../up/index.js'
import { parseStoreFlags, storeFlagOptions, storeFlagsHelp } from './store-flags.js'

export const defaultDataDir = '.kpe'
const defaultDnsPort = 1053
const defaultIngressPort = 8088
const defaultIngressTlsPort = 8443

export const upHelp = `usage: kpe up [-f FILE ...] [--data-dir DIR] [--port N] [--cluster-config FILE] [entry-point flags]
       kpe up --control-plane-only [--data-dir DIR] [--port N] [--cluster-config FILE] [-f FILE ...]

Starts a cluster on this machine, without root: the control plane (API server, allocators,
controllers, scheduler) and, per node, a kubelet running pods as loopback servers, a kube-proxy
loop, and a userspace dataplane that carries traffic the way the node's rules say. Runs until
interrupted (Ctrl-C, SIGTERM). State persists in the data dir.

  --control-plane-only    start only the control plane
  --data-dir DIR          where the store, kubeconfig and server.json live (default ${defaultDataDir})
  --port N                API server port on 127.0.0.1 (default 6443; 0 picks a free one)
  --cluster-config FILE   a KpeCluster file (docs/cluster-config.md); default: built-in demo cluster
  -f, --filename FILE     manifests to apply once the control plane is up (repeatable)
  --fake-kubelet          with --control-plane-only: report every scheduled Pod Running and Ready
  --socks-port N          SOCKS5 entry point on 127.0.0.1 (default 1080)
  --http-proxy-port N     HTTP forward-proxy entry point on 127.0.0.1 (default 8118)
  --dns-port N            cluster DNS (UDP and TCP) on 127.0.0.1 (default 1053; 0: off); in the
                          cluster it is the kube-dns Service (docs/labs/dns.md)
  --ingress-port N        the Ingress controller (IngressClass kpe) over HTTP on 127.0.0.1
                          (default 8088; 0: off; docs/labs/ingress.md)
  --ingress-tls-port N    the same over HTTPS, certificates from the Ingresses' TLS Secrets
                          (default 8443; 0: off)
  --metrics-port N        /metrics, /rules/NODE, /connections on 127.0.0.1 (default 10249, as kube-proxy)
  --node-loopback-prefix P  node N's NodePorts listen on P<N> (default 127.0.10.)
  --allow-exec            run a container's command as a real process: anyone who can create a
                          Pod runs programs as you (docs/security.md)
  --dataplane D           userspace (default) or kernel: nodes and pods as network namespaces in
                          a user namespace (no root), each node's rules loaded into its kernel
                          (docs/labs/kernel.md; kpe node exec NODE -- iptables-save)
  --rootless=false        with --dataplane kernel: build with root (not supported yet)

Scale (docs/scale.md):
  --nodes N               N more Nodes (node-0000, ...) beyond the configuration's; lightweight unless
                          named in --real-nodes: Ready, Pods Running with IPs, no listeners, no dataplane
  --real-nodes A,B,...    the nodes that run a kubelet with pod servers, kube-proxy and a dataplane
                          (default: the configuration's nodes)

Events and node failure (docs/labs/node-failure.md):
  --event-ttl DURATION                 events are deleted this long after their last update (default 1h)
  --node-monitor-grace-period DURATION a node whose Lease is not renewed this long turns NotReady (default 40s)
  --default-unreachable-toleration-seconds N  tolerationSeconds of the unreachable NoExecute taint
                                       new pods get: their eviction delay (default 300)

Security (docs/security.md):
  --token-file FILE       require a bearer token from FILE (kube-apiserver's static token file:
                          token,user,uid[,"group1,group2"]); the kubeconfig carries the first
  --tls                   serve HTTPS with a self-signed CA kept in DATA_DIR/pki

Limits (docs/security.md; DURATION is like 500ms, 10s, 5m):
  --api-max-connections N              open connections to the API server (default 1024)
  --api-header-timeout DURATION        time to send a request head (default 10s)
  --watch-buffer-bytes N               unread bytes before a watch ends with 410 (default 8Mi)
  --store-quota N                      live objects' size in the store before writes are refused
                                       (default 2Gi; docs/store.md)
  --entry-max-connections N            connections per entry-point listener (default 1024)
  --entry-handshake-timeout DURATION   SOCKS5 handshake, HTTP proxy request head, NodePort
                                       first byte (default 10s)
  --entry-idle-timeout DURATION        forwarded connection idle both ways (default 5m)

${storeFlagsHelp}`

/** What the command needs from the process; tests pass their own. */
export interface UpIO {
  write(text: string): void
  /** Resolves with the signal's name when the process is asked to stop. */
  waitForStop(): Promise<string>
}

export const processUpIO: UpIO = {
  write: (text) => { process.stdout.write(text) },
  waitForStop: () => new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', on)
      process.off('SIGTERM', on)
      resolve(sig)
    }
    process.on('SIGINT', on)
    process.on('SIGTERM', on)
  }),
}

function parseDuration(text: string, flag: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text)
  if (!m || Number(m[1]) === 0) throw new UsageError(`${flag} ${text}: not a duration`, { hint: 'use a number with ms, s, m or h, e.g. 10s' })
  return Number(m[1]) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h']
}

function parseCount(text: string, flag: string, units: Record<string, number> = {}): number {
  const m = /^(\d+)([A-Za-z]*)$/.exec(text)
  const unit = m ? units[m[2]!] ?? (m[2] === '' ? 1 : undefined) : undefined
  if (!m || unit === undefined || Number(m[1]) === 0) {
    throw new UsageError(`${flag} ${text}: not a positive number${Object.keys(units).length > 0 ? ` (units: ${Object.keys(units).join(', ')})` : ''}`)
  }
  return Number(m[1]) * unit
}

const byteUnits = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }

type FlagValues = Record<string, string | boolean | string[] | undefined>

type ControlPlaneFlags = Pick<StartClusterOptions, 'apiLimits' | 'tokenFile' | 'tls' | 'storeQuotaBytes' | 'etcd'>

/** The control plane's flags: API server limits, store quota, token file, TLS. */
async function apiServerSecurity(values: FlagValues): Promise<ControlPlaneFlags> {
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined)
  const limits: { -readonly [K in keyof ApiServerLimits]?: ApiServerLimits[K] } = {}
  if (str('api-max-connections')) limits.maxConnections = parseCount(str('api-max-connections')!, '--api-max-connections')
  if (str('api-header-timeout')) limits.headersTimeoutMs = parseDuration(str('api-header-timeout')!, '--api-header-timeout')
  if (str('watch-buffer-bytes')) limits.watchBufferBytes = parseCount(str('watch-buffer-bytes')!, '--watch-buffer-bytes', byteUnits)
  const file = str('token-file')
  let tokenFile: StartClusterOptions['tokenFile']
  if (file !== undefined) {
    try {
      tokenFile = { path: file, tokens: parseTokenFile(await readText(file), file) }
    } catch (e) {
      if (e instanceof TokenFileError) throw new InputError({ file }, e.message.replace(`${file}: `, ''))
      throw e
    }
  }
  const quota = str('store-quota')
  return {
    apiLimits: limits, ...(tokenFile ? { tokenFile } : {}), ...(values['tls'] === true ? { tls: true } : {}),
    ...(quota ? { storeQuotaBytes: parseCount(quota, '--store-quota', byteUnits) } : {}), ...(await parseStoreFlags(values)),
  }
}

/** Event TTL, node monitor grace period and the default unreachable toleration. */
function nodeHealthFlags(values: FlagValues): NodeHealthOptions {
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined)
  const seconds = str('default-unreachable-toleration-seconds')
  if (seconds !== undefined && !/^\d{1,9}$/.test(seconds)) throw new UsageError(`--default-unreachable-toleration-seconds ${seconds}: not a whole number of seconds`)
  return {
    ...(str('event-ttl') ? { eventTtlMs: parseDuration(str('event-ttl')!, '--event-ttl') } : {}),
    ...(str('node-monitor-grace-period') ? { nodeMonitorGracePeriodMs: parseDuration(str('node-monitor-grace-period')!, '--node-monitor-grace-period') } : {}),
    ...(seconds !== undefined ? { unreachableTolerationSeconds: Number(seconds) } : {}),
  }
}

/** The entry points' per-listener limits. */
function entryLimits(values: FlagValues): Partial<UserspaceLimits> {
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined)
  return {
    ...(str('entry-max-connections') ? { maxConnections: parseCount(str('entry-max-connections')!, '--entry-max-connections') } : {}),
    ...(str('entry-handshake-timeout') ? { headerTimeoutMs: parseDuration(str('entry-handshake-timeout')!, '--entry-handshake-timeout') } : {}),
    ...(str('entry-idle-timeout') ? { idleTimeoutMs: parseDuration(str('entry-idle-timeout')!, '--entry-idle-timeout') } : {}),
  }
}

/** --nodes and --real-nodes: the configuration with the added nodes, and which nodes run agents. */
function scaleFlags(values: FlagValues, fixture: ClusterConfig): { config: ClusterConfig; realNodes: readonly string[] | undefined } {
  const count = typeof values['nodes'] === 'string' ? values['nodes'] : undefined
  const real = typeof values['real-nodes'] === 'string' ? values['real-nodes'] : undefined
  if (count !== undefined && (!/^\d{1,6}$/.test(count) || Number(count) === 0)) throw new UsageError(`--nodes ${count}: not a whole number of nodes between 1 and 999999`)
  if (values['control-plane-only'] && (count !== undefined || real !== undefined)) throw new UsageError(`--${count !== undefined ? 'nodes' : 'real-nodes'} starts node agents; it does not go with --control-plane-only`)
  const realNodes = real?.split(',').map((n) => n.trim()).filter((n) => n !== '')
  if (realNodes && realNodes.length === 0) throw new UsageError('--real-nodes: name at least one node (the entry points need a dataplane)')
  if (count === undefined) return { config: fixture, realNodes }
  return { config: withScaleNodes(fixture, Number(count)), realNodes: realNodes ?? fixture.nodes.map((n) => n.name) }
}

function parsePort(text: string | undefined, fallback = 6443, flag = '--port'): number {
  if (text === undefined) return fallback
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new UsageError(`${flag} ${text}: not a port number`, { hint: 'use 0 to pick a free port' })
  return Number(text)
}

interface ClusterRun {
  readonly values: FlagValues
  readonly dataDir: string
  readonly port: number
  readonly config: ClusterConfig
  readonly docs: ManifestDocument[]
  readonly security: ControlPlaneFlags
  readonly entryLimits: Partial<UserspaceLimits>
  readonly realNodes: readonly string[] | undefined
}

/** The whole cluster: control plane, node agents, entry points; a summary once pods are ready. */
async function runCluster(r: ClusterRun, io: UpIO): Promise<void> {
  const str = (k: string): string | undefined => (typeof r.values[k] === 'string' ? (r.values[k] as string) : undefined)
  const cluster = await startCluster({
    dataDir: r.dataDir,
    apiPort: r.port,
    config: r.config,
    manifests: r.docs,
    socksPort: parsePort(str('socks-port'), 1080, '--socks-port'),
    httpProxyPort: parsePort(str('http-proxy-port'), 8118, '--http-proxy-port'),
    metricsPort: parsePort(str('metrics-port'), 10249, '--metrics-port'),
    dnsPort: parsePort(str('dns-port'), defaultDnsPort, '--dns-port'),
    ...(str('dns-port') === undefined ? { dnsPortIsDefault: true } : {}),
    ingressPort: parsePort(str('ingress-port'), defaultIngressPort, '--ingress-port'),
    ingressTlsPort: parsePort(str('ingress-tls-port'), defaultIngressTlsPort, '--ingress-tls-port'),
    ...(str('ingress-port') === undefined && str('ingress-tls-port') === undefined ? { ingressPortsAreDefault: true } : {}),
    ...(str('node-loopback-prefix') ? { nodeLoopbackPrefix: str('node-loopback-prefix')! } : {}),
    ...(r.values['allow-exec'] === true ? { allowExec: true } : {}),
    ...r.security,
    entryLimits: r.entryLimits,
    nodeHealth: nodeHealthFlags(r.values),
    ...(r.realNodes ? { realNodes: r.realNodes } : {}),
    ...(r.values['dataplane'] === 'kernel' ? { kernel: kernelDataplane() } : {}),
    // One event, one line: whatever a client managed to get into a message is escaped.
    log: (line) => process.stderr.write(`${printable(line)}\n`),
  })
  try {
    await waitForSettled(cluster, 15_000)
    const store = cluster.controlPlane.store
    const lightweight = new Set(cluster.lightweight?.names ?? [])
    io.write(renderUpSummary({
      nodes: (store.list('nodes').items as unknown as Node[]).filter((n) => !lightweight.has(n.metadata.name ?? '')),
      lightweightNodes: lightweight.size,
      services: store.list('services').items as unknown as Service[],
      endpointSlices: store.list('endpointslices.discovery.k8s.io').items as unknown as EndpointSlice[],
      podNames: store.list('pods').items.map((p) => `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`),
      nodeLoopbacks: cluster.agents.nodeLoopbacks,
      apiUrl: cluster.controlPlane.url,
      kubeconfigPath: cluster.controlPlane.kubeconfigPath,
      socksPort: cluster.agents.proxy.ports.socks,
      httpProxyPort: cluster.agents.proxy.ports.http,
      agentsUrl: cluster.agentServer.url,
      manifests: r.docs.map((d) => d.file).filter((f, i, all) => all.indexOf(f) === i),
      entryPoints: cluster.entryPoints,
      ...(r.security.etcd ? { store: `etcd (${r.security.etcd.endpoints.join(',')}, under ${r.security.etcd.prefix ?? '/registry'})` } : {}),
    }))
    const signal = await io.waitForStop()
    io.write(`kpe up: ${signal} received, stopping\n`)
  } finally {
    await cluster.stop()
  }
}

/**
 * Until the cluster has settled: every pod Ready, no write for a moment, and every node's
 * kube-proxy loop synced after the last write (or the timeout passes: the summary shows what is).
 */
async function waitForSettled(cluster: RunningCluster, timeoutMs: number): Promise<void> {
  const store = cluster.controlPlane.store
  const deadline = Date.now() + timeoutMs
  let lastVersion = store.resourceVersion
  let changedAt = Date.now()
  // What the kube-proxy loops follow: Lease and status writes do not make them sync again, so
  // "synced" is measured against the last Service or EndpointSlice change only (a slow kernel sync
  // would otherwise never catch up with the heartbeats).
  const proxyInputs = (): string => ['services', 'endpointslices.discovery.k8s.io'].flatMap((r) => store.list(r).items.map((o) => `${o.metadata.namespace}/${o.metadata.name}@${o.metadata.resourceVersion}`)).join(',')
  let lastInputs = proxyInputs()
  let inputsChangedAt = changedAt
  while (Date.now() < deadline) {
    if (store.resourceVersion !== lastVersion) {
      lastVersion = store.resourceVersion
      changedAt = Date.now()
      const inputs = proxyInputs()
      if (inputs !== lastInputs) {
        lastInputs = inputs
        inputsChangedAt = changedAt
      }
    }
    const pods = store.list('pods').items as unknown as Pod[]
    const ready = pods.every((p) => p.metadata.deletionTimestamp || p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    // A change that alters no rule (a slice's metadata) makes no sync: an idle loop has nothing left to apply.
    const synced = [...cluster.agents.proxiers.values()].every((p) => (p.stats().lastSyncAt ?? 0) >= inputsChangedAt || (p.idle && p.stats().lastSyncAt !== undefined && Date.now() - inputsChangedAt > 300))
    if (ready && synced && Date.now() - changedAt > 300) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** --dataplane and --rootless, and whether this machine can run the kernel dataplane at all. */
function checkDataplaneFlags(values: FlagValues): void {
  const dataplane = values['dataplane'] ?? 'userspace'
  if (dataplane !== 'userspace' && dataplane !== 'kernel') throw new UsageError(`--dataplane ${String(dataplane)}: not a dataplane`, { hint: 'use userspace or kernel' })
  const rootless = values['rootless']
  if (rootless !== undefined && rootless !== 'true' && rootless !== 'false') throw new UsageError(`--rootless=${String(rootless)}: use --rootless=true or --rootless=false`)
  if (rootless !== undefined && dataplane !== 'kernel') throw new UsageError('--rootless applies to --dataplane kernel only')
  if (dataplane !== 'kernel') return
  if (values['control-plane-only'] === true) throw new UsageError('--dataplane kernel needs the node agents: it cannot be combined with --control-plane-only')
  const why = kernelDataplaneUnavailable({ rootless: rootless !== 'false' })
  if (why !== undefined) throw new UsageError(why, { hint: 'run kpe up without --dataplane kernel for the userspace dataplane' })
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new InputError({ file }, `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  }
}

export async function runUpCommand(argv: string[], io: UpIO = processUpIO): Promise<string> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'control-plane-only': { type: 'boolean' },
      'data-dir': { type: 'string' },
      port: { type: 'string' },
      'cluster-config': { type: 'string' },
      filename: { type: 'string', short: 'f', multiple: true },
      'fake-kubelet': { type: 'boolean' },
      'socks-port': { type: 'string' },
      'http-proxy-port': { type: 'string' },
      'metrics-port': { type: 'string' },
      'dns-port': { type: 'string' },
      'ingress-port': { type: 'string' },
      'ingress-tls-port': { type: 'string' },
      'node-loopback-prefix': { type: 'string' },
      'allow-exec': { type: 'boolean' },
      dataplane: { type: 'string' },
      rootless: { type: 'string' },
      'token-file': { type: 'string' },
      tls: { type: 'boolean' },
      'api-max-connections': { type: 'string' },
      'api-header-timeout': { type: 'string' },
      'watch-buffer-bytes': { type: 'string' },
      'store-quota': { type: 'string' },
      ...storeFlagOptions,
      'entry-max-connections': { type: 'string' },
      'entry-handshake-timeout': { type: 'string' },
      'entry-idle-timeout': { type: 'string' },
      'event-ttl': { type: 'string' },
      'node-monitor-grace-period': { type: 'string' },
      'default-unreachable-toleration-seconds': { type: 'string' },
      nodes: { type: 'string' },
      'real-nodes': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  })
  if (values.help) return upHelp
  const port = parsePort(values.port)
  // Every flag is checked before anything starts.
  const security = await apiServerSecurity(values)
  const entry = entryLimits(values)
  const nodeHealth = nodeHealthFlags(values)
  checkDataplaneFlags(values)
  const dataDir = resolve(values['data-dir'] ?? defaultDataDir)
  const configFile = values['cluster-config']
  const fixture: ClusterConfig = configFile ? parseClusterConfig(await readText(configFile), configFile) : defaultClusterConfig()
  const { config, realNodes } = scaleFlags(values, fixture)
  const docs: ManifestDocument[] = []
  for (const f of values.filename ?? []) docs.push(...parseManifestDocuments(await readText(f), f))
  if (!values['control-plane-only']) {
    await runCluster({ values, dataDir, port, config, docs, security, entryLimits: entry, realNodes }, io)
    return ''
  }
  const cp = await startControlPlane({
    dataDir, port, config, fakeKubelet: values['fake-kubelet'] === true, onWarning: (w) => process.stderr.write(`kpe up: warning: ${printable(w)}\n`),
    ...security,
    // No kubelet renews Leases here: only the event TTL and the default tolerations apply.
    ...(nodeHealth.eventTtlMs !== undefined ? { eventTtlMs: nodeHealth.eventTtlMs } : {}),
    ...(nodeHealth.unreachableTolerationSeconds !== undefined ? { defaultTolerations: { unreachableSeconds: nodeHealth.unreachableTolerationSeconds } } : {}),
  })
  try {
    const applied = await applyManifestDocuments(cp.client, docs.filter((d) => d.object.kind !== 'KubeProxyConfiguration'))
    io.write(`kpe control plane listening on ${cp.url}\nkubeconfig: ${cp.kubeconfigPath}\n  export KUBECONFIG=${cp.kubeconfigPath}\n`)
    for (const line of applied) io.write(`${line}\n`)
    const signal = await io.waitForStop()
    io.write(`kpe up: ${signal} received, stopping\n`)
  } finally {
    await cp.stop()
  }
  return ''
}
