/** Small constructors for the proxy model in unit tests (upstream's makeTestService, in TypeScript). */
import type { IPAddress } from '../../src/net/index.js'
import type { EndpointInfo, ServicePortInfo } from '../../src/proxy/model/index.js'

/** ns1/svc1:p80, 172.30.0.41:80/TCP, no external addresses, Cluster policies; override what a case needs. */
export function makeServicePort(o: Partial<ServicePortInfo> = {}): ServicePortInfo {
  return {
    name: { namespace: 'ns1', name: 'svc1', port: 'p80', protocol: 'TCP' },
    nameString: 'ns1/svc1:p80',
    clusterIP: '172.30.0.41' as IPAddress,
    port: 80,
    protocol: 'TCP',
    nodePort: 0,
    externalIPs: [],
    loadBalancerVIPs: [],
    loadBalancerSourceRanges: [],
    stickyMaxAgeSeconds: undefined,
    healthCheckNodePort: 0,
    externalPolicyLocal: false,
    internalPolicyLocal: false,
    hintsAnnotation: undefined,
    portIndex: 0,
    ...o,
  }
}

/** A ready endpoint ip:80 on node-b; override readiness, locality and the rest. */
export function makeEndpoint(ip: string, o: Partial<EndpointInfo> = {}): EndpointInfo {
  const endpoint = ip.includes(':') ? `[${ip}]:80` : `${ip}:80`
  return { ip: ip as IPAddress, port: 80, endpoint, isLocal: false, ready: true, serving: true, terminating: false, nodeName: 'node-b', zoneHints: undefined, nodeHints: undefined, slice: 'ns1/svc1-x', ...o }
}
