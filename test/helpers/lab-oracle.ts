/**
 * The kernel as the judge of the interpreter: packet-flow rows for a lab (client pods, a hairpin
 * pod, the nodes themselves and the external host, to every ClusterIP, NodePort, LB ingress IP
 * and external IP), the interpreter's explore answer for each row (following a forwarded packet
 * to a second node), the kernel's answer observed from real connections, and their comparison.
 */
import type { EndpointSlice, Service } from '../../src/api/index.js'
import { labProbeBatch, type LabNode, type LabPlan, type LabState, type NodeRules, type ProbeResult } from '../../src/lab/index.js'
import { ipv4ToNumber, type L4Proto } from '../../src/net/index.js'
import { savedView } from '../../src/proxy/iptables/index.js'
import type { PacketRow } from './flows.js'
import { compile, createRecentState, explore, type CompiledRules, type Origin, type Packet, type RecentEffect, type RecentState } from '../../src/proxy/netfilter/index.js'

/** A packet-flow row the lab sends for real: where from, and which node's netfilter sees it first. */
export interface OracleRow extends PacketRow {
  readonly protocol: 'TCP' | 'UDP'
  /** Lab target the connection is made from. */
  readonly from: string
  /** The node whose netfilter sees the packet first, and how. */
  readonly entry: string
  readonly origin: Origin
}

/** Observable results: a pod name, 'refused' or 'no-answer'; per pod, the client addresses it saw. */
export type Results = Map<string, Set<string>>

export interface Pin {
  readonly node: string
  readonly effect: RecentEffect
}

export interface Expectation {
  readonly results: Results
  /** Some path sets a `recent` list: ClientIP session affinity. */
  readonly affinity: boolean
  /** Per result: the `recent` lists its paths set, with the node whose lists they are. */
  readonly pins: ReadonlyMap<string, readonly Pin[]>
  readonly unmodelled: readonly string[]
}

function add(results: Results, label: string, seen = ''): void {
  const s = results.get(label) ?? new Set<string>()
  s.add(seen)
  results.set(label, s)
}

export class Oracle {
  readonly #plan: LabPlan
  readonly #compiled = new Map<string, CompiledRules>()

  constructor(plan: LabPlan, rules: readonly NodeRules[]) {
    this.#plan = plan
    // What the kernel holds after a sync: the restored chains plus the jump rules (savedView).
    for (const r of rules) if (r.family === 'IPv4') this.#compiled.set(r.node, compile(savedView(r.table)))
  }

  expect(row: OracleRow, recentByNode?: ReadonlyMap<string, RecentState>): Expectation {
    const results: Results = new Map()
    const pins = new Map<string, Pin[]>()
    const unmodelled: string[] = []
    let affinity = false
    const proto = row.protocol.toLowerCase() as L4Proto
    // A node's own addresses and its pods: replies to these pass through the node.
    const owns = (n: LabNode, ip: string): boolean => ip === n.address || ip === n.bridgeAddress || this.#plan.pods.some((p) => p.node === n.name && p.address === ip)
    const walk = (node: string, pkt: Packet, origin: Origin, depth: number): void => {
      const labNode = this.#plan.nodes.find((n) => n.name === node)!
      const rules = this.#compiled.get(node)!
      const recent = recentByNode?.get(node)
      const opts = recent ? { origin, recent: { state: recent, now: 1 } } : { origin }
      const res = explore(rules, pkt, { localAddresses: new Set(labNode.localAddresses) }, opts)
      for (const o of res.outcomes) {
        for (const u of o.unmodelled) unmodelled.push(`${node} ${u.table}/${u.chain}#${u.rule}: ${u.what}`)
        if (o.recent.some((e) => e.op === 'set')) affinity = true
        if (o.verdict.kind === 'drop') add(results, 'no-answer')
        else if (o.verdict.kind === 'reject') add(results, 'refused')
        else {
          const dst = o.verdict.kind === 'dnat' ? o.verdict.address : pkt.dst
          const port = o.verdict.kind === 'dnat' ? (o.verdict.port ?? pkt.dport) : pkt.dport
          const pod = this.#plan.pods.find((p) => p.address === dst)
          const other = this.#plan.nodes.find((n) => n.address === dst && n.name !== node)
          // MASQUERADE takes the address of the interface the packet leaves by.
          const egress = pod?.node === node ? labNode.bridgeAddress : labNode.address
          const src = o.masquerade ? egress : pkt.src
          if (o.route === 'local') add(results, 'refused') // nothing listens on a node
          else if (pod) {
            const serves = pod.ports.some((p) => p.port === port && p.protocol === proto)
            // Lab routing, not netfilter: a reply that bypasses the DNATing node is never un-NATed,
            // so the client resets it (pod -> another node's NodePort with Local policy, for one).
            const replyReturns = o.verdict.kind !== 'dnat' || o.masquerade || pod.node === node || owns(labNode, pkt.src)
            const label = !replyReturns ? 'no-answer' : serves ? pod.name : 'refused'
            add(results, label, label === pod.name ? src : '')
            pins.set(label, [...(pins.get(label) ?? []), ...o.recent.map((effect) => ({ node, effect }))])
          } else if (other && depth === 0) {
            walk(other.name, { src, dst, dport: port, proto }, 'external', 1)
          } else add(results, 'no-answer')
        }
      }
    }
    walk(row.entry, { src: row.sourceIP, dst: row.destIP, dport: row.destPort, proto }, row.origin, 0)
    return { results, affinity, pins, unmodelled }
  }

