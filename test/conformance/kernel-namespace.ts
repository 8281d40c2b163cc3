/**
 * A throwaway network namespace for the kernel rows of the conformance suite: a user and network
 * namespace (`unshare -rn`, no root needed) held open by a `sleep` this process starts and later
 * stops by PID; commands enter it with `nsenter`. Nothing in the root namespace changes.
 */
import { spawn, spawnSync } from 'node:child_process'
import { KernelExecutor, runCommand, type NetnsRunner } from '../../src/lab/index.js'
import type { IPFamily } from '../../src/net/index.js'
import { parseIptablesSave, type RuleTable } from '../../src/proxy/netfilter/index.js'
import type { ConformanceExecutor } from './packet-flow.case.js'

const tools = (family: IPFamily): readonly string[] => (family === 'IPv4' ? ['iptables-nft', 'iptables-nft-restore', 'iptables-nft-save'] : ['ip6tables-nft', 'ip6tables-nft-restore', 'ip6tables-nft-save'])

/** Why the kernel rows cannot run here, or undefined when they can. */
export function kernelUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `the kernel executor needs Linux (this is ${process.platform})`
  for (const t of [...tools('IPv4'), ...tools('IPv6')]) {
    if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) return `${t} is not installed (apt-get install iptables)`
  }
  const probe = spawnSync('unshare', ['-rn', 'iptables-nft', '-w', '-t', 'nat', '-L', '-n'], { encoding: 'utf8', timeout: 10_000 })
  if (probe.error) return `unshare is not available: ${probe.error.message}`
  if (probe.status !== 0) return `no user+network namespace here (unshare -rn iptables-nft -L: ${(probe.stderr || '').trim().split('\n')[0] ?? 'exit ' + probe.status})`
  return undefined
}

/** A fresh namespace with the kernel's iptables (nft backend) behind the RuleExecutor seam. */
export async function newKernelExecutor(family: IPFamily): Promise<ConformanceExecutor> {
  const holder = spawn('unshare', ['-rn', 'sleep', '600'], { stdio: 'ignore' })
  const pid = holder.pid
  if (pid === undefined) throw new Error('unshare -rn sleep: spawn failed')
  // unshare execs sleep only once the namespaces exist. Until /proc says the holder's network
  // namespace is not ours, nothing may run through it: nsenter would enter the root namespace.
  const netnsOf = (p: number | 'self'): string => spawnSync('readlink', [`/proc/${p}/ns/net`], { encoding: 'utf8' }).stdout.trim()
  const own = netnsOf('self')
  for (let i = 0; ; i++) {
    const theirs = netnsOf(pid)
    if (theirs !== '' && theirs !== own) break
    if (i > 500 || holder.exitCode !== null) throw new Error(`unshare -rn (pid ${pid}) did not enter a namespace of its own`)
    await new Promise((r) => setTimeout(r, 5))
  }
  const run: NetnsRunner = (argv, opts) => runCommand(['nsenter', '--preserve-credentials', '-U', '-n', '-t', String(pid), ...argv], opts)
  return {
    executor: new KernelExecutor({ run, family, backend: 'nft' }),
    async held(): Promise<RuleTable> {
      return parseIptablesSave((await run([tools(family)[2]!])).stdout, { source: `${tools(family)[2]} (kernel)`, family })
    },
    async close(): Promise<void> {
      if (holder.exitCode !== null || holder.signalCode !== null) return
      const exited = new Promise((r) => holder.once('exit', r))
      process.kill(pid, 'SIGKILL')
      await exited
    },
  }
}
