import { describe, expect, it } from 'vitest'
import { summarizeLikeUpstream } from '../../../../src/proxy/netfilter/index.js'
import { compileNft, exploreNft, nftDocumentOf, parseNft } from '../../../../src/proxy/netfilter/nft/index.js'

const prog = (text: string) => compileNft(nftDocumentOf(parseNft(text)))
const ctx = { localAddresses: new Set(['192.168.0.2']) }
const pkt = (dst: string, dport = 80, src = '10.1.0.5') => ({ src, dst, dport, proto: 'tcp' as const })
const head = 'add table ip t\nadd chain ip t f { type filter hook forward priority 0 ; }\n'

describe('nft interpreter: set and map lookups through compiled programs', () => {
  it('a concatenated interval map finds the element whose every part covers the packet', () => {
    const text = `${head}add map ip t m { type ipv4_addr . inet_service : verdict ; flags interval ; }
add rule ip t f ip saddr . th dport vmap @m
add element ip t m { 10.0.0.0/16 . 80-90 : drop }
add element ip t m { 10.1.0.0/16 . 80 : reject }
add element ip t m { 10.2.0.5 . 80 : accept }
`
    const out = (src: string, dport: number) => summarizeLikeUpstream(exploreNft(prog(text), pkt('1.1.1.1', dport, src), ctx, { origin: 'external' }).outcomes).output
    expect(out('10.0.200.6', 80)).toBe('DROP')
    expect(out('10.0.0.1', 90)).toBe('DROP')
    expect(out('10.0.0.1', 91)).toBe('')
    expect(out('10.1.9.9', 80)).toBe('REJECT')
    expect(out('10.1.9.9', 81)).toBe('')
    expect(out('10.2.0.5', 80)).toBe('ACCEPT')
    expect(out('10.2.0.6', 80)).toBe('')
    expect(out('11.0.0.1', 80)).toBe('')
  })

  it('the same rule text in many chains compiles once and still answers per chain', () => {
    const chains = Array.from({ length: 50 }, (_, i) => `add chain ip t c${i}\nadd rule ip t c${i} ip saddr != 10.0.0.0/8 drop\nadd rule ip t c${i} ip daddr 172.30.0.${i} reject`).join('\n')
    const jumps = Array.from({ length: 50 }, (_, i) => `add rule ip t f ip daddr 172.30.0.${i} jump c${i}`).join('\n')
    const p = prog(`${head}${chains}\n${jumps}\n`)
    const out = (dst: string, src = '10.1.0.5') => summarizeLikeUpstream(exploreNft(p, pkt(dst, 80, src), ctx, { origin: 'external' }).outcomes).output
    expect(out('172.30.0.7')).toBe('REJECT')
    expect(out('172.30.0.49')).toBe('REJECT')
    expect(out('172.30.0.7', '192.0.2.1')).toBe('DROP')
    expect(out('172.30.0.50')).toBe('')
  })

  it('a numgen verdict map with ranges of branches spreads over them (each branch looked up like any map key)', () => {
    const text = `add table ip t
add chain ip t pre { type nat hook prerouting priority -100 ; }
add chain ip t a
add chain ip t b
add rule ip t a meta l4proto tcp dnat to 10.0.0.10:80
add rule ip t b meta l4proto tcp dnat to 10.0.0.11:80
add rule ip t pre numgen random mod 4 vmap { 0-2 : goto a , 3 : goto b }
`
    const { outcomes } = exploreNft(prog(text), pkt('172.30.0.1'), ctx, { origin: 'external' })
    expect(outcomes.map((o) => [o.verdict.kind === 'dnat' && o.verdict.to, o.probability])).toEqual([
      ['10.0.0.10:80', 1 / 4], ['10.0.0.10:80', 1 / 4], ['10.0.0.10:80', 1 / 4], ['10.0.0.11:80', 1 / 4],
    ])
  })
})