  /** The answer for a second connection once `pod` was chosen: explore with its `recent` entries in place. */
  expectPinned(row: OracleRow, pins: readonly Pin[]): Expectation {
    const byNode = new Map<string, RecentState>()
    for (const { node, effect: e } of pins) {
      if (e.op !== 'set') continue
      const state = byNode.get(node) ?? createRecentState()
      byNode.set(node, state)
      const list = state.lists.get(e.name) ?? new Map()
      list.set(ipv4ToNumber(e.address), { address: e.address, stamps: [1] })
      state.lists.set(e.name, list)
    }
    return this.expect(row, byNode)
  }
}

export function observedResults(row: OracleRow, probe: ProbeResult): Results {
  const results: Results = new Map()
  for (const [key, n] of Object.entries(probe.answers)) {
    if (n === 0) continue
    const [pod, seen] = key.split(' ')
    add(results, pod!, seen ?? '')
  }
  if (probe.refused > 0) add(results, 'refused')
  if (probe.timeout > 0) add(results, 'no-answer')
  for (const [code, n] of Object.entries(probe.other)) {
    if (n > 0) add(results, code === 'EHOSTUNREACH' || code === 'ENETUNREACH' ? 'no-answer' : `error:${code}`)
  }
  return results
}

export function formatResults(r: Results): string {
  return [...r.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => (k === 'refused' || k === 'no-answer' || k.startsWith('error:') ? k : `${k} saw ${[...v].sort().join('|')}`)).join(', ')
}

/** Disagreements between the interpreter and the kernel for one row (empty: they agree). */
export function compareRow(oracle: Oracle, row: OracleRow, exp: Expectation, probe: ProbeResult): string[] {
  const obs = observedResults(row, probe)
  const problems: string[] = []
  const describe = `${row.name}: interpreter {${formatResults(exp.results)}} kernel {${formatResults(obs)}} (${probe.attempts} attempts)`
  if (exp.affinity && [...exp.pins.values()].some((p) => p.length > 0)) {
    // Session affinity: the kernel pins this client to one endpoint, whose result must be a possible
    // first answer; with that choice remembered, the interpreter must give that result alone.
    if (obs.size !== 1) problems.push(`${describe}: affinity should pin one endpoint`)
    for (const k of obs.keys()) if (!exp.results.has(k)) problems.push(`${describe}: ${k} is not a possible answer`)
    const only = [...obs.keys()][0]
    if (obs.size === 1 && only !== undefined && (exp.pins.get(only)?.length ?? 0) > 0) {
      const pinned = oracle.expectPinned(row, exp.pins.get(only)!)
      if ([...pinned.results.keys()].join() !== only) problems.push(`${describe}: with that choice remembered the interpreter answers {${formatResults(pinned.results)}}`)
    }
  } else {
    const keys = (r: Results): string => [...r.keys()].sort().join(',')
    if (keys(obs) !== keys(exp.results)) problems.push(describe)
  }
  for (const [k, seen] of obs) {
    const allowed = exp.results.get(k)
    if (allowed && [...seen].some((a) => !allowed.has(a))) problems.push(`${describe}: ${k} saw an unexpected client address`)
  }
  if (problems.length > 0 && exp.unmodelled.length > 0) problems.push(`  unmodelled: ${exp.unmodelled.join('; ')}`)
  return problems
}

