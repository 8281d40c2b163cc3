import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ParseError } from '../../../../src/errors.js'
import type { IPAddress } from '../../../../src/net/index.js'
import { buildProxyState, resolveProxierConfig } from '../../../../src/proxy/model/index.js'
import { applyNftCommands, declarationsFirst, nftDocumentOf, parseNft, renderNftDocument, type NftDocument } from '../../../../src/proxy/netfilter/nft/index.js'
import { buildNftablesRules, renderNftablesTransaction } from '../../../../src/proxy/nftables/index.js'
import { clusterArb } from '../../../helpers/cluster-arbitrary.js'
import { sharedDir } from '../../../helpers/shared.js'

const parse = (text: string): NftDocument => nftDocumentOf(parseNft(text, { source: 't.nft' }), { source: 't.nft' })
/**
 * Handles number rules in the order they were added, and rendering puts sets before maps:
 * both change with the text's order, not its meaning.
 */
const withoutHandles = (d: NftDocument): NftDocument => ({ tables: d.tables.map((t) => ({ ...t, sets: [...t.sets.filter((s) => s.kind === 'set'), ...t.sets.filter((s) => s.kind === 'map')], chains: t.chains.map((c) => ({ ...c, rules: c.rules.map(({ handle: _h, ...r }) => r) })) })) })
const table = (d: NftDocument) => d.tables[0]!
const chain = (d: NftDocument, name: string) => table(d).chains.find((c) => c.name === name)!

// What `nft list ruleset` printed (nftables 1.0.6) after loading kpe's rules for a LoadBalancer
// with source ranges and affinity: symbolic priorities, `meta mark &`, multi-line elements.
const listing = `table ip kube-proxy {
	comment "rules for kube-proxy"
	set cluster-ips {
		type ipv4_addr
		comment "Active ClusterIPs"
		elements = { 172.30.0.41 }
	}

	set affinity-X {
		type ipv4_addr
		flags dynamic,timeout
		timeout 3h
		elements = { 10.0.0.7 timeout 3h expires 2h59m58s120ms }
	}

	map service-ips {
		type ipv4_addr . inet_proto . inet_service : verdict
		comment "ClusterIP, ExternalIP and LoadBalancer IP traffic"
		elements = { 1.2.3.4 . tcp . 80 : goto external-svc,
			     172.30.0.41 . tcp . 80 : goto service-svc }
	}

	chain nat-prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		jump services
	}

	chain filter-prerouting-pre-dnat {
		type filter hook prerouting priority dstnat - 10; policy accept;
		ct state new jump services
	}

	chain services {
		ip daddr . meta l4proto . th dport vmap @service-ips
	}

	chain masquerading {
		meta mark & 0x00004000 == 0x00000000 return
		meta mark set meta mark ^ 0x00004000
		masquerade fully-random
	}

	chain external-svc {
		ip saddr != { 1.2.3.4, 192.168.0.0/24 } drop
		goto service-svc
	}

	chain service-svc {
		ip saddr @affinity-X goto endpoint-a
		numgen random mod 1 vmap { 0 : goto endpoint-a }
	}

	chain endpoint-a {
		update @affinity-X { ip saddr }
		meta l4proto tcp dnat to 10.180.0.1:80
	}
}
`

