import { describe, expect, it } from 'vitest'
import { ParseError } from '../../../src/errors.js'
import type { Match, Rule } from '../../../src/proxy/netfilter/index.js'
import { parseIptablesSave, tokenizeRestoreLine } from '../../../src/proxy/netfilter/index.js'

const oneRule = (args: string, table = 'nat'): Rule => parseIptablesSave(`*${table}\n:X - [0:0]\n-A X ${args}\nCOMMIT\n`).tables[0]!.chains[0]!.rules[0]!

describe('tokenizeRestoreLine', () => {
  it.each([
    ['-A X -m comment --comment "a b"', ['-A', 'X', '-m', 'comment', '--comment', 'a b']],
    ['--comment "say \\"hi\\" \\\\ ok"', ['--comment', 'say "hi" \\ ok']],
    ['--comment ""', ['--comment', '']],
    ['a\\b  c', ['a\\b', 'c']],
    ['ab"c d"e', ['abc d', 'e']],
  ])('%s', (line, want) => {
    expect(tokenizeRestoreLine(line, 1).map((t) => t.text)).toEqual(want)
  })
})

describe('parseIptablesSave', () => {
  it('reads iptables-save output and kube-proxy restore input of the same rule alike', () => {
    const saved = oneRule('-d 172.30.0.41/32 -p tcp -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp --dport 80 -j KUBE-SVC-X')
    const restore = oneRule('-m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41/32 --dport 80 -j KUBE-SVC-X')
    const kinds = (r: Rule): string[] => r.matches.map((m) => m.kind).sort()
    expect(kinds(saved)).toEqual(kinds(restore))
    expect(saved.target).toEqual({ kind: 'jump', chain: 'KUBE-SVC-X' })
  })

  it('drops the default --mask and --rsource of -m recent, in any option order', () => {
    const saved = oneRule('-p tcp -m recent --set --name KUBE-SEP-X --mask 255.255.255.255 --rsource -m tcp -j DNAT --to-destination 10.0.0.1:80')
    const ours = oneRule('-p tcp -m recent --name KUBE-SEP-X --set -m tcp -j DNAT --to-destination 10.0.0.1:80')
    expect(saved).toEqual(ours)
    expect(oneRule('-m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-X --mask 255.255.255.255 --rsource -j KUBE-SEP-X').matches).toEqual([
      { kind: 'recent', name: 'KUBE-SEP-X', op: 'rcheck', seconds: 10800, reap: true },
    ])
  })

  it('reads "! --dport" (negation before the option) and the implicit tcp module', () => {
    expect(oneRule('-p tcp -m tcp ! --dport 80:90 -j ACCEPT').matches).toEqual([
      { kind: 'protocol', proto: 'tcp' },
      { kind: 'l4-module', proto: 'tcp' },
      { kind: 'dport', port: { from: 80, to: 90 }, negated: true },
    ])
    expect(oneRule('-p udp --dport 53 -j ACCEPT').matches).toEqual([
      { kind: 'protocol', proto: 'udp' },
      { kind: 'dport', port: { from: 53 } },
    ])
  })

  it.each<[string, Match[]]>([
    ['-m mark ! --mark 0x4000/0x4000', [{ kind: 'mark', value: { value: 0x4000, digits: 4 }, mask: { value: 0x4000, digits: 4 }, negated: true }]],
    ['-m mark --mark 0x00004000', [{ kind: 'mark', value: { value: 0x4000, digits: 8 } }]],
    ['-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT', [{ kind: 'conntrack', states: ['RELATED', 'ESTABLISHED', 'DNAT'], negated: true }]],
    ['-m addrtype ! --src-type LOCAL --dst-type LOCAL', [{ kind: 'addrtype', src: { type: 'LOCAL', negated: true }, dst: { type: 'LOCAL' } }]],
    ['-m statistic --mode random --probability 0.33333333349', [{ kind: 'statistic-random', probability: 0.33333333349 }]],
    ['-m statistic --mode nth --every 3 --packet 1', [{ kind: 'statistic-nth', every: 3, packet: 1 }]],
    ['-m nfacct --nfacct-name localhost_nps_accepted_pkts', [{ kind: 'nfacct', name: 'localhost_nps_accepted_pkts' }]],
    ['-m multiport --dports 80,443,8000:8080', [{ kind: 'multiport', side: 'dports', ports: [{ from: 80 }, { from: 443 }, { from: 8000, to: 8080 }] }]],
    ['-m physdev --physdev-is-in ! --physdev-is-bridged -s 1.2.3.4', [{ kind: 'physdev', tokens: ['--physdev-is-in', '!', '--physdev-is-bridged'] }, { kind: 'source', address: '1.2.3.4' }]],
    ['-m limit --limit 5/min --limit-burst 7 ! -d 10.0.0.0/8', [{ kind: 'unknown', module: 'limit', tokens: ['--limit', '5/min', '--limit-burst', '7'] }, { kind: 'destination', address: '10.0.0.0/8', negated: true }]],
    ['-m state --state NEW', [{ kind: 'unknown', module: 'state', tokens: ['--state', 'NEW'] }]],
    ['-m conntrack --ctstatus CONFIRMED', [{ kind: 'unknown', module: 'conntrack', tokens: ['--ctstatus', 'CONFIRMED'] }]],
    ['--source 10.0.0.1 ! --in-interface eth+ --protocol 6', [{ kind: 'source', address: '10.0.0.1' }, { kind: 'in-interface', name: 'eth+', negated: true }, { kind: 'protocol', proto: 'tcp' }]],
    ['-m comment --comment kubernetes service portals', [{ kind: 'comment', text: 'kubernetes service portals' }]],
  ])('%s', (args, want) => {
    expect(oneRule(`${args} -j ACCEPT`).matches).toEqual(want)
  })

  it.each([
    ['-j MARK --set-xmark 0x4000/0x4000', { kind: 'mark', op: 'set-xmark', value: { value: 0x4000, digits: 4 }, mask: { value: 0x4000, digits: 4 } }],
    ['-j MARK --or-mark 0x4000', { kind: 'mark', op: 'or', value: { value: 0x4000, digits: 4 } }],
    ['-j MASQUERADE --random-fully', { kind: 'masquerade', randomFully: true }],
    ['-j MASQUERADE --to-ports 1024-2048', { kind: 'masquerade', toPorts: '1024-2048' }],
    ['-j SNAT --to-source 1.2.3.4 --random-fully', { kind: 'snat', to: '1.2.3.4', randomFully: true }],
    ['-j REJECT --reject-with icmp-port-unreachable', { kind: 'reject', with: 'icmp-port-unreachable' }],
    ['-j DNAT --to-destination [fd00::1]:80', { kind: 'dnat', to: '[fd00::1]:80' }],
    ['-g KUBE-SVC-X', { kind: 'goto', chain: 'KUBE-SVC-X' }],
    ['-j RETURN', { kind: 'verdict', verdict: 'RETURN' }],
    ['-j LOG --log-prefix "kpe: "', { kind: 'unknown', name: 'LOG', tokens: ['--log-prefix', 'kpe: '] }],
    ['-j DNAT --to-destination 1.2.3.4:80 --persistent', { kind: 'unknown', name: 'DNAT', tokens: ['--to-destination', '1.2.3.4:80', '--persistent'] }],
  ])('%s', (args, want) => {
    expect(oneRule(args).target).toEqual(want)
  })

  it('keeps policies, non-zero counters, -X lines and rules for undeclared chains', () => {
    const t = parseIptablesSave(
      '# Generated by iptables-save\n*filter\n:INPUT DROP [12:3400]\n:FORWARD ACCEPT [0:0]\n:KUBE-X - [0:0]\n[5:300] -A INPUT -j KUBE-X\n[0:0] -A INPUT -j ACCEPT\n-A KUBE-NEW -j DROP\n-X KUBE-OLD\nCOMMIT\n# Completed\n',
    )
    const filter = t.tables[0]!
    expect(filter.chains.map((c) => [c.name, c.policy, c.counters])).toEqual([
      ['INPUT', 'DROP', { packets: 12, bytes: 3400 }],
      ['FORWARD', 'ACCEPT', undefined],
      ['KUBE-X', undefined, undefined],
      ['KUBE-NEW', undefined, undefined],
    ])
    expect(filter.chains[0]!.rules.map((r) => r.counters)).toEqual([{ packets: 5, bytes: 300 }, undefined])
    expect(filter.deletedChains).toEqual(['KUBE-OLD'])
    expect(t.family).toBe('IPv4')
  })

  it('infers IPv6 from addresses unless told the family', () => {
    expect(parseIptablesSave('*nat\n-A X -d fd00::1/128 -j ACCEPT\nCOMMIT\n').family).toBe('IPv6')
    expect(parseIptablesSave('*nat\nCOMMIT\n', { family: 'IPv6' }).family).toBe('IPv6')
  })

  it.each([
    ['-A X -j ACCEPT\n', 1, 'outside a table'],
    ['*nat\n:X - [0:0]\n', 3, 'truncated dump: table nat has no COMMIT'],
    ['*nat\n*filter\nCOMMIT\n', 2, 'has no COMMIT'],
    ['*nat\n-I X 1 -j ACCEPT\nCOMMIT\n', 2, 'unknown line'],
    ['*nat\n-A X -m comment --comment "oops\nCOMMIT\n', 2, 'unterminated quote'],
    ['*nat\n-A X -s\nCOMMIT\n', 2, 'requires an argument'],
    ['*nat\n-A X -m statistic --mode nth --every x\nCOMMIT\n', 2, 'bad number'],
    ['*nat\n-A X -p tcp --dport 70000\nCOMMIT\n', 2, 'bad port'],
    ['*nat\n-A X -m mark --mark 0xZZ\nCOMMIT\n', 2, 'bad mark'],
    ['*nat\n:X FOO [0:0]\nCOMMIT\n', 2, 'bad chain policy'],
    ['*nat\n:X - [a:b]\nCOMMIT\n', 2, 'bad counters'],
    ['*nat\n-A X --frobnicate\nCOMMIT\n', 2, 'unknown option'],
    ['*nat\n-A X -j A -j B\nCOMMIT\n', 2, 'more than one target'],
    ['*bogus\nCOMMIT\n', 1, 'unknown table'],
    ['*nat\n-A X -m conntrack --ctstate NEWISH\nCOMMIT\n', 2, 'unknown conntrack state'],
  ])('rejects %j at line %i', (text, line, reason) => {
    let err: unknown
    try {
      parseIptablesSave(text, { source: 'dump.txt' })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(ParseError)
    expect((err as ParseError).code).toBe('KPE_PARSE')
    expect((err as ParseError).line).toBe(line)
    expect((err as ParseError).message).toContain(reason)
    expect((err as ParseError).message).toContain(`dump.txt, line ${line}`)
  })
})
