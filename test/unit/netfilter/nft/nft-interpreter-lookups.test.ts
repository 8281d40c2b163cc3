import { describe, expect, it } from 'vitest'
import { summarizeLikeUpstream } from '../../../../src/proxy/netfilter/index.js'
import { compileNft, createNftSetState, exploreNft, nftDocumentOf, parseNft, sampleNft } from '../../../../src/proxy/netfilter/nft/index.js'
import { seededRandom } from '../../../../src/proxy/netfilter/index.js'

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

  it('jumps held inline (numgen branches, verdict-map elements) return to the rule after them, nested ones too', () => {
    const text = `add table ip t
add chain ip t pre { type nat hook prerouting priority -100 ; }
add map ip t m { type ipv4_addr : verdict ; }
add map ip t m2 { type ipv4_addr : verdict ; }
add chain ip t svc
add chain ip t inner
add chain ip t one
add chain ip t after
add element ip t m { 172.30.0.1 : jump svc }
add element ip t m2 { 172.30.0.1 : jump one }
add rule ip t pre ip daddr vmap @m
add rule ip t pre meta l4proto tcp dnat to 10.0.0.99:80
add rule ip t svc numgen random mod 2 vmap { 0 : jump inner , 1 : goto after }
add rule ip t svc meta mark set mark or 0x4
add rule ip t inner ip daddr vmap @m2
add rule ip t inner meta mark set mark or 0x2
add rule ip t one meta mark set mark or 0x1
add rule ip t after meta mark set mark or 0x8
`
    const { outcomes } = exploreNft(prog(text), pkt('172.30.0.1'), ctx, { origin: 'external' })
    // Branch 0: m2's jump returns into inner, inner returns into svc; branch 1: goto after returns straight to pre.
    expect(outcomes.map((o) => [o.mark, o.verdict.kind === 'dnat' && o.verdict.to, o.probability])).toEqual([
      [0x7, '10.0.0.99:80', 1 / 2],
      [0x8, '10.0.0.99:80', 1 / 2],
    ])
  })

  it('a sampled outcome keeps its answer after the next walks reuse the addresses (IPv4 and IPv6)', () => {
    const p = prog(`add table ip t
add chain ip t pre { type nat hook prerouting priority -100 ; }
add rule ip t pre ip daddr 172.30.0.1 meta l4proto tcp dnat to 10.0.0.10:8080
add rule ip t pre ip daddr 172.30.0.2 meta l4proto tcp dnat to 10.0.0.20:9090
add table ip6 t6
add chain ip6 t6 pre { type nat hook prerouting priority -100 ; }
add rule ip6 t6 pre ip6 daddr fd00::1 meta l4proto tcp dnat to [fd00::10]:8080
`)
    const opts = { origin: 'external' as const, state: createNftSetState(), random: seededRandom(1), clock: { now: () => 0 } }
    const first = sampleNft(p, pkt('172.30.0.1'), ctx, opts)
    const v6 = sampleNft(p, pkt('fd00::1', 80, 'fd00::5'), ctx, opts)
    const second = sampleNft(p, pkt('172.30.0.2'), ctx, opts)
    expect(first.verdict).toEqual({ kind: 'dnat', to: '10.0.0.10:8080', address: '10.0.0.10', port: 8080 })
    expect(v6.verdict).toEqual({ kind: 'dnat', to: '[fd00::10]:8080', address: 'fd00::10', port: 8080 })
    expect(second.verdict).toEqual({ kind: 'dnat', to: '10.0.0.20:9090', address: '10.0.0.20', port: 9090 })
    expect(sampleNft(p, pkt('172.30.0.3'), ctx, opts).verdict).toEqual({ kind: 'accept' })
  })
})