export interface RowOptions {
  readonly localhostNodePorts: boolean
}

/** Rows for every TCP/UDP service port: ClusterIP, NodePorts, LB ingress and external IPs, from pods, nodes and outside. */
export function oracleRows(plan: LabPlan, services: readonly Service[], slices: readonly EndpointSlice[], opts: RowOptions): OracleRow[] {
  const rows: OracleRow[] = []
  const clients = plan.pods.filter((p) => p.isClient)
  const first = plan.nodes[0]!
  const last = plan.nodes[plan.nodes.length - 1]!
  const isV4 = (ip: string | undefined): ip is string => ip !== undefined && ip !== 'None' && ip !== '' && !ip.includes(':')
  for (const svc of services) {
    const id = `${svc.metadata.namespace}/${svc.metadata.name}`
    const endpointIPs = new Set(slices.filter((s) => s.metadata.namespace === svc.metadata.namespace && s.metadata.labels?.['kubernetes.io/service-name'] === svc.metadata.name).flatMap((s) => s.endpoints.flatMap((e) => e.addresses)))
    const hairpin = plan.pods.find((p) => !p.isClient && endpointIPs.has(p.address))
    for (const sp of svc.spec.ports ?? []) {
      const protocol = sp.protocol ?? 'TCP'
      if (protocol !== 'TCP' && protocol !== 'UDP') continue
      const proto = protocol === 'TCP' ? 'tcp' : 'udp'
      const label = `${id}:${sp.name ?? sp.port}/${proto}`
      const row = (name: string, from: string, src: string, entry: string, origin: Origin, dst: string, port: number): void => {
        rows.push({ name: `${label} ${name}`, from, sourceIP: src, entry, origin, destIP: dst, destPort: port, protocol })
      }
      const external = (kind: string, via: string) => plan.external.clients.find((c) => c.kind === kind && c.via === via)!
      const clusterIP = svc.spec.clusterIP
      if (isV4(clusterIP)) {
        for (const c of clients) row(`ClusterIP from pod on ${c.node}`, `pod/${c.key}`, c.address, c.node, 'external', clusterIP, sp.port)
        if (hairpin) row(`ClusterIP from endpoint pod ${hairpin.name} (hairpin)`, `pod/${hairpin.key}`, hairpin.address, hairpin.node, 'external', clusterIP, sp.port)
        row(`ClusterIP from node ${first.name}`, `node/${first.name}`, first.address, first.name, 'local', clusterIP, sp.port)
        const ext = external('lan', last.name)
        row(`ClusterIP from outside via ${last.name}`, 'external', ext.address, last.name, 'external', clusterIP, sp.port)
      }
      if (sp.nodePort !== undefined && (svc.spec.type === 'NodePort' || svc.spec.type === 'LoadBalancer')) {
        for (const n of plan.nodes) {
          const ext = external('lan', n.name)
          row(`NodePort on ${n.name} from outside (${ext.address})`, 'external', ext.address, n.name, 'external', n.address, sp.nodePort)
        }
        const far = external('outside', first.name)
        row(`NodePort on ${first.name} from outside (${far.address})`, 'external', far.address, first.name, 'external', first.address, sp.nodePort)
        const c = clients[0]!
        row(`NodePort on ${last.name} from pod on ${c.node}`, `pod/${c.key}`, c.address, c.node, 'external', last.address, sp.nodePort)
        row(`NodePort on ${first.name} from the node itself`, `node/${first.name}`, first.address, first.name, 'local', first.address, sp.nodePort)
        if (opts.localhostNodePorts && proto === 'tcp') row(`NodePort on 127.0.0.1 of ${first.name}`, `node/${first.name}`, '127.0.0.1', first.name, 'local', '127.0.0.1', sp.nodePort)
      }
      for (const ing of svc.status?.loadBalancer?.ingress ?? []) {
        if (!isV4(ing.ip)) continue
        // Every node from the LAN; inside and outside the usual source ranges via the first and last node.
        const lbClients = [...plan.nodes.map((n) => external('lan', n.name)), external('range', first.name), external('outside', last.name)]
        for (const ext of lbClients) row(`LB ${ing.ip} from outside (${ext.kind} ${ext.address}) via ${ext.via}`, 'external', ext.address, ext.via, 'external', ing.ip, sp.port)
        const c = clients[clients.length - 1]!
        row(`LB ${ing.ip} from pod on ${c.node}`, `pod/${c.key}`, c.address, c.node, 'external', ing.ip, sp.port)
      }
      for (const ip of svc.spec.externalIPs ?? []) {
        if (!isV4(ip)) continue
        for (const n of plan.nodes) {
          const ext = external('lan', n.name)
          row(`external IP ${ip} from outside via ${n.name}`, 'external', ext.address, n.name, 'external', ip, sp.port)
        }
        const c = clients[0]!
        row(`external IP ${ip} from pod on ${c.node}`, `pod/${c.key}`, c.address, c.node, 'external', ip, sp.port)
      }
    }
  }
  return rows
}

