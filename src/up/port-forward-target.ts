/**
 * What `kpe port-forward` reaches, decided as kubectl decides it: a pod by name, or for svc/NAME
 * the first pod of the Service's selector (kubectl's GetFirstPod order: scheduled, Running, Ready,
 * oldest), with the Service port translated to the container port (number or named targetPort).
 * Also the /forward query both ends speak. Pure: no sockets, no store.
 */
import { objectKey, type Pod, type Service } from '../api/index.js'

export type ForwardKind = 'svc' | 'pod'

export interface ForwardRequest {
  readonly kind: ForwardKind
  readonly namespace: string
  readonly name: string
  /** A port number or name: a Service port for svc, a container port for pod. */
  readonly port: string
}

export interface ForwardTarget {
  /** `namespace/name` of the pod. */
  readonly pod: string
  readonly podIP: string
  readonly containerPort: number
}

export type ForwardResolution =
  | { readonly kind: 'target'; readonly target: ForwardTarget }
  | { readonly kind: 'error'; readonly status: 400 | 404 | 503; readonly message: string }

const fail = (status: 400 | 404 | 503, message: string): ForwardResolution => ({ kind: 'error', status, message })

export function forwardQuery(r: ForwardRequest): string {
  return new URLSearchParams({ kind: r.kind, ns: r.namespace, name: r.name, port: r.port }).toString()
}

export function parseForwardQuery(q: URLSearchParams): ForwardRequest | { readonly error: string } {
  const kind = q.get('kind')
  const name = q.get('name') ?? ''
  const port = q.get('port') ?? ''
  if (kind !== 'svc' && kind !== 'pod') return { error: `kind must be svc or pod, not ${JSON.stringify(kind)}` }
  if (name === '' || port === '') return { error: 'name and port are required' }
  return { kind, namespace: q.get('ns') || 'default', name, port }
}

function isReady(p: Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false
}

/** kubectl's sort.Reverse(podutils.ActivePods) for GetFirstPod, preceded by "not terminating". */
function firstPodOrder(a: Pod, b: Pod): number {
  const keys = (p: Pod): number[] => [p.metadata.deletionTimestamp ? 1 : 0, p.spec.nodeName ? 0 : 1, p.status?.phase === 'Running' ? 0 : 1, isReady(p) ? 0 : 1]
  const ka = keys(a)
  const kb = keys(b)
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i]) return ka[i]! - kb[i]!
  const ta = a.metadata.creationTimestamp ?? ''
  const tb = b.metadata.creationTimestamp ?? ''
  if (ta !== tb) return ta < tb ? -1 : 1
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1
}

function selects(selector: Readonly<Record<string, string>>, p: Pod): boolean {
  return Object.entries(selector).every(([k, v]) => p.metadata.labels?.[k] === v)
}

function containerPortOf(pod: Pod, port: string): number | undefined {
  if (/^\d+$/.test(port)) return Number(port)
  return pod.spec.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === port && (p.protocol ?? 'TCP') === 'TCP')?.containerPort
}

function podTarget(pod: Pod, port: number | undefined, portText: string): ForwardResolution {
  const name = objectKey(pod, 'default')
  if (port === undefined || port < 1 || port > 65535) return fail(400, `pod ${name} has no container port ${JSON.stringify(portText)}`)
  if (pod.status?.phase !== 'Running' || !pod.status.podIP) return fail(503, `unable to forward port because pod ${name} is not running. Current status=${pod.status?.phase ?? 'Pending'}`)
  return { kind: 'target', target: { pod: name, podIP: pod.status.podIP, containerPort: port } }
}

export function resolveForwardTarget(r: ForwardRequest, objects: { readonly service: Service | undefined; readonly pods: readonly Pod[] }): ForwardResolution {
  if (r.kind === 'pod') {
    const pod = objects.pods.find((p) => p.metadata.name === r.name && (p.metadata.namespace ?? 'default') === r.namespace)
    if (!pod) return fail(404, `pods "${r.name}" not found`)
    return podTarget(pod, containerPortOf(pod, r.port), r.port)
  }
  const svc = objects.service
  if (!svc) return fail(404, `services "${r.name}" not found`)
  const sp = (svc.spec.ports ?? []).find((p) => (/^\d+$/.test(r.port) ? p.port === Number(r.port) : p.name === r.port))
  if (!sp) return fail(400, `Service ${r.namespace}/${r.name} does not have a service port ${r.port}`)
  const selector = svc.spec.selector ?? {}
  if (Object.keys(selector).length === 0) return fail(503, `Service ${r.namespace}/${r.name} has no selector, so no pod to forward to`)
  const pods = objects.pods.filter((p) => (p.metadata.namespace ?? 'default') === r.namespace && selects(selector, p)).sort(firstPodOrder)
  const pod = pods[0]
  if (!pod) return fail(503, `no pods selected by Service ${r.namespace}/${r.name}`)
  const tp = sp.targetPort ?? sp.port
  const port = typeof tp === 'number' ? (tp === 0 ? sp.port : tp) : containerPortOf(pod, tp)
  return podTarget(pod, port, String(tp))
}
