/**
 * The kernel rows of the conformance suite: a throwaway user+network namespace
 * (test/helpers/user-netns.ts) with the kernel's iptables (nft backend) behind the RuleExecutor
 * seam. Nothing in the root namespace changes.
 */
import { spawnSync } from 'node:child_process'
import { KernelExecutor, NftKernelExecutor } from '../../src/lab/index.js'
import type { IPFamily } from '../../src/net/index.js'
import { parseIptablesSave, type RuleTable } from '../../src/proxy/netfilter/index.js'
import { openUserNetns, userNetnsUnavailable } from '../helpers/user-netns.js'
import type { ConformanceExecutor } from './packet-flow.case.js'
import type { NftConformanceExecutor } from './nft-packet-flow.case.js'

const tools = (family: IPFamily): readonly string[] => (family === 'IPv4' ? ['iptables-nft', 'iptables-nft-restore', 'iptables-nft-save'] : ['ip6tables-nft', 'ip6tables-nft-restore', 'ip6tables-nft-save'])

/** Why the kernel rows cannot run here, or undefined when they can. */
export function kernelUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `the kernel executor needs Linux (this is ${process.platform})`
  for (const t of [...tools('IPv4'), ...tools('IPv6')]) {
    if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) return `${t} is not installed (apt-get install iptables)`
  }
  return userNetnsUnavailable(['iptables-nft', '-w', '-t', 'nat', '-L', '-n'])
}

/** Why the nftables kernel row cannot run here: it needs nft, conntrack and a user+network namespace. */
export function nftKernelUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `the kernel executor needs Linux (this is ${process.platform})`
  for (const t of ['nft', 'conntrack', 'nsenter', 'ip']) {
    if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) return `${t} is not installed (apt-get install nftables conntrack util-linux iproute2)`
  }
  return userNetnsUnavailable(['nft', 'list', 'ruleset'])
}

/** A fresh namespace with the kernel's iptables (nft backend) behind the RuleExecutor seam. */
export async function newKernelExecutor(family: IPFamily): Promise<ConformanceExecutor> {
  const ns = await openUserNetns()
  return {
    executor: new KernelExecutor({ run: ns.run, family, backend: 'nft' }),
    async held(): Promise<RuleTable> {
      return parseIptablesSave((await ns.run([tools(family)[2]!])).stdout, { source: `${tools(family)[2]} (kernel)`, family })
    },
    close: () => ns.close(),
  }
}

/** A fresh namespace with the kernel's nftables behind the NftRuleExecutor seam; `held` is `nft list table`. */
export async function newNftKernelExecutor(): Promise<NftConformanceExecutor> {
  const ns = await openUserNetns()
  const executor = new NftKernelExecutor({ run: ns.run })
  return {
    executor,
    async held(): Promise<string> {
      const families = (await ns.run(['nft', 'list', 'tables'])).stdout.match(/^table (ip6?) kube-proxy$/m)
      return executor.list(families?.[1] === 'ip6' ? 'ip6' : 'ip')
    },
    close: () => ns.close(),
  }
}
