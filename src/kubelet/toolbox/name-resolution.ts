/**
 * How a name becomes addresses inside a pod, as glibc/musl do it with the pod's files: an IP
 * literal is itself; /etc/hosts first; then DNS with resolv.conf's search list (names with
 * fewer than ndots dots try the search domains first, a trailing dot makes a name absolute).
 */
import { searchCandidates } from '../../dns/index.js'
import { parseIP } from '../../net/index.js'
import type { CommandScope } from './context.js'

export interface ResolvedName {
  /** The name that answered (the FQDN for DNS answers). */
  readonly name: string
  readonly addresses: readonly string[]
  readonly source: 'literal' | 'hosts' | 'dns'
}

function fromHostsFile(text: string, name: string): string[] {
  const out: string[] = []
  for (const line of text.split('\n')) {
    const fields = line.replace(/#.*/, '').trim().split(/\s+/)
    if (fields.length >= 2 && fields.slice(1).some((h) => h.toLowerCase() === name.toLowerCase())) out.push(fields[0]!)
  }
  return out
}

export async function resolveName(name: string, scope: CommandScope, signal: AbortSignal): Promise<ResolvedName | undefined> {
  const bare = name.replace(/^\[(.*)\]$/, '$1')
  const ip = parseIP(bare)
  if (ip !== undefined) return { name: bare, addresses: [ip], source: 'literal' }
  let hosts = ''
  try {
    hosts = scope.ctx.files.read('/etc/hosts').toString()
  } catch {
    // no /etc/hosts: DNS only
  }
  const local = fromHostsFile(hosts, name.replace(/\.$/, ''))
  // IPv4 first, as getaddrinfo's default ordering prefers it for these clients.
  if (local.length > 0) return { name, addresses: [...local.filter((a) => !a.includes(':')), ...local.filter((a) => a.includes(':'))], source: 'hosts' }
  const rc = scope.ctx.resolvConf
  for (const candidate of searchCandidates(name.toLowerCase(), rc)) {
    const addresses = await scope.ctx.resolver.lookup(candidate, signal)
    if (addresses.length > 0) return { name: candidate, addresses, source: 'dns' }
  }
  return undefined
}
