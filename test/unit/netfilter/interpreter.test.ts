import { describe, expect, it } from 'vitest'
import type { Packet } from '../../../src/proxy/netfilter/index.js'
import { compile, createInterpreterState, explore, parseIptablesSave, sample } from '../../../src/proxy/netfilter/index.js'
import { FakeClock, seededRandom } from '../../helpers/seeded-random.js'

const affinity = (n: number): string =>
  `-A KUBE-SVC-A -m comment --comment "ns/a -> ep${n}" -m recent --name KUBE-SEP-${n} --rcheck --seconds 10800 --reap -j KUBE-SEP-${n}`
const sep = (n: number, sticky: boolean): string =>
  [
    `-A KUBE-SEP-${n} -s 10.180.0.${n} -j KUBE-MARK-MASQ`,
    `-A KUBE-SEP-${n} -m tcp -p tcp${sticky ? ` -m recent --name KUBE-SEP-${n} --set` : ''} -j DNAT --to-destination 10.180.0.${n}:8080`,
  ].join('\n')

/** One ClusterIP service with three endpoints, kube-proxy style; sticky adds ClientIP affinity. */
function serviceRules(sticky: boolean): string {
  return `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-FIREWALL - [0:0]
-A INPUT -j KUBE-FIREWALL
-A OUTPUT -j KUBE-FIREWALL
-A FORWARD -j KUBE-FORWARD
-A KUBE-FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m conntrack --ctstate DNAT -j ACCEPT
-A KUBE-FIREWALL -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-SVC-A - [0:0]
:KUBE-SEP-1 - [0:0]
:KUBE-SEP-2 - [0:0]
:KUBE-SEP-3 - [0:0]
-A PREROUTING -j KUBE-SERVICES
-A OUTPUT -j KUBE-SERVICES
-A POSTROUTING -j KUBE-POSTROUTING
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -j MASQUERADE
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-SERVICES -m tcp -p tcp -d 172.30.0.10 --dport 80 -j KUBE-SVC-A
-A KUBE-SVC-A -m tcp -p tcp -d 172.30.0.10 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ
${sticky ? [1, 2, 3].map(affinity).join('\n') : ''}
-A KUBE-SVC-A -m statistic --mode random --probability 0.3333333333 -j KUBE-SEP-1
-A KUBE-SVC-A -m statistic --mode random --probability 0.5000000000 -j KUBE-SEP-2
-A KUBE-SVC-A -j KUBE-SEP-3
${[1, 2, 3].map((n) => sep(n, sticky)).join('\n')}
COMMIT
`
}

const node = { localAddresses: new Set(['192.168.0.2', '127.0.0.1']) }
const toService = (src: string): Packet => ({ src, dst: '172.30.0.10', proto: 'tcp', dport: 80 })
const endpoints = ['10.180.0.1:8080', '10.180.0.2:8080', '10.180.0.3:8080']

