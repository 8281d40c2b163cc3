/**
 * Turns `kpe trace --from/--to` words into a packet: pod/NAME, node/NAME or an IP as the source;
 * IP:PORT, svc/NAME[:PORT] or a service DNS name as the destination, with an optional
 * /tcp|/udp|/sctp. Pure: resolves names against the cluster's objects.
 */
import type { Node, Pod, Service } from '../../api/index.js'
import { podIPs } from '../../api/index.js'
import { UsageError } from '../../errors.js'
import { ipFamily, parseIP, type IPFamily, type L4Proto } from '../../net/index.js'
import { clusterIPOfFamily, defaultClusterDomain, nodeIPs, parseServiceDnsName } from '../model/index.js'
import type { Origin, Packet } from '../netfilter/index.js'

export interface TraceObjects {
  readonly services: readonly Service[]
  readonly pods: readonly Pod[]
  readonly nodes: readonly Node[]
}

export interface TraceSource {
  readonly ip: string
  readonly origin: Origin
  /** The node whose rules the packet meets first: the pod's node, the sending node, or --node. */
  readonly node: string | undefined
  readonly describe: string
}

export interface TraceDestination {
  readonly ip: string
  readonly port: number
  readonly proto: L4Proto
  readonly describe: string
}

const protoSuffix = /\/(tcp|udp|sctp)$/i

function splitProto(spec: string): { rest: string; proto: L4Proto | undefined } {
  const m = protoSuffix.exec(spec)
  return m ? { rest: spec.slice(0, m.index), proto: m[1]!.toLowerCase() as L4Proto } : { rest: spec, proto: undefined }
}

function byName<T extends { metadata: { name?: string; namespace?: string } }>(list: readonly T[], ref: string, kind: string, defaultNs: string): T {
  const [ns, name] = ref.includes('/') ? (ref.split('/', 2) as [string, string]) : [defaultNs, ref]
  const found = list.find((o) => o.metadata.name === name && (kind === 'node' || (o.metadata.namespace ?? 'default') === ns))
  if (!found) throw new UsageError(`${kind} "${ref}" is not in the manifests`, { hint: `list them with: kpe rules -f ... (or check the namespace, default "${defaultNs}")` })
  return found
}

export function resolveSource(spec: string, objects: TraceObjects, family: IPFamily, node: string | undefined, namespace: string): TraceSource {
  if (spec.startsWith('pod/')) {
    const pod = byName(objects.pods, spec.slice(4), 'pod', namespace)
    const ip = podIPs(pod).find((a) => ipFamily(a) === family)
    if (ip === undefined) throw new UsageError(`pod ${pod.metadata.namespace}/${pod.metadata.name} has no ${family} address`, { hint: 'set status.podIP (or status.podIPs) in the manifest' })
    return { ip, origin: 'external', node: pod.spec.nodeName ?? node, describe: `pod ${pod.metadata.namespace}/${pod.metadata.name}` }
  }
  if (spec.startsWith('node/')) {
    const n = byName(objects.nodes, spec.slice(5), 'node', namespace)
    const ip = nodeIPs(n).find((a) => ipFamily(a) === family)
    if (ip === undefined) throw new UsageError(`node ${n.metadata.name} has no ${family} InternalIP`)
    return { ip, origin: 'local', node: n.metadata.name, describe: `node ${n.metadata.name} itself` }
  }
  const ip = parseIP(spec)
  if (ip === undefined) throw new UsageError(`--from "${spec}": expected pod/NAME, node/NAME or an IP address`)
  const owner = objects.nodes.find((n) => nodeIPs(n).includes(ip))
  if (owner) return { ip, origin: 'local', node: owner.metadata.name, describe: `node ${owner.metadata.name} itself` }
  const pod = objects.pods.find((p) => podIPs(p).includes(ip))
  if (pod) return { ip, origin: 'external', node: pod.spec.nodeName ?? node, describe: `pod ${pod.metadata.namespace}/${pod.metadata.name}` }
  return { ip, origin: 'external', node, describe: `external host ${ip}` }
}

export function resolveDestination(spec: string, objects: TraceObjects, family: IPFamily, namespace: string): TraceDestination {
  const { rest, proto } = splitProto(spec)
  let svc: Service | undefined
  let portText: string | undefined
  if (rest.startsWith('svc/')) {
    const [ref, port] = splitPort(rest.slice(4))
    svc = byName(objects.services, ref, 'service', namespace)
    portText = port
  } else {
    const [host, port] = splitPort(rest)
    const named = parseServiceDnsName(host, defaultClusterDomain)
    if (named) {
      svc = byName(objects.services, `${named.namespace}/${named.name}`, 'service', namespace)
      portText = port
    } else {
      const ip = parseIP(host.replace(/^\[|\]$/g, ''))
      if (ip === undefined || port === undefined) throw new UsageError(`--to "${spec}": expected IP:PORT, svc/NAME[:PORT] or NAME.NAMESPACE.svc.${defaultClusterDomain}[:PORT]`)
      const n = Number(port)
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`--to "${spec}": port must be 1-65535`)
      return { ip, port: n, proto: proto ?? 'tcp', describe: `${host}:${n}` }
    }
  }
  const ports = svc.spec.ports ?? []
  const sp = portText === undefined ? ports[0] : ports.find((p) => p.name === portText || String(p.port) === portText)
  const name = `${svc.metadata.namespace}/${svc.metadata.name}`
  if (sp === undefined) throw new UsageError(`service ${name} has no port "${portText ?? ''}"`, { hint: `its ports: ${ports.map((p) => p.name ?? p.port).join(', ')}` })
  const ip = clusterIPOfFamily(svc, family)
  if (ip === undefined) throw new UsageError(`service ${name} has no ${family} ClusterIP (headless or another family)`)
  return { ip, port: sp.port, proto: proto ?? (sp.protocol ?? 'TCP').toLowerCase() as L4Proto, describe: `service ${name}${sp.name ? `:${sp.name}` : ''} (${ip}:${sp.port})` }
}

function splitPort(s: string): [string, string | undefined] {
  if (s.startsWith('[')) {
    const end = s.indexOf(']')
    return [s.slice(0, end + 1), s[end + 1] === ':' ? s.slice(end + 2) : undefined]
  }
  if ((s.match(/:/g) ?? []).length > 1) return [s, undefined]
  const i = s.lastIndexOf(':')
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)]
}

export function packetOf(src: TraceSource, dst: TraceDestination): Packet {
  return { src: src.ip, dst: dst.ip, proto: dst.proto, dport: dst.port }
}
