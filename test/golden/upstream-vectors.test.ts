import { describe, expect, it } from 'vitest'
import { sortIptablesRestore } from '../../src/proxy/iptables/index.js'
import { renderIptablesRestore } from '../../src/proxy/netfilter/render-iptables.js'
import { rulesFromText } from '../helpers/rules.js'
import { hasShared, readShared, vectorCases } from '../helpers/shared.js'

describe.runIf(hasShared())('upstream kube-proxy vectors (../shared/kube-proxy-golden)', () => {
  it('finds the ten full-dump cases', () => {
    expect(vectorCases()).toHaveLength(10)
  })

  it.each(hasShared() ? vectorCases() : [])('%s renders byte for byte', (name) => {
    const { table } = rulesFromText(readShared(name, 'input.yaml'), readShared(name, 'config.yaml'))
    const text = renderIptablesRestore(table)
    const expected = readShared(name, 'expected.iptables')
    expect(sortIptablesRestore(text)).toBe(expected)
    // kpe emits upstream's normalized order directly: sorting changes nothing.
    expect(text).toBe(expected)
  })

  it.each(['basic-each-match-type', 'comment-styles', 'junk-lines-preserved'])('normalizer pair %s', (name) => {
    expect(sortIptablesRestore(readShared('normalizer', name, 'input.iptables'))).toBe(readShared('normalizer', name, 'sorted.iptables'))
  })
})