describe('explore', () => {
  const table = parseIptablesSave(serviceRules(false))

  it('a pod reaching a ClusterIP can land on every endpoint, in chain order, with equal probability', () => {
    const { outcomes, truncated } = explore(table, toService('10.0.0.5'), node, { origin: 'external' })
    expect(truncated).toBe(false)
    expect(outcomes.map((o) => o.verdict.kind === 'dnat' && o.verdict.to)).toEqual(endpoints)
    for (const o of outcomes) {
      expect(o.probability).toBeCloseTo(1 / 3, 9)
      expect(o.masquerade).toBe(false)
      expect(o.route).toBe('forward')
      // accepted by the conntrack DNAT rule of KUBE-FORWARD (FORWARD's policy is DROP)
      expect(o.decidedAt).toEqual({ table: 'filter', chain: 'KUBE-FORWARD', rule: 2 })
      expect(o.unmodelled).toEqual([])
    }
    expect(outcomes.reduce((s, o) => s + o.probability, 0)).toBeCloseTo(1, 12)
  })

  it('traffic from outside the pod network is marked and masqueraded in POSTROUTING, which clears the mark', () => {
    const { outcomes } = explore(table, toService('203.0.113.9'), node, { origin: 'external' })
    expect(outcomes.map((o) => [o.masquerade, o.mark])).toEqual([[true, 0], [true, 0], [true, 0]])
  })

  it('an endpoint reaching itself through the service is masqueraded (hairpin) on that path only', () => {
    const { outcomes } = explore(table, toService('10.180.0.1'), node, { origin: 'external' })
    expect(outcomes.map((o) => o.masquerade)).toEqual([true, false, false])
  })

  it('records the hops of each path, including the statistic branch not taken', () => {
    const { outcomes } = explore(table, toService('10.0.0.5'), node, { origin: 'external' })
    const svcHops = outcomes[1]!.hops.filter((h) => h.chain === 'KUBE-SVC-A').map((h) => [h.rule, h.matched, h.decidedBy])
    expect(svcHops).toEqual([[2, false, 0], [3, true, 0]])
  })

  it('a forwarded packet that matches no service falls to FORWARD policy DROP', () => {
    const { outcomes } = explore(table, { src: '10.0.0.5', dst: '10.0.0.9', proto: 'tcp', dport: 80 }, node, { origin: 'external' })
    expect(outcomes).toHaveLength(1)
    expect(outcomes[0]!.verdict).toEqual({ kind: 'drop' })
    expect(outcomes[0]!.decidedAt).toBeUndefined()
  })

  it('the node itself reaching the service goes through nat OUTPUT and is masqueraded', () => {
    const { outcomes } = explore(table, toService('192.168.0.2'), node, { origin: 'local' })
    expect(outcomes.map((o) => [o.verdict.kind, o.route, o.masquerade])).toEqual([
      ['dnat', 'output', true], ['dnat', 'output', true], ['dnat', 'output', true],
    ])
  })

  it('KUBE-FIREWALL drops remote traffic to 127.0.0.0/8 unless it was DNATed', () => {
    const local = { localAddresses: new Set(['127.0.0.1']) }
    const { outcomes } = explore(table, { src: '10.0.0.5', dst: '127.0.0.1', proto: 'tcp', dport: 80 }, local, { origin: 'external' })
    expect(outcomes.map((o) => [o.verdict.kind, o.decidedAt?.chain])).toEqual([['drop', 'KUBE-FIREWALL']])
  })

  it('treats physdev and unknown matches as not matching and says so', () => {
    const t = parseIptablesSave('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m physdev --physdev-is-in -j DROP\n-A INPUT -m limit --limit 1/s -j DROP\nCOMMIT\n')
    const { outcomes } = explore(t, { src: '10.0.0.5', dst: '127.0.0.1', proto: 'tcp', dport: 80 }, node, { origin: 'external' })
    expect(outcomes[0]!.verdict).toEqual({ kind: 'accept' })
    expect(outcomes[0]!.unmodelled.map((u) => [u.chain, u.rule, u.what])).toEqual([
      ['INPUT', 1, '-m physdev --physdev-is-in'],
      ['INPUT', 2, '-m limit --limit 1/s'],
    ])
  })

  it('honours goto, RETURN, MARK operations and REJECT', () => {
    const t = parseIptablesSave(`*filter
:INPUT ACCEPT [0:0]
:A - [0:0]
:B - [0:0]
:C - [0:0]
-A INPUT -j MARK --set-xmark 0xff/0xffffffff
-A INPUT -g A
-A INPUT -j DROP
-A A -j MARK --and-mark 0x0f
-A A -j B
-A A -m mark --mark 0x1f -j DROP
-A A -m mark --mark 0x0e -j C
-A B -j MARK --xor-mark 0x01
-A B -j RETURN
-A B -j DROP
-A C -j MARK --set-mark 0x100/0xf0
-A C -m mark --mark 0x10e -j REJECT --reject-with tcp-reset
COMMIT
`)
    const { outcomes } = explore(t, { src: '10.0.0.5', dst: '192.168.0.2', proto: 'tcp', dport: 22 }, node, { origin: 'external' })
    expect(outcomes.map((o) => [o.verdict, o.mark, o.decidedAt])).toEqual([
      [{ kind: 'reject', with: 'tcp-reset' }, 0x10e, { table: 'filter', chain: 'C', rule: 2 }],
    ])
    // Falling off A (entered by goto) returns past INPUT's caller: the INPUT policy applies, not rule 3.
    const t2 = parseIptablesSave('*filter\n:INPUT ACCEPT [0:0]\n:A - [0:0]\n-A INPUT -g A\n-A INPUT -j DROP\nCOMMIT\n')
    expect(explore(t2, { src: '10.0.0.5', dst: '192.168.0.2', proto: 'tcp', dport: 22 }, node, { origin: 'external' }).outcomes[0]!.verdict).toEqual({ kind: 'accept' })
  })
})

