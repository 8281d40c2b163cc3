/**
 * Typed provenance for the nftables ruleset: each rule and set/map element maps to the object,
 * field and role that produced it, in iptables mode's vocabulary (iptables/rule-origin.ts), so
 * `--explain`, `--diff` and `--mode both` read values, never our own text.
 */
import type { RuleOrigin, ServiceField, ServicePortOrigin, ServicePortRole } from '../iptables/index.js'
import type { EndpointInfo, ServicePortInfo } from '../model/index.js'
import type { NftMapElement, NftRule, NftSetElement } from './types.js'


/** A rule or element of a built ruleset. */
export type NftObject = NftRule | NftSetElement | NftMapElement

/** Object -> origin, filled by the builder when asked. Keys are the ruleset's own objects. */
export type NftProvenance = Map<NftObject, RuleOrigin>

/** A thunk, so a build that records nothing pays nothing. */
export type NftOriginOf = () => RuleOrigin

type OriginDetail = Pick<ServicePortOrigin, 'internalTrafficPolicy' | 'config' | 'endpoint' | 'endpointCount' | 'nodeIP'>

export function servicePortOrigin(sp: ServicePortInfo, role: ServicePortRole, field: ServiceField | undefined, detail?: OriginDetail): NftOriginOf {
  return () => ({ kind: 'service-port', service: sp.name, portIndex: sp.portIndex, role, field, ...detail })
}

export function endpointRef(ep: EndpointInfo): { slice: string; endpoint: string; nodeName: string | undefined } {
  return { slice: ep.slice, endpoint: ep.endpoint, nodeName: ep.nodeName }
}

/** A node-wide object, with the setting behind it in the words `--explain` prints. */
export function nodeOrigin(setting: string): NftOriginOf {
  return () => ({ kind: 'node', role: 'node-wide', setting })
}

export const clusterIPField: ServiceField = { path: 'spec.clusterIP' }
export const nodePortField: ServiceField = { path: 'spec.ports[].nodePort' }
export const etpField: ServiceField = { path: 'spec.externalTrafficPolicy' }
export const externalIPField = (address: string): ServiceField => ({ path: 'spec.externalIPs', address })
export const ingressField = (address: string): ServiceField => ({ path: 'status.loadBalancer.ingress', address })
