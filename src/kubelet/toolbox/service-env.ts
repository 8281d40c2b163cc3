/**
 * The environment kubelet gives a container: for each Service with a ClusterIP in the pod's
 * namespace (enableServiceLinks, the default) and the `kubernetes` Service of `default` always,
 * NAME_SERVICE_HOST, NAME_SERVICE_PORT(_PORTNAME), and the Docker-link NAME_PORT_* variables,
 * from Services that existed when the container started; then the container's own env, which
 * wins. Pure.
 */
import type { Container, Pod, Service } from '../../api/index.js'

/** Upstream's makeEnvVariableName: upper case, '-' to '_'. */
export function envVariableName(name: string): string {
  return name.replace(/-/g, '_').toUpperCase()
}

function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`
}

/** One Service's variables, in upstream's order. */
export function serviceEnvVars(svc: Service): [string, string][] {
  const ip = svc.spec.clusterIP
  const ports = svc.spec.ports ?? []
  if (ip === undefined || ip === '' || ip === 'None' || ports.length === 0) return []
  const prefix = envVariableName(svc.metadata.name ?? '')
  const out: [string, string][] = [[`${prefix}_SERVICE_HOST`, ip], [`${prefix}_SERVICE_PORT`, String(ports[0]!.port)]]
  for (const p of ports) if (p.name) out.push([`${prefix}_SERVICE_PORT_${envVariableName(p.name)}`, String(p.port)])
  ports.forEach((p, i) => {
    const proto = p.protocol ?? 'TCP'
    const url = `${proto.toLowerCase()}://${hostPort(ip, p.port)}`
    if (i === 0) out.push([`${prefix}_PORT`, url])
    const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`
    out.push([pp, url], [`${pp}_PROTO`, proto.toLowerCase()], [`${pp}_PORT`, String(p.port)], [`${pp}_ADDR`, ip])
  })
  return out
}

/** The Services a pod's containers see, as kubelet's getServiceEnvVarMap picks them. */
export function servicesForPod(pod: Pod, services: readonly Service[], startedAt: string | undefined): Service[] {
  const ns = pod.metadata.namespace ?? 'default'
  const links = (pod.spec as { enableServiceLinks?: boolean }).enableServiceLinks !== false
  const byName = new Map<string, Service>()
  const existed = (s: Service): boolean => startedAt === undefined || (s.metadata.creationTimestamp ?? '') <= startedAt
  for (const s of services) {
    const name = s.metadata.name ?? ''
    if (!existed(s)) continue
    if ((s.metadata.namespace ?? 'default') === 'default' && name === 'kubernetes') {
      if (!byName.has(name)) byName.set(name, s)
    } else if ((s.metadata.namespace ?? 'default') === ns && links) byName.set(name, s)
  }
  return [...byName.values()].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1))
}

/** The downward API fields an env var may name with valueFrom.fieldRef. */
function fieldRef(pod: Pod, path: string): string | undefined {
  switch (path) {
    case 'metadata.name': return pod.metadata.name
    case 'metadata.namespace': return pod.metadata.namespace ?? 'default'
    case 'metadata.uid': return pod.metadata.uid
    case 'spec.nodeName': return pod.spec.nodeName
    case 'spec.serviceAccountName': return (pod.spec as { serviceAccountName?: string }).serviceAccountName ?? 'default'
    case 'status.podIP': return pod.status?.podIP
    case 'status.hostIP': return (pod.status as { hostIP?: string } | undefined)?.hostIP
    default: {
      const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path)
      return m ? (pod.metadata[m[1] as 'labels' | 'annotations'] ?? {})[m[2]!] : undefined
    }
  }
}

/** $(VAR) references in env values, as kubelet expands them ($$ escapes). */
export function expandReferences(value: string, env: ReadonlyMap<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => (name === undefined ? '$' : env.get(name) ?? m))
}

export interface ContainerEnvInput {
  readonly pod: Pod
  readonly container: Container
  readonly services: readonly Service[]
  readonly hostname: string
}

/** The container's whole environment, in the order `env` prints it. */
export function containerEnvironment(i: ContainerEnvInput): Map<string, string> {
  const env = new Map<string, string>([['PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], ['HOSTNAME', i.hostname]])
  const startedAt = (i.pod.status as { startTime?: string } | undefined)?.startTime ?? i.pod.metadata.creationTimestamp
  for (const s of servicesForPod(i.pod, i.services, startedAt)) for (const [k, v] of serviceEnvVars(s)) env.set(k, v)
  const declared = (i.container as { env?: readonly { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath?: string } } }[] }).env ?? []
  for (const e of declared) {
    const path = e.valueFrom?.fieldRef?.fieldPath
    const v = path !== undefined ? fieldRef(i.pod, path) : e.value !== undefined ? expandReferences(e.value, env) : ''
    if (v !== undefined) env.set(e.name, v)
  }
  if (!env.has('HOME')) env.set('HOME', '/root')
  return env
}
