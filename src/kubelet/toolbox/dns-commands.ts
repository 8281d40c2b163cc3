/**
 * nslookup (busybox's output) and `getent hosts` (glibc's), both resolving as the pod does:
 * /etc/hosts for getent, then the resolver with resolv.conf's search list and ndots.
 */
import type { Command } from './context.js'
import { resolveName } from './name-resolution.js'

export const nslookup: Command = async (args, io, scope) => {
  const names = args.filter((a) => !a.startsWith('-'))
  const name = names[0]
  if (name === undefined) {
    io.stderr('Usage: nslookup HOST [DNS_SERVER]\n')
    return 1
  }
  if (names[1] !== undefined) io.stderr(`nslookup: the kpe toolbox always asks the pod's resolver; server ${names[1]} is ignored\n`)
  const server = scope.ctx.resolvConf.nameserver
  io.stdout(`Server:\t\t${server}\nAddress:\t${server}:53\n\n`)
  // nslookup asks DNS only: /etc/hosts is not consulted.
  const r = await resolveName(name, { ...scope, ctx: { ...scope.ctx, files: emptyHosts(scope.ctx.files) } }, io.signal)
  if (!r) {
    const shown = name.endsWith('.') || name.includes('.') ? name.replace(/\.$/, '') : `${name}.${scope.ctx.resolvConf.search[0] ?? ''}`
    io.stdout(`** server can't find ${shown}: NXDOMAIN\n\n`)
    return 1
  }
  for (const a of r.addresses) io.stdout(`Name:\t${r.name}\nAddress: ${a}\n`)
  io.stdout('\n')
  return 0
}

/** A view of the files without /etc/hosts, for lookups that go to DNS only. */
function emptyHosts<T extends { read(path: string): Buffer }>(files: T): T {
  return new Proxy(files, {
    get(target, prop, receiver) {
      if (prop === 'read') return (path: string) => (path === '/etc/hosts' ? Buffer.alloc(0) : target.read(path))
      const v = Reflect.get(target, prop, receiver) as unknown
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
    },
  })
}

export const getent: Command = async (args, io, scope) => {
  if (args[0] !== 'hosts' && args[0] !== 'ahosts') {
    io.stderr(`getent: the kpe toolbox knows the hosts database only\n`)
    return 1
  }
  let code = 0
  for (const name of args.slice(1)) {
    const r = await resolveName(name, scope, io.signal)
    if (!r) { code = 2; continue }
    const shown = r.source === 'dns' ? r.name : name
    for (const a of args[0] === 'hosts' ? r.addresses.slice(0, 1) : r.addresses) io.stdout(`${a.padEnd(15)} ${shown}\n`)
  }
  return code
}