describe('parseNft: the listing form', () => {
  const d = parse(listing)

  it('reads base chains with symbolic priorities and policies', () => {
    expect(chain(d, 'nat-prerouting').base).toEqual({ type: 'nat', hook: 'prerouting', priority: -100, policy: 'accept' })
    expect(chain(d, 'filter-prerouting-pre-dnat').base).toEqual({ type: 'filter', hook: 'prerouting', priority: -110, policy: 'accept' })
  })

  it('reads sets and maps with flags, timeouts and multi-line elements', () => {
    const aff = table(d).sets.find((s) => s.name === 'affinity-X')!
    expect(aff).toMatchObject({ kind: 'set', flags: ['dynamic', 'timeout'], timeoutMs: 3 * 3_600_000 })
    expect(aff.elements).toEqual([{ key: ['10.0.0.7'], timeoutMs: 10_800_000, expiresMs: 10_798_120 }])
    const m = table(d).sets.find((s) => s.name === 'service-ips')!
    expect(m.keyType).toEqual(['ipv4_addr', 'inet_proto', 'inet_service'])
    expect(m.elements.map((e) => [e.key, e.verdict])).toEqual([
      [['1.2.3.4', 'tcp', '80'], { kind: 'goto', chain: 'external-svc' }],
      [['172.30.0.41', 'tcp', '80'], { kind: 'goto', chain: 'service-svc' }],
    ])
  })

  it('reads the kernel spelling of marks as the same values kpe writes', () => {
    const kpe = parse('add table ip t\nadd chain ip t masquerading\nadd rule ip t masquerading mark and 0x4000 == 0 return\nadd rule ip t masquerading mark set mark xor 0x4000\n')
    const [a, b] = chain(d, 'masquerading').rules
    const [ka, kb] = chain(kpe, 'masquerading').rules
    expect(a!.exprs[0]).toMatchObject({ kind: 'match', key: { parts: [{ kind: 'meta', key: 'mark' }] }, op: '==' })
    expect(Number((a!.exprs[0] as { key: { mask: string } }).key.mask)).toBe(Number((ka!.exprs[0] as { key: { mask: string } }).key.mask))
    expect(b!.exprs[0]).toEqual({ kind: 'mark-set', op: 'xor', value: '0x00004000' })
    expect(kb!.exprs[0]).toEqual({ kind: 'mark-set', op: 'xor', value: '0x4000' })
  })

  it('reads anonymous sets, negation, affinity updates and dnat', () => {
    expect(chain(d, 'external-svc').rules[0]!.exprs[0]).toEqual({
      kind: 'match', key: { parts: [{ kind: 'payload', proto: 'ip', field: 'saddr' }] }, op: '!=', right: { kind: 'anonymous-set', items: ['1.2.3.4', '192.168.0.0/24'] },
    })
    expect(chain(d, 'endpoint-a').rules.map((r) => r.exprs.map((e) => e.kind))).toEqual([['set-update'], ['match', 'dnat']])
    expect(chain(d, 'service-svc').rules[1]!.exprs[0]).toMatchObject({ kind: 'vmap', key: { parts: [{ kind: 'numgen', mode: 'random', mod: 1 }] } })
  })

  it('a rule may name a chain listed after it (declarations are applied first)', () => {
    expect(chain(d, 'nat-prerouting').rules).toHaveLength(1)
  })
})

