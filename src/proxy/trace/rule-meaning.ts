/**
 * What a deciding rule means to `kpe trace`, read from the builder's typed origins: the role it
 * plays and the Service port it serves. Rules kpe built always have an origin; dumps of a real
 * node have none and go through dump-comments.ts instead.
 */
import { originServicePort, type Provenance, type RuleRole } from '../iptables/index.js'
import type { Rule } from '../netfilter/index.js'

export interface RuleMeaning {
  readonly role: RuleRole
  /** `ns/name:port`; undefined for node-wide rules. */
  readonly servicePort: string | undefined
  /** For a no-local-endpoints drop: whether internalTrafficPolicy (true) or externalTrafficPolicy decided it. */
  readonly internal: boolean
}

/** Looks up what a rule means; `chain` is where the packet met it. */
export type ExplainRule = (rule: Rule, chain: string) => RuleMeaning | undefined

/** Meanings from the origins the builder recorded for the traced table. */
export function meaningFromOrigins(provenance: Provenance): ExplainRule {
  return (rule) => {
    const o = provenance.get(rule)
    if (o === undefined) return undefined
    return {
      role: o.role,
      servicePort: originServicePort(o),
      internal: o.kind === 'service-port' && o.field?.path === 'spec.clusterIP',
    }
  }
}
