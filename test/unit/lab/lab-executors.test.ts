/**
 * The lab's pure edges: the nftables full-sync transaction, NftKernelExecutor's commands (through
 * a recording runner), and how a command enters a lab namespace (named or, rootless, by holder PID).
 */
import { readlinkSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fullSyncTransaction, labCommandArgv, NftKernelExecutor, type NetnsRunner } from '../../../src/lab/index.js'
import { buildProxyState, resolveProxierConfig } from '../../../src/proxy/model/index.js'
import { buildNftablesRules, renderNftablesTransaction } from '../../../src/proxy/nftables/index.js'

const config = resolveProxierConfig({ config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.0.0.0/8' }, ipFamily: 'IPv4', node: undefined, nodeName: 'node-a' })

describe('fullSyncTransaction', () => {
  it('creates and flushes the table before writing the whole ruleset', () => {
    const rs = buildNftablesRules({ state: buildProxyState([], [], 'IPv4', 'node-a'), config })
    const text = fullSyncTransaction(rs)
    expect(text.split('\n').slice(0, 2)).toEqual(['add table ip kube-proxy', 'flush table ip kube-proxy'])
    expect(text.endsWith(renderNftablesTransaction(rs))).toBe(true)
  })
})

describe('NftKernelExecutor', () => {
  it('feeds each transaction to nft -f - and lists the table', async () => {
    const calls: { argv: readonly string[]; input?: string }[] = []
    const run: NetnsRunner = async (argv, opts) => {
      calls.push({ argv, ...(opts?.input !== undefined ? { input: opts.input } : {}) })
      return { code: 0, stdout: 'table ip kube-proxy {\n}\n', stderr: '' }
    }
    const ex = new NftKernelExecutor({ run })
    await ex.apply('add table ip kube-proxy\n')
    expect(await ex.list('ip6')).toBe('table ip kube-proxy {\n}\n')
    expect(calls).toEqual([{ argv: ['nft', '-f', '-'], input: 'add table ip kube-proxy\n' }, { argv: ['nft', 'list', 'table', 'ip6', 'kube-proxy'] }])
    expect(ex.applies).toBe(1)
  })
})

describe('labCommandArgv', () => {
  const named = { prefix: 'kdoc', namespaces: ['kdoc-lan', 'kdoc-node-node-a'] }
  it('enters a named namespace with ip netns exec', () => {
    expect(labCommandArgv(named, 'kdoc-node-node-a', ['id'])).toEqual(['ip', 'netns', 'exec', 'kdoc-node-node-a', 'id'])
  })
  it('refuses a namespace the lab does not list', () => {
    expect(() => labCommandArgv(named, 'other-ns', ['id'])).toThrow(/not a namespace of lab kdoc/)
    expect(() => labCommandArgv(named, 'kdoc-lan2', ['id'])).toThrow(/not a namespace of lab kdoc/)
  })
  it('rootless: enters by holder PID, and refuses a holder that is not in the lab user namespace', () => {
    const me = process.pid
    const rootless = { ...named, rootless: { userNs: 'user:[0]', holders: { 'kdoc-lan': me, 'kdoc-node-node-a': me } } }
    // This test process is not in that (made-up) user namespace: the holder check must say the namespace is gone.
    expect(() => labCommandArgv(rootless, 'kdoc-lan', ['id'])).toThrow(/is gone/)
    const own = { ...named, rootless: { userNs: readlinkSync('/proc/self/ns/user'), holders: { 'kdoc-lan': me } } }
    expect(labCommandArgv(own, 'kdoc-lan', ['id'])).toEqual(['nsenter', '--preserve-credentials', '-U', '-n', '-t', String(me), 'id'])
  })
})