describe('sample', () => {
  it('draws endpoints with the frequencies explore predicts (seeded, 30,000 draws, within ±0.015)', () => {
    const rules = compile(parseIptablesSave(serviceRules(false)))
    const predicted = explore(rules, toService('10.0.0.5'), node, { origin: 'external' }).outcomes
    const random = seededRandom(42)
    const state = createInterpreterState()
    const clock = new FakeClock()
    const counts = new Map<string, number>()
    const draws = 30_000
    for (let i = 0; i < draws; i++) {
      const o = sample(rules, toService('10.0.0.5'), node, { origin: 'external', state, random, clock })
      const to = o.verdict.kind === 'dnat' ? o.verdict.to : o.verdict.kind
      counts.set(to, (counts.get(to) ?? 0) + 1)
    }
    for (const o of predicted) {
      const to = o.verdict.kind === 'dnat' ? o.verdict.to : ''
      expect(Math.abs((counts.get(to) ?? 0) / draws - o.probability)).toBeLessThan(0.015)
    }
  })

  it('ClientIP affinity pins a client to its endpoint for the timeout and releases it after', () => {
    const rules = compile(parseIptablesSave(serviceRules(true)))
    const random = seededRandom(7)
    const state = createInterpreterState()
    const clock = new FakeClock()
    const pick = (src: string): string => {
      const o = sample(rules, toService(src), node, { origin: 'external', state, random, clock })
      return o.verdict.kind === 'dnat' ? o.verdict.to : o.verdict.kind
    }
    const clients = Array.from({ length: 150 }, (_, i) => `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`)
    const first = new Map(clients.map((c) => [c, pick(c)]))
    expect(new Set(first.values())).toEqual(new Set(endpoints))
    clock.advance(10_800_000 - 1)
    for (const c of clients) expect(pick(c)).toBe(first.get(c))
    // Each pick above refreshed the list (--set in KUBE-SEP), so wait a full timeout and a bit more.
    clock.advance(10_800_000 + 1)
    const after = clients.map((c) => pick(c) !== first.get(c))
    // Released: about two thirds of the clients now land elsewhere.
    expect(after.filter(Boolean).length).toBeGreaterThan(70)
  })

  it('explore with a snapshot of the recent lists shows the pinned endpoint only', () => {
    const rules = compile(parseIptablesSave(serviceRules(true)))
    const state = createInterpreterState()
    const clock = new FakeClock()
    const o = sample(rules, toService('10.0.0.5'), node, { origin: 'external', state, random: seededRandom(1), clock })
    const pinned = explore(rules, toService('10.0.0.5'), node, { origin: 'external', recent: { state: state.recent, now: clock.now() } }).outcomes
    expect(pinned.map((p) => p.verdict)).toEqual([o.verdict])
    expect(pinned[0]!.probability).toBe(1)
    // Without a snapshot every endpoint is possible, and the --set is reported, not applied.
    const fresh = explore(rules, toService('10.0.0.5'), node, { origin: 'external' }).outcomes
    expect(fresh).toHaveLength(3)
    expect(fresh[0]!.recent).toEqual([{ name: 'KUBE-SEP-1', address: '10.0.0.5', op: 'set' }])
  })
})
