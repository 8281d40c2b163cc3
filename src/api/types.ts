/**
 * The Kubernetes object shapes kpe reads: the subset of core/v1, discovery.k8s.io/v1 and
 * kubeproxy.config.k8s.io/v1alpha1 that rule building, the control plane and the labs use.
 * Plain data, as decoded from YAML/JSON; validation lives in validate-*.ts.
 */

export interface ObjectMeta {
  name?: string
  generateName?: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  generation?: number
  creationTimestamp?: string
  deletionTimestamp?: string
  deletionGracePeriodSeconds?: number
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: OwnerReference[]
  finalizers?: string[]
  [key: string]: unknown
}

export interface OwnerReference {
  apiVersion: string
  kind: string
  name: string
  uid: string
  controller?: boolean
  blockOwnerDeletion?: boolean
}

export interface TypeMeta {
  apiVersion: string
  kind: string
}

export interface KubeObject extends TypeMeta {
  metadata: ObjectMeta
  [key: string]: unknown
}

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName'
export type TrafficPolicy = 'Cluster' | 'Local'

export interface ServicePortSpec {
  name?: string
  protocol?: 'TCP' | 'UDP' | 'SCTP'
  port: number
  targetPort?: number | string
  nodePort?: number
  appProtocol?: string
}

export interface ServiceSpec {
  type?: ServiceType
  clusterIP?: string
  clusterIPs?: string[]
  ipFamilies?: ('IPv4' | 'IPv6')[]
  ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack'
  selector?: Record<string, string>
  ports?: ServicePortSpec[]
  externalIPs?: string[]
  externalName?: string
  loadBalancerIP?: string
  loadBalancerSourceRanges?: string[]
  loadBalancerClass?: string
  allocateLoadBalancerNodePorts?: boolean
  externalTrafficPolicy?: TrafficPolicy
  internalTrafficPolicy?: TrafficPolicy
  healthCheckNodePort?: number
  sessionAffinity?: 'None' | 'ClientIP'
  sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } }
  publishNotReadyAddresses?: boolean
  trafficDistribution?: string
}

export interface LoadBalancerIngress {
  ip?: string
  hostname?: string
  ipMode?: 'VIP' | 'Proxy'
  ports?: unknown[]
}

export interface Service extends KubeObject {
  apiVersion: 'v1'
  kind: 'Service'
  spec: ServiceSpec
  status?: { loadBalancer?: { ingress?: LoadBalancerIngress[] }; conditions?: unknown[] }
}

export interface EndpointConditions {
  ready?: boolean
  serving?: boolean
  terminating?: boolean
}

export interface EndpointSliceEndpoint {
  addresses: string[]
  conditions?: EndpointConditions
  hostname?: string
  nodeName?: string
  zone?: string
  hints?: { forZones?: { name: string }[]; forNodes?: { name: string }[] }
  targetRef?: { kind?: string; namespace?: string; name?: string; uid?: string }
}

export interface EndpointSlicePort {
  name?: string
  protocol?: 'TCP' | 'UDP' | 'SCTP'
  port?: number
  appProtocol?: string
}

export interface EndpointSlice extends KubeObject {
  apiVersion: 'discovery.k8s.io/v1'
  kind: 'EndpointSlice'
  addressType: 'IPv4' | 'IPv6' | 'FQDN'
  endpoints: EndpointSliceEndpoint[]
  ports?: EndpointSlicePort[]
}

export interface NodeAddress {
  type: 'InternalIP' | 'ExternalIP' | 'Hostname' | 'InternalDNS' | 'ExternalDNS'
  address: string
}

export interface Taint {
  key: string
  value?: string
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute'
}

export interface Node extends KubeObject {
  apiVersion: 'v1'
  kind: 'Node'
  spec?: { podCIDR?: string; podCIDRs?: string[]; taints?: Taint[]; unschedulable?: boolean; providerID?: string }
  status?: { addresses?: NodeAddress[]; conditions?: { type: string; status: string }[]; [key: string]: unknown }
}

export interface ContainerPort {
  name?: string
  containerPort: number
  protocol?: 'TCP' | 'UDP' | 'SCTP'
  hostPort?: number
}

export interface Container {
  name: string
  image?: string
  command?: string[]
  args?: string[]
  ports?: ContainerPort[]
  [key: string]: unknown
}

export interface PodCondition {
  type: string
  status: 'True' | 'False' | 'Unknown'
  [key: string]: unknown
}

export interface Pod extends KubeObject {
  apiVersion: 'v1'
  kind: 'Pod'
  spec: {
    nodeName?: string
    containers: Container[]
    hostname?: string
    subdomain?: string
    nodeSelector?: Record<string, string>
    tolerations?: unknown[]
    terminationGracePeriodSeconds?: number
    [key: string]: unknown
  }
  status?: {
    phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown'
    podIP?: string
    podIPs?: { ip: string }[]
    hostIP?: string
    conditions?: PodCondition[]
    [key: string]: unknown
  }
}

/** kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration: the fields that change the rules. */
export interface KubeProxyConfiguration {
  apiVersion: 'kubeproxy.config.k8s.io/v1alpha1'
  kind: 'KubeProxyConfiguration'
  mode?: '' | 'iptables' | 'nftables' | 'ipvs'
  clusterCIDR?: string
  detectLocalMode?: '' | 'ClusterCIDR' | 'NodeCIDR' | 'BridgeInterface' | 'InterfaceNamePrefix'
  detectLocal?: { bridgeInterface?: string; interfaceNamePrefix?: string }
  hostnameOverride?: string
  bindAddress?: string
  nodePortAddresses?: string[]
  iptables?: {
    masqueradeAll?: boolean
    masqueradeBit?: number
    localhostNodePorts?: boolean
    syncPeriod?: string
    minSyncPeriod?: string
  }
  nftables?: { masqueradeAll?: boolean; masqueradeBit?: number; syncPeriod?: string; minSyncPeriod?: string }
  featureGates?: Record<string, boolean>
  [key: string]: unknown
}

export const serviceNameLabel = 'kubernetes.io/service-name'
export const managedByLabel = 'endpointslice.kubernetes.io/managed-by'
export const endpointSliceControllerName = 'endpointslice-controller.k8s.io'
export const zoneLabel = 'topology.kubernetes.io/zone'
