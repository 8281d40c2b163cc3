import { describe, expect, it } from 'vitest'
import { seededRandom, summarizeLikeUpstream } from '../../../../src/proxy/netfilter/index.js'
import { compileNft, createNftSetState, exploreNft, NftInterpreterExecutor, NftRuleLoopError, nftDocumentOf, parseNft, sampleNft } from '../../../../src/proxy/netfilter/nft/index.js'
import { ExecError } from '../../../../src/errors.js'

const prog = (text: string) => compileNft(nftDocumentOf(parseNft(text)))
const ctx = { localAddresses: new Set(['192.168.0.2']) }
const pkt = (dst: string, dport = 80, src = '10.1.0.5', proto: 'tcp' | 'udp' = 'tcp') => ({ src, dst, dport, proto })
const answer = (text: string, p = pkt('172.30.0.1'), origin: 'external' | 'local' = 'external') => summarizeLikeUpstream(exploreNft(prog(text), p, ctx, { origin }).outcomes)

const head = 'add table ip t\n'

describe('nft interpreter: nftables semantics', () => {
  it('walks the base chains of a hook in priority order, whatever order they were declared in', () => {
    const text = `${head}add chain ip t late { type filter hook prerouting priority 10 ; }
add chain ip t early { type filter hook prerouting priority -110 ; }
add rule ip t late reject
add rule ip t early drop
`
    expect(answer(text).output).toBe('DROP')
  })

  it('accept ends one base chain only; a later base chain of the same hook still drops', () => {
    const text = `${head}add chain ip t a { type filter hook forward priority 0 ; }
add chain ip t b { type filter hook forward priority 5 ; }
add rule ip t a accept
add rule ip t b drop
`
    expect(answer(text).output).toBe('DROP')
  })

  it('goto does not come back; jump does; return leaves the chain; a base chain ends in its policy', () => {
    const text = `${head}add chain ip t j
add chain ip t g
add chain ip t r
add chain ip t f { type filter hook forward priority 0 ; policy drop ; }
add rule ip t j return
add rule ip t j reject
add rule ip t g ip daddr 10.9.9.9 accept
add rule ip t r jump j
add rule ip t r goto g
add rule ip t r reject
add rule ip t f jump r
add rule ip t f accept
`
    // r: jump j (returns), goto g (no match, falls off g -> r returns too), f goes on to accept.
    expect(answer(text).output).toBe('ACCEPT')
    // With nothing accepting, the drop policy decides.
    expect(answer(text.replace('add rule ip t f accept\n', '')).output).toBe('DROP')
  })

  it('DNATs in nat prerouting, routes by the new destination, and masquerades a marked packet in postrouting', () => {
    const text = `${head}add map ip t svc { type ipv4_addr . inet_proto . inet_service : verdict ; }
add chain ip t pre { type nat hook prerouting priority -100 ; }
add chain ip t post { type nat hook postrouting priority 100 ; }
add chain ip t s
add rule ip t pre ip daddr . meta l4proto . th dport vmap @svc
add rule ip t s mark set mark or 0x4000
add rule ip t s meta l4proto tcp dnat to 10.180.0.1:8080
add rule ip t post mark and 0x4000 == 0 return
add rule ip t post masquerade fully-random
add element ip t svc { 172.30.0.1 . tcp . 80 : goto s }
`
    const [o] = exploreNft(prog(text), pkt('172.30.0.1'), ctx, { origin: 'external' }).outcomes
    expect(o).toMatchObject({ verdict: { kind: 'dnat', to: '10.180.0.1:8080', address: '10.180.0.1', port: 8080 }, route: 'forward', masquerade: true, mark: 0x4000 })
    expect(o!.hops.map((h) => `${h.chain}#${h.rule}`)).toEqual(['pre#1', 's#1', 's#2', 'post#2'])
    // Another port or protocol misses the map: no DNAT.
    expect(answer(text, pkt('172.30.0.1', 81)).output).toBe('')
    expect(answer(text, pkt('172.30.0.1', 80, '10.1.0.5', 'udp')).output).toBe('')
  })

  it('looks addresses up in interval sets and anonymous sets with negation', () => {
    const text = `${head}add set ip t nets { type ipv4_addr ; flags interval ; }
add chain ip t f { type filter hook forward priority 0 ; }
add rule ip t f ip saddr @nets drop
add rule ip t f ip saddr != { 10.2.0.0/16 , 10.3.0.1 } reject
add element ip t nets { 10.1.0.0/16 }
add element ip t nets { 10.5.0.1-10.5.0.9 }
`
    expect(answer(text, pkt('1.1.1.1', 80, '10.1.200.3')).output).toBe('DROP')
    expect(answer(text, pkt('1.1.1.1', 80, '10.5.0.4')).output).toBe('DROP')
    expect(answer(text, pkt('1.1.1.1', 80, '10.2.0.4')).output).toBe('')
    expect(answer(text, pkt('1.1.1.1', 80, '10.3.0.1')).output).toBe('')
    expect(answer(text, pkt('1.1.1.1', 80, '10.3.0.2')).output).toBe('REJECT')
  })

  it('fib daddr type local sends the packet to input; ip6 selectors do not match IPv4 packets', () => {
    const text = `${head}add chain ip t in { type filter hook input priority 0 ; }
add chain ip t fw { type filter hook forward priority 0 ; }
add rule ip t in fib daddr type local reject
add rule ip t fw ip6 daddr fd00::1 drop
`
    expect(answer(text, pkt('192.168.0.2')).output).toBe('REJECT')
    expect(answer(text, pkt('10.9.0.1')).output).toBe('')
  })

  it('explore follows every numgen branch in branch order with probability 1/N each', () => {
    const text = `${head}add chain ip t pre { type nat hook prerouting priority -100 ; }
add chain ip t e0
add chain ip t e1
add chain ip t e2
add rule ip t e0 meta l4proto tcp dnat to 10.0.0.10:80
add rule ip t e1 meta l4proto tcp dnat to 10.0.0.11:80
add rule ip t e2 meta l4proto tcp dnat to 10.0.0.12:80
add rule ip t pre numgen random mod 3 vmap { 0 : goto e0 , 1 : goto e1 , 2 : goto e2 }
`
    const { outcomes } = exploreNft(prog(text), pkt('172.30.0.1'), ctx, { origin: 'external' })
    expect(outcomes.map((o) => [o.verdict.kind === 'dnat' && o.verdict.to, o.probability])).toEqual([
      ['10.0.0.10:80', 1 / 3], ['10.0.0.11:80', 1 / 3], ['10.0.0.12:80', 1 / 3],
    ])
    // Sample mode: seeded, every branch drawn about a third of the time.
    const p = prog(text)
    const counts = new Map<string, number>()
    const random = seededRandom(15)
    for (let i = 0; i < 3000; i++) {
      const o = sampleNft(p, pkt('172.30.0.1'), ctx, { origin: 'external', state: createNftSetState(), random, clock: { now: () => 0 } })
      const to = o.verdict.kind === 'dnat' ? o.verdict.to : '?'
      counts.set(to, (counts.get(to) ?? 0) + 1)
    }
    for (const n of counts.values()) expect(n).toBeGreaterThan(850)
    expect(counts.size).toBe(3)
  })

  it('affinity: update @set pins a client in sample mode until the timeout passes on the clock', () => {
    const text = `${head}add set ip t aff0 { type ipv4_addr ; flags dynamic,timeout ; timeout 10s ; }
add set ip t aff1 { type ipv4_addr ; flags dynamic,timeout ; timeout 10s ; }
add chain ip t pre { type nat hook prerouting priority -100 ; }
add chain ip t e0
add chain ip t e1
add rule ip t pre ip saddr @aff0 goto e0
add rule ip t pre ip saddr @aff1 goto e1
add rule ip t pre numgen random mod 2 vmap { 0 : goto e0 , 1 : goto e1 }
add rule ip t e0 update @aff0 { ip saddr }
add rule ip t e0 meta l4proto tcp dnat to 10.0.0.10:80
add rule ip t e1 update @aff1 { ip saddr }
add rule ip t e1 meta l4proto tcp dnat to 10.0.0.11:80
`
    const p = prog(text)
    const state = createNftSetState()
    let now = 0
    const clock = { now: () => now }
    const random = seededRandom(3)
    const to = () => {
      const o = sampleNft(p, pkt('172.30.0.1'), ctx, { origin: 'external', state, random, clock })
      return o.verdict.kind === 'dnat' ? o.verdict.to : '?'
    }
    const first = to()
    for (let i = 0; i < 20; i++) {
      now += 500
      expect(to()).toBe(first)
    }
    // Idle past the timeout: the entry expires and the next pick is free again.
    const seen = new Set<string>()
    for (let i = 0; i < 20; i++) {
      now += 11_000
      seen.add(to())
    }
    expect(seen.size).toBe(2)
    // Explore reads the affinity state without changing it and reports the update it would make.
    const ex = exploreNft(p, pkt('172.30.0.1'), ctx, { origin: 'external', sets: { state, now } })
    expect(ex.outcomes).toHaveLength(1)
    expect(ex.outcomes[0]!.setEffects).toEqual([{ table: 'ip t', set: ex.outcomes[0]!.setEffects[0]!.set, key: String(0x0a010005), op: 'update' }])
  })

  it('a jump loop is an error, not a hang', () => {
    const text = `${head}add chain ip t a
add chain ip t f { type filter hook forward priority 0 ; }
add rule ip t f jump a
`
    const d = nftDocumentOf(parseNft(text))
    const looped = { tables: [{ ...d.tables[0]!, chains: d.tables[0]!.chains.map((c) => (c.name === 'a' ? { ...c, rules: [{ exprs: [{ kind: 'verdict' as const, verdict: { kind: 'jump' as const, chain: 'a' } }] }] } : c)) }] }
    expect(() => exploreNft(compileNft(looped), pkt('1.1.1.1'), ctx, { origin: 'external' })).toThrow(NftRuleLoopError)
  })

  it('local origin: output hooks, then postrouting, then input for a local destination', () => {
    const text = `${head}add chain ip t out { type filter hook output priority 0 ; }
add chain ip t in { type filter hook input priority 0 ; }
add chain ip t fw { type filter hook forward priority 0 ; }
add rule ip t fw drop
add rule ip t in tcp dport 22 reject
`
    expect(answer(text, pkt('192.168.0.2', 22, '192.168.0.2'), 'local').output).toBe('REJECT')
    expect(answer(text, pkt('10.9.9.9', 22, '192.168.0.2'), 'local').output).toBe('')
  })
})

describe('NftInterpreterExecutor', () => {
  it('applies transactions all or nothing, with the error nft -f gives', async () => {
    const ex = new NftInterpreterExecutor()
    await ex.apply(`${head}add chain ip t c\n`)
    await expect(ex.apply('add rule ip t c drop\nadd rule ip t c jump missing\n')).rejects.toThrow(ExecError)
    await expect(ex.apply('add rule ip t c drop\nadd rule ip t c jump missing\n')).rejects.toThrow(/line 2: add rule: jump target missing does not exist/)
    expect(ex.document().tables[0]!.chains[0]!.rules).toEqual([])
    expect(ex.applies).toBe(1)
  })

  it('keeps affinity entries across transactions until the set is flushed', async () => {
    const ex = new NftInterpreterExecutor()
    await ex.apply(`${head}add set ip t aff { type ipv4_addr ; flags dynamic,timeout ; timeout 10s ; }\n`)
    ex.sets.set('ip t aff', new Map([['1', 5000]]))
    await ex.apply('add chain ip t c\n')
    expect(ex.sets.get('ip t aff')?.size).toBe(1)
    await ex.apply('flush set ip t aff\n')
    expect(ex.sets.has('ip t aff')).toBe(false)
  })
})