export interface RowVerdict {
  readonly row: OracleRow
  readonly expected: Expectation
  readonly probe: ProbeResult
  readonly problems: readonly string[]
}

const probeTarget = (row: OracleRow) => ({ src: row.sourceIP, dst: row.destIP, port: row.destPort, proto: row.protocol === 'TCP' ? ('tcp' as const) : ('udp' as const) })

/** What the probe keeps going for: every predicted answer, unless affinity pins one. */
const probeExpect = (exp: Expectation): string[] => (exp.affinity ? [] : [...exp.results.keys()].map((w) => (w === 'no-answer' ? 'timeout' : w)))

/**
 * Runs every row against the kernel: rows from the same source address run one after another
 * (affinity pins are per client), different sources concurrently.
 */
export async function runOracleRows(state: LabState, oracle: Oracle, rows: readonly OracleRow[], opts: { concurrency?: number } = {}): Promise<RowVerdict[]> {
  const lanes = new Map<string, OracleRow[]>()
  for (const r of rows) lanes.set(r.sourceIP === '127.0.0.1' ? r.from : r.sourceIP, [...(lanes.get(r.sourceIP === '127.0.0.1' ? r.from : r.sourceIP) ?? []), r])
  const out: RowVerdict[] = []
  const queue = [...lanes.values()]
  const worker = async (): Promise<void> => {
    for (let lane = queue.shift(); lane; lane = queue.shift()) {
      const expectations = lane.map((row) => oracle.expect(row))
      const probes = await labProbeBatch(
        state,
        lane[0]!.from,
        lane.map((row, i) => ({
          ...probeTarget(row),
          min: 30,
          max: 120,
          parallel: 15,
          timeoutMs: 750,
          expect: probeExpect(expectations[i]!),
        })),
      )
      for (const [i, row] of lane.entries()) {
        const expected = expectations[i]!
        let probe = probes[i]!
        let problems = compareRow(oracle, row, expected, probe)
        if (problems.length > 0 && probe.timeout > 0 && !expected.results.has('no-answer')) {
          // A timeout is ambiguous: a DROP, or a stall on a busy two-core CI machine. Decide it
          // with a second probe that gives each connection 5 s; a real drop times out there too.
          probe = (await labProbeBatch(state, row.from, [{ ...probeTarget(row), min: 15, max: 60, parallel: 15, timeoutMs: 5000, expect: probeExpect(expected) }]))[0]!
          problems = compareRow(oracle, row, expected, probe)
          console.warn(`lab oracle: ${row.name}: unexpected timeouts, confirmed with 5 s probes: ${problems.length === 0 ? 'a stall, not a drop' : 'still disagrees'}`)
        }
        out.push({ row, expected, probe, problems })
      }
    }
  }
  await Promise.all(Array.from({ length: opts.concurrency ?? 6 }, worker))
  return out
}
