/**
 * Service DNS names (NAME.NAMESPACE.svc.DOMAIN) and the cluster domain, in one place: the
 * userspace entry points resolve them and `kpe trace --to` accepts them.
 */

import { defaultClusterDomain } from '../../dns/index.js'

export { defaultClusterDomain }

export interface ServiceDnsName {
  readonly namespace: string
  readonly name: string
}

const label = '[a-z0-9]([-a-z0-9]*[a-z0-9])?'
const serviceName = new RegExp(`^(${label})\\.(${label})\\.svc(\\.(.+))?$`)

/** NAME.NAMESPACE.svc[.DOMAIN][.] (case-insensitive) -> the Service it names; undefined for any other name or domain. */
export function parseServiceDnsName(host: string, clusterDomain: string): ServiceDnsName | undefined {
  const m = serviceName.exec(host.trim().toLowerCase().replace(/\.$/, ''))
  if (!m || (m[6] !== undefined && m[6] !== clusterDomain.toLowerCase())) return undefined
  return { namespace: m[3]!, name: m[1]! }
}
