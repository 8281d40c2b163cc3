/**
 * flat-chains.ts: chains joined once into flat text with offsets, and a node's merge of its own
 * chains into them in upstream's chain order (KUBE-NODEPORTS, KUBE-SERVICES, other KUBE-* by
 * bytes, the rest by bytes), with some flat chains taken out.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { chainName, type ChainName } from '../../../src/net/index.js'
import { sortChainNames } from '../../../src/proxy/iptables/chains.js'
import { chainDeclaration, flattenChains, mergeChains } from '../../../src/proxy/iptables/flat-chains.js'
import type { ChainPart } from '../../../src/proxy/iptables/rule-table-builder.js'

const part = (name: string): ChainPart => ({ chain: chainName(name), rules: [], text: `-A ${name} -j ACCEPT\n` })

/** The merged order as names, and the text a node would print for it. */
function merged(flatNames: readonly string[], removed: readonly number[], own: readonly string[]): { names: string[]; header: string; lines: string } {
  const flat = flattenChains(sortChainNames(flatNames as ChainName[]).map(part))
  const ownParts = sortChainNames(own as ChainName[]).map(part)
  const names: string[] = []
  let header = ''
  let lines = ''
  for (const s of mergeChains(flat, removed, ownParts)) {
    if ('own' in s) {
      names.push(s.own.chain)
      header += chainDeclaration(s.own.chain)
      lines += s.own.text
    } else {
      names.push(...flat.names.slice(s.from, s.to))
      header += flat.header.slice(flat.headerOffsets[s.from], flat.headerOffsets[s.to])
      lines += flat.lines.slice(flat.lineOffsets[s.from], flat.lineOffsets[s.to])
    }
  }
  return { names, header, lines }
}

const nameArb = fc.oneof(
  fc.constantFrom('KUBE-NODEPORTS', 'KUBE-SERVICES', 'KUBE-MARK-MASQ', 'KUBE-POSTROUTING', 'OTHER', 'CUSTOM-1'),
  fc.stringMatching(/^KUBE-(SVC|SEP|SVL|EXT|FW)-[A-Z2-7]{4}$/),
)

describe('flat chains', () => {
  it('the merge equals sorting the kept flat chains and the own ones together, text included', () => {
    fc.assert(
      fc.property(fc.uniqueArray(nameArb, { maxLength: 30 }), fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }), fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }), (all, isOwn, isRemoved) => {
        const flatNames = all.filter((_, i) => !isOwn[i])
        const own = all.filter((_, i) => isOwn[i])
        const sortedFlat = sortChainNames(flatNames as ChainName[])
        const removed = sortedFlat.flatMap((_, i) => (isRemoved[i] ? [i] : []))
        const kept = sortedFlat.filter((_, i) => !isRemoved[i])
        const expected = sortChainNames([...kept, ...own] as ChainName[])
        const got = merged(flatNames, removed, own)
        expect(got.names).toEqual(expected)
        expect(got.header).toBe(expected.map(chainDeclaration).join(''))
        expect(got.lines).toBe(expected.map((n) => part(n).text).join(''))
      }),
      { numRuns: 500, seed: 99 },
    )
  })

  it('service chains alone sort by bytes, with the fixed KUBE-NODEPORTS and KUBE-SERVICES first and other chains last', () => {
    const got = merged(['KUBE-SVC-BBBB', 'KUBE-SEP-AAAA', 'KUBE-SVL-CCCC'], [1], ['KUBE-SERVICES', 'KUBE-MARK-MASQ', 'ZZZ', 'KUBE-NODEPORTS', 'KUBE-EXT-AAAA'])
    expect(got.names).toEqual(['KUBE-NODEPORTS', 'KUBE-SERVICES', 'KUBE-EXT-AAAA', 'KUBE-MARK-MASQ', 'KUBE-SEP-AAAA', 'KUBE-SVL-CCCC', 'ZZZ'])
  })
})
