/** The kernel dataplane's executors: the interpreter follows the kernel only when the kernel took the rules. */
import { describe, expect, it } from 'vitest'
import { KernelFirstExecutor, KernelFirstNftExecutor } from '../../../src/node/index.js'
import type { NftRuleExecutor, RuleExecutor } from '../../../src/proxy/netfilter/index.js'

function recorder(log: string[], name: string, failApply = false): RuleExecutor & NftRuleExecutor {
  return {
    async apply(text: string) {
      if (failApply) throw new Error(`${name}: iptables-restore: line 3 failed`)
      log.push(`${name} apply ${text}`)
    },
    async ensureChain(table, chain) { log.push(`${name} -N ${table} ${chain}`) },
    async ensureRule(_p, table, chain) { log.push(`${name} -I ${table} ${chain}`) },
  }
}

describe('KernelFirstExecutor', () => {
  it('applies to the kernel, then the interpreter, in the proxier\'s order', async () => {
    const log: string[] = []
    const ex = new KernelFirstExecutor(recorder(log, 'kernel'), recorder(log, 'interp'))
    await ex.ensureChain('nat', 'KUBE-SERVICES' as never)
    await ex.ensureRule('prepend', 'nat', 'PREROUTING', { matches: [], target: { kind: 'jump', chain: 'KUBE-SERVICES' } } as never)
    await ex.apply('*nat\nCOMMIT\n', { flush: 'no-flush', counters: 'restore' })
    expect(log).toEqual(['kernel -N nat KUBE-SERVICES', 'interp -N nat KUBE-SERVICES', 'kernel -I nat PREROUTING', 'interp -I nat PREROUTING', 'kernel apply *nat\nCOMMIT\n', 'interp apply *nat\nCOMMIT\n'])
  })

  it('a kernel refusal fails the apply and leaves the interpreter at the last rules the kernel took', async () => {
    const log: string[] = []
    const ex = new KernelFirstExecutor(recorder(log, 'kernel', true), recorder(log, 'interp'))
    await expect(ex.apply('*nat\nCOMMIT\n', { flush: 'no-flush', counters: 'restore' })).rejects.toThrow(/line 3 failed/)
    expect(log).toEqual([])
    const nft = new KernelFirstNftExecutor(recorder(log, 'kernel', true), recorder(log, 'interp'))
    await expect(nft.apply('add table ip kube-proxy\n')).rejects.toThrow(/failed/)
    expect(log).toEqual([])
  })
})