describe('parseNft: errors name the line and the token', () => {
  const cases: [string, string, RegExp][] = [
    ['truncated rule', 'add table ip t\nadd chain ip t c\nadd rule ip t c ip daddr', /t\.nft, line 3: expected a value, got end of input/],
    ['unknown statement', 'add table ip t\nadd chain ip t c\nadd rule ip t c ip daddr 1.2.3.4 frobnicate', /line 3: unexpected token in rule, got "frobnicate" at column 34/],
    ['an address that is not one', 'add table ip t\nadd chain ip t c\nadd rule ip t c ip saddr != { 10.0.0.0/8 , nope } drop', /line 3: "nope" is not an IP address, CIDR or range, got "\{" at column 29/],
    ['a port that is not one', 'add table ip t\nadd chain ip t c\nadd rule ip t c tcp dport http drop', /line 3: "http" is not a port/],
    ['unterminated string', 'add table ip t { comment "abc ; }\n', /line 1: unterminated string/],
    ['unclosed listing', 'table ip t {\n\tchain c {\n\t\tjump d\n', /expected .*end of input/],
    ['bad priority', 'add table ip t\nadd chain ip t c { type filter hook input priority lots ; }', /line 2: expected a priority .* got "lots"/],
    ['element of the wrong arity', 'add table ip t\nadd map ip t m { type ipv4_addr . inet_proto : verdict ; }\nadd element ip t m { 1.2.3.4 : drop }', /line 3: add element: element 1\.2\.3\.4 has 1 key parts/],
    ['jump to an undeclared chain', 'add table ip t\nadd chain ip t c\nadd rule ip t c jump d', /line 3: add rule: jump target d does not exist/],
    ['set used before it is declared', 'add table ip t\nadd chain ip t c\nadd rule ip t c ip daddr @s drop', /line 3: add rule: set @s does not exist/],
    ['a rule in a missing chain', 'add table ip t\nadd rule ip t c drop', /line 2: add rule: chain c does not exist/],
  ]
  it.each(cases)('%s', (_n, text, want) => {
    let err: unknown
    try {
      parse(text)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ParseError)
    expect((err as Error).message).toMatch(want)
  })

  it('a failing transaction changes nothing', () => {
    const before = parse('add table ip t\nadd chain ip t c\n')
    expect(() => applyNftCommands(before, parseNft('add rule ip t c drop\nadd rule ip t c jump nowhere\n'))).toThrow(ParseError)
    expect(chain(before, 'c').rules).toEqual([])
  })

  it('delete and flush follow nft: flushed chains stay, busy chains cannot go', () => {
    const d = parse('add table ip t\nadd chain ip t a\nadd chain ip t b\nadd rule ip t a jump b\nadd map ip t m { type ipv4_addr : verdict ; }\nadd element ip t m { 1.2.3.4 : goto b }\n')
    expect(() => applyNftCommands(d, parseNft('delete chain ip t b'))).toThrow(/in use/)
    const after = applyNftCommands(d, parseNft('flush chain ip t a\ndelete element ip t m { 1.2.3.4 }\ndelete chain ip t b\n'))
    expect(table(after).chains.map((c) => [c.name, c.rules.length])).toEqual([['a', 0]])
  })

  it('never throws anything but a ParseError on mangled input (fuzz, seeded)', () => {
    const lines = renderNftablesTransaction(buildNftablesRules({ state: buildProxyState([], [], 'IPv4', 'node-a'), config })).split('\n')
    fc.assert(
      fc.property(fc.integer({ min: 0, max: lines.length - 1 }), fc.integer({ min: 0, max: 200 }), fc.string({ maxLength: 4 }), (li, cut, junk) => {
        const mangled = [...lines.slice(0, li), (lines[li] ?? '').slice(0, cut) + junk].join('\n')
        try {
          parse(mangled)
        } catch (e) {
          if (!(e instanceof ParseError)) throw e
        }
      }),
      { seed: 15, numRuns: 300 },
    )
  })
})

const config = resolveProxierConfig({
  config: { apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', clusterCIDR: '10.0.0.0/8', mode: 'nftables' },
  ipFamily: 'IPv4', node: undefined, nodeName: 'node-a', extraInterfaceAddresses: ['192.168.0.2' as IPAddress],
})

describe('parseNft: round trips', () => {
  it('render -> parse -> render is the identity on kpe transactions for random clusters (seed 15)', () => {
    fc.assert(
      fc.property(clusterArb(5), (c) => {
        const text = renderNftablesTransaction(buildNftablesRules({ state: buildProxyState(c.services, c.endpointSlices, 'IPv4', 'node-a'), config }))
        expect(renderNftDocument(parse(text))).toBe(text)
      }),
      { seed: 15, numRuns: 60 },
    )
  })

  const golden = join(sharedDir, 'kube-proxy-golden-nft')
  const cases = existsSync(golden) ? readdirSync(golden).filter((d) => existsSync(join(golden, d, 'expected.nft'))) : []
  it.runIf(cases.length > 0).each(cases)("upstream's %s/expected.nft (knftables dump lines) parses, and its rendering parses to the same values", (name) => {
    const d = nftDocumentOf(declarationsFirst(parseNft(readFileSync(join(golden, name, 'expected.nft'), 'utf8'))))
    expect(table(d).chains.length).toBeGreaterThan(5)
    expect(withoutHandles(parse(renderNftDocument(d)))).toEqual(withoutHandles(d))
  })

  it('the listing parses to the same values as its own rendering', () => {
    const d = parse(listing)
    expect(withoutHandles(parse(renderNftDocument(d)))).toEqual(withoutHandles(d))
  })
})
