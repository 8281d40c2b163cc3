/**
 * Reading kube-proxy's comments back, for tables kpe did not build: a real node's
 * iptables-save (`kpe trace --rules`, `kpe rules --diff --rules`) carries no typed origins, only
 * the comments kube-proxy wrote. Tables kpe builds are read through their origins instead
 * (rule-origin.ts); nothing else may parse comment text for meaning.
 */
import type { Rule } from '../netfilter/index.js'

/** A rule's comment text, if it has one. */
export function commentOf(rule: Rule): string | undefined {
  const c = rule.matches.find((m) => m.kind === 'comment')
  return c?.kind === 'comment' ? c.text : undefined
}

const serviceToken = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[-a-z0-9]+)?$/

/** The Service port a dump's rule names: the first word of its comment shaped like ns/name[:port]. */
export function servicePortFromComment(rule: Rule): string | undefined {
  return commentOf(rule)?.split(' ').find((w) => serviceToken.test(w))
}
