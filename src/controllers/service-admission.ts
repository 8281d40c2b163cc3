/**
 * The Service allocation admission hook: ClusterIPs, NodePorts, health-check NodePort and
 * LoadBalancer ingress are assigned inside the request, so they commit in the same transaction
 * as the Service (422 with field paths for bad requests; nothing stored on error). Thin shell
 * over allocateService; taken values come from stored Services (an index kept by object
 * identity) plus in-flight requests.
 */
import type { Service } from '../api/index.js'
import { ApiError, invalid, type AdmissionContext, type AdmissionHook, type AdmissionResult } from '../apiserver/index.js'
import type { KubeObject } from '../store/index.js'
import { assertNever } from '../errors.js'
import { InFlightValues } from './in-flight.js'
import { allocateService, type ServiceAllocatorConfig } from './service-allocation.js'
import { addHeldValues, emptyHeldValues, HeldValuesIndex } from './taken-values.js'

export function serviceAllocationHook(config: ServiceAllocatorConfig): AdmissionHook {
  const inFlight = new InFlightValues()
  const index = new HeldValuesIndex()
  const admit = (object: KubeObject, old: KubeObject | undefined, ctx: AdmissionContext): AdmissionResult | undefined => {
    if (ctx.resource.kind !== 'Service' || ctx.subresource !== undefined) return undefined
    const name = object.metadata.name ?? ''
    const namespace = object.metadata.namespace ?? ''
    const stored = ctx.store.get({ resource: 'services', namespace, name }) as unknown as Service | undefined
    const held = index.lookup(ctx.store.list('services').items as unknown as Service[], stored)
    const pending = inFlight.snapshot()
    const result = allocateService({
      service: object as unknown as Service, old: old as unknown as Service | undefined, config,
      taken: {
        clusterIP: (ip) => held.clusterIP(ip) || pending.clusterIPs.has(ip),
        nodePort: (p) => held.nodePort(p) || pending.nodePorts.has(p),
        loadBalancerIP: (ip) => held.loadBalancerIP(ip) || pending.loadBalancerIPs.has(ip),
      },
    })
    switch (result.kind) {
      case 'invalid': throw invalid(ctx.resource, name, result.causes)
      case 'full': throw new ApiError(500, 'InternalError', `Internal error occurred: ${result.message}`)
      case 'ok': break
      default: return assertNever(result)
    }
    object['spec'] = result.value.spec
    const status = { ...((object['status'] as Record<string, unknown> | undefined) ?? {}) }
    status['loadBalancer'] = result.value.ingress && result.value.ingress.length > 0 ? { ingress: result.value.ingress } : {}
    object['status'] = status
    const release = inFlight.reserve(addHeldValues(emptyHeldValues(), object as unknown as Service))
    return { onSettled: () => release() }
  }
  return {
    name: 'kpe.io/service-allocation',
    beforeCreate: (object, ctx) => admit(object, undefined, ctx),
    beforeUpdate: (object, old, ctx) => admit(object, old, ctx),
  }
}
