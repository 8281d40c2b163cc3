/**
 * The fallback for `kpe trace --rules DUMP`: a real node's iptables-save carries no builder
 * origins, only kube-proxy's comments, so the meaning of a deciding rule is read from them. This
 * is the one place kpe reads its (or upstream's) comment text back; rules kpe builds are
 * explained from their typed origins (rule-meaning.ts). Upstream's comment shapes are stable:
 * "<ns/name:port> has no endpoints", "<...> has no local endpoints", "<...> traffic not accepted by KUBE-FW-...".
 */
import { commentOf } from '../iptables/index.js'
import type { ExplainRule, RuleMeaning } from './rule-meaning.js'

export const meaningFromComments: ExplainRule = (rule, chain) => {
  const comment = commentOf(rule)
  if (comment === undefined) return chain === 'KUBE-PROXY-FIREWALL' ? meaning('firewall-drop', undefined, false) : undefined
  const servicePort = comment.split(' ')[0]
  if (comment.endsWith(' has no endpoints')) return meaning('reject-no-endpoints', servicePort, false)
  // Upstream writes the internal-policy drop into KUBE-SERVICES and the external ones elsewhere.
  if (comment.endsWith(' has no local endpoints')) return meaning('drop-no-local-endpoints', servicePort, chain === 'KUBE-SERVICES')
  if (chain === 'KUBE-PROXY-FIREWALL') return meaning('firewall-drop', servicePort, false)
  return undefined
}

function meaning(role: RuleMeaning['role'], servicePort: string | undefined, internal: boolean): RuleMeaning {
  return { role, servicePort, internal }
}
