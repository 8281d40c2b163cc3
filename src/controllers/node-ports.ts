/**
 * NodePort and healthCheckNodePort allocation for one Service: requested ports checked against
 * the range and the ports other Services hold, the rest picked lowest first. Error texts are
 * upstream portallocator's, under the same field paths kube-apiserver reports.
 */
import type { StatusCause } from '../apiserver/index.js'
import { duplicateValue, invalidValue, type Allocation } from './causes.js'
import { formatPortRange, lowestFreePort, portInRange, type PortRange } from './port-range.js'

export interface NodePortRequest {
  readonly ports: readonly { readonly nodePort?: number | undefined; readonly protocol?: string | undefined }[]
  /** False for LoadBalancer Services with allocateLoadBalancerNodePorts: false: only requested ports are kept. */
  readonly allocate: boolean
  readonly healthCheck: { readonly needed: boolean; readonly requested?: number | undefined }
}

export interface NodePortAssignment {
  readonly nodePorts: readonly (number | undefined)[]
  readonly healthCheckNodePort: number | undefined
}

function checkRequested(r: PortRange, port: number, taken: (p: number) => boolean): string | undefined {
  if (!portInRange(r, port)) return `provided port is not in the valid range. The range of valid ports is ${formatPortRange(r)}`
  if (taken(port)) return 'provided port is already allocated'
  return undefined
}

export function allocateNodePorts(req: NodePortRequest, range: PortRange, isTaken: (port: number) => boolean): Allocation<NodePortAssignment> {
  const causes: StatusCause[] = []
  const mine = new Map<number, Set<string>>()
  const claim = (port: number, protocol: string): void => { mine.set(port, (mine.get(port) ?? new Set()).add(protocol)) }
  const requested = req.ports.map((p) => (typeof p.nodePort === 'number' && p.nodePort !== 0 ? p.nodePort : undefined))
  requested.forEach((port, i) => {
    if (port === undefined) return
    const protocol = req.ports[i]?.protocol ?? 'TCP'
    if (mine.get(port)?.has(protocol)) return causes.push(duplicateValue(`spec.ports[${i}].nodePort`, port))
    // the same port number may serve several protocols of one Service
    const problem = mine.has(port) ? undefined : checkRequested(range, port, isTaken)
    if (problem) return causes.push(invalidValue(`spec.ports[${i}].nodePort`, port, problem))
    claim(port, protocol)
    return undefined
  })
  const hc = req.healthCheck.requested
  if (hc !== undefined && hc !== 0) {
    const problem = mine.has(hc) ? 'provided port is already allocated' : checkRequested(range, hc, isTaken)
    if (problem) causes.push(invalidValue('spec.healthCheckNodePort', hc, `failed to allocate requested HealthCheck NodePort ${hc}: ${problem}`))
  }
  if (causes.length > 0) return { kind: 'invalid', causes }
  const taken = (p: number): boolean => isTaken(p) || mine.has(p) || p === hc
  const out: (number | undefined)[] = []
  for (const [i, port] of requested.entries()) {
    if (port !== undefined || !req.allocate) {
      out.push(port)
      continue
    }
    const free = lowestFreePort(range, taken)
    if (free === undefined) return { kind: 'full', message: 'failed to allocate a nodePort: range is full' }
    claim(free, req.ports[i]?.protocol ?? 'TCP')
    out.push(free)
  }
  let healthCheckNodePort: number | undefined
  if (req.healthCheck.needed) {
    healthCheckNodePort = hc !== undefined && hc !== 0 ? hc : lowestFreePort(range, taken)
    if (healthCheckNodePort === undefined) return { kind: 'full', message: 'failed to allocate a nodePort: range is full' }
  }
  return { kind: 'ok', value: { nodePorts: out, healthCheckNodePort } }
}
