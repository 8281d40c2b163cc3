/**
 * The kernel answers upstream's nftables packet-flow rows with real packets: a "node" and a
 * "client" network namespace inside one user namespace (no root), joined by a veth pair. The
 * node holds kpe's nftables rules (`nft -f`) and the case's local IPs; the client sends from the
 * row's source IP (non-local), so every packet enters the node's prerouting hook as upstream's tracer
 * assumes. Conntrack's reply tuple names the DNAT target and shows a masquerade; a packet that
 * leaves no conntrack entry was dropped, or rejected when the node sent an ICMP unreachable.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { nsenterArgv, runCommand, startNetnsHolder, type NetnsRunner } from '../../src/lab/index.js'
import { openUserNetns, stopHolder, type UserNetns } from '../helpers/user-netns.js'
import type { FlowRow } from '../helpers/flows.js'

const link = { node4: '192.0.2.1', client4: '192.0.2.2', node6: 'fd99::1', client6: 'fd99::2' }

/** What the kernel did with a row's packets. */
export interface KernelFlowAnswer {
  /** DNAT targets (`ip:port`, `[ip6]:port`), '' for accepted without DNAT, DROP, REJECT. */
  readonly outputs: ReadonlySet<string>
  /** Masqueraded; undefined when no packet reached postrouting (dropped, rejected, delivered locally). */
  readonly masq: boolean | undefined
  readonly attempts: number
}

const isV6 = (ip: string): boolean => ip.includes(':')
const hostPort = (ip: string, port: string): string => (isV6(ip) ? `[${ip}]:${port}` : `${ip}:${port}`)

/**
 * The client's sender, one process for the namespace's lifetime: each stdin line
 * `proto src dst port n` sends n connection attempts (a TCP SYN or one UDP datagram each) and
 * answers `done` once all went out.
 */
const senderScript = `
import net from 'node:net'
import dgram from 'node:dgram'
import readline from 'node:readline'
const attempt = (proto, src, dst, port) => new Promise((resolve) => {
  if (proto === 'udp') {
    const s = dgram.createSocket(dst.includes(':') ? 'udp6' : 'udp4')
    s.on('error', () => { s.close(); resolve() })
    s.bind({ port: 0, address: src }, () => s.send('x', Number(port), dst, () => setTimeout(() => { s.close(); resolve() }, 80)))
  } else {
    const c = net.connect({ host: dst, port: Number(port), localAddress: src })
    c.on('error', () => {})
    setTimeout(() => { c.destroy(); resolve() }, 80)
  }
})
for await (const line of readline.createInterface({ input: process.stdin })) {
  const [proto, src, dst, port, n] = line.split(' ')
  await Promise.all(Array.from({ length: Number(n) }, () => attempt(proto, src, dst, port)))
  process.stdout.write('done\\n')
}
`

interface Tuple {
  readonly src: string
  readonly dst: string
  readonly sport: string
  readonly dport: string
}

/** The original and reply tuples of `conntrack -L` lines. */
export function parseConntrack(text: string): { orig: Tuple; reply: Tuple }[] {
  const out: { orig: Tuple; reply: Tuple }[] = []
  for (const line of text.split('\n')) {
    const fields = [...line.matchAll(/\b(src|dst|sport|dport)=(\S+)/g)].map((m) => [m[1]!, m[2]!] as const)
    if (fields.length < 8) continue
    const tuple = (part: (readonly [string, string])[]): Tuple => Object.fromEntries(part) as unknown as Tuple
    out.push({ orig: tuple(fields.slice(0, 4)), reply: tuple(fields.slice(4, 8)) })
  }
  return out
}

/** One counter of /proc/net/snmp (`Group: names` / `Group: values` line pairs). */
function snmpCounter(snmp: string, group: string, name: string): number {
  const lines = snmp.split('\n').filter((l) => l.startsWith(`${group}:`))
  const names = lines[0]?.split(/\s+/) ?? []
  return Number(lines[1]?.split(/\s+/)[names.indexOf(name)] ?? NaN)
}

/** What the node sent back for packets that left no conntrack entry: ICMP unreachables and TCP resets. */
async function refusals(run: NetnsRunner, family: 'IPv4' | 'IPv6'): Promise<{ unreachables: number; resets: number }> {
  const snmp = (await run(['cat', '/proc/net/snmp', '/proc/net/snmp6'])).stdout
  const unreachables = family === 'IPv4' ? snmpCounter(snmp, 'Icmp', 'OutDestUnreachs') : Number(/^Icmp6OutDestUnreachs\s+(\d+)/m.exec(snmp)?.[1] ?? NaN)
  // The TCP counters are shared by both families.
  return { unreachables, resets: snmpCounter(snmp, 'Tcp', 'OutRsts') }
}

export class NftKernelFlowNode {
  readonly #node: UserNetns
  readonly #clientPid: number
  readonly #client: NetnsRunner
  readonly #localIPs: ReadonlySet<string>
  #sender: ChildProcessWithoutNullStreams | undefined
  #senderOut = ''

  private constructor(node: UserNetns, clientPid: number, localIPs: readonly string[]) {
    this.#node = node
    this.#clientPid = clientPid
    this.#client = (argv, opts) => runCommand(nsenterArgv(clientPid, argv), opts)
    this.#localIPs = new Set(localIPs)
  }

  get run(): NetnsRunner {
    return this.#node.run
  }

  /** A node holding `localIPs` and a client that sends from `sources`, wired and ready. */
  static async open(localIPs: readonly string[], sources: readonly string[]): Promise<NftKernelFlowNode> {
    const node = await openUserNetns()
    let clientPid: number | undefined
    try {
      // The client's network namespace belongs to the node's user namespace, so the node can move a veth end into it.
      clientPid = await startNetnsHolder(node.holder)
      const self = new NftKernelFlowNode(node, clientPid, localIPs)
      await self.#wire(localIPs, sources)
      return self
    } catch (err) {
      if (clientPid !== undefined) await stopHolder(clientPid, node.holder.userNs)
      await node.close()
      throw err
    }
  }

  async #wire(localIPs: readonly string[], sources: readonly string[]): Promise<void> {
    const addr = (ip: string, dev: string): string => (isV6(ip) ? `addr add ${ip}/128 dev ${dev} nodad` : `addr add ${ip}/32 dev ${dev}`)
    await this.#node.run(['ip', '-batch', '-'], {
      input: [
        'link set lo up',
        `link add n0 type veth peer name c0 netns ${this.#clientPid}`,
        `addr add ${link.node4}/24 dev n0`,
        `addr add ${link.node6}/64 dev n0 nodad`,
        'link set n0 up',
        ...localIPs.map((ip) => addr(ip, 'lo')),
      ].join('\n') + '\n',
    })
    // Every address that is not the node's goes back out to the client: DNATed and forwarded packets leave there.
    await this.#node.run(['ip', 'route', 'add', 'default', 'via', link.client4])
    await this.#node.run(['ip', '-6', 'route', 'add', 'default', 'via', link.client6])
    await this.#node.run(['sysctl', '-q', '-w',
      'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1',
      // Rows send from the node's own addresses (traffic the tracer treats as arriving from outside).
      'net.ipv4.conf.all.accept_local=1', 'net.ipv4.conf.n0.accept_local=1',
      'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.n0.rp_filter=0',
      // Every REJECT must answer at once (KERNEL-LAB-NOTES gotcha 5).
      'net.ipv4.icmp_ratelimit=0', 'net.ipv4.icmp_msgs_per_sec=1000000', 'net.ipv4.icmp_msgs_burst=100000', 'net.ipv6.icmp.ratelimit=0'])
    await this.#client(['ip', '-batch', '-'], {
      input: ['link set lo up', `addr add ${link.client4}/24 dev c0`, `addr add ${link.client6}/64 dev c0 nodad`, 'link set c0 up'].join('\n') + '\n',
    })
    // The client sends from the rows' source addresses, each an address of c0. The IPv4 ones lose
    // their `local` route, so a packet for one (a node address, a hairpin endpoint) leaves for the
    // node instead of being delivered inside the client; non-local bind still lets the client send
    // from them. IPv6 cannot send from an address without its local route: the caller keeps the
    // node's own IPv6 addresses out of `sources`.
    await this.#client(['sysctl', '-q', '-w', 'net.ipv4.ip_nonlocal_bind=1', 'net.ipv6.ip_nonlocal_bind=1'])
    await this.#client(['ip', '-batch', '-'], { input: sources.map((ip) => addr(ip, 'c0')).join('\n') + '\n' })
    // IPv6 installs an address's local route a moment later: delete until none is left.
    for (let left = sources.filter((ip) => !isV6(ip)), i = 0; left.length > 0; i++) {
      if (i > 200) throw new Error(`local routes of ${left.join(', ')} did not go away in the client`)
      await this.#client(['ip', '-force', '-batch', '-'], { input: left.map((ip) => `route del local ${ip} table local`).join('\n') + '\n', onNonZeroExit: 'return' })
      const table = (await this.#client(['ip', 'route', 'show', 'table', 'local'])).stdout + (await this.#client(['ip', '-6', 'route', 'show', 'table', 'local'])).stdout
      left = left.filter((ip) => new RegExp(`^local ${ip.replace(/[.:]/g, '\\$&')} `, 'm').test(table))
      if (left.length > 0) await new Promise((r) => setTimeout(r, 10))
    }
    await this.#client(['ip', 'route', 'add', 'default', 'via', link.node4])
    await this.#client(['ip', '-6', 'route', 'add', 'default', 'via', link.node6])
  }

  /** Sends the row's packets and reads what the node's kernel did with them. */
  async answer(row: FlowRow, attempts: number): Promise<KernelFlowAnswer> {
    const family = isV6(row.destIP) ? 'IPv6' : 'IPv4'
    const proto = row.protocol.toLowerCase()
    await this.#node.run(['conntrack', '-F'], { onNonZeroExit: 'return' })
    const before = await refusals(this.#node.run, family)
    await this.#send(`${proto} ${row.sourceIP} ${row.destIP} ${row.destPort} ${attempts}`)
    const after = await refusals(this.#node.run, family)
    const listed = await this.#node.run(['conntrack', '-L', '-f', family === 'IPv4' ? 'ipv4' : 'ipv6', '-p', proto], { onNonZeroExit: 'return' })
    const entries = parseConntrack(listed.stdout).filter((e) => e.orig.src === row.sourceIP && e.orig.dst === row.destIP && e.orig.dport === String(row.destPort))
    const outputs = new Set<string>()
    let masq: boolean | undefined
    for (const { orig, reply } of entries) {
      const dnat = reply.src !== orig.dst || reply.sport !== orig.dport
      outputs.add(dnat ? hostPort(reply.src, reply.sport) : '')
      // A packet for one of the node's own addresses goes to input, never through postrouting.
      if (!this.#localIPs.has(reply.src)) masq = (masq ?? false) || reply.dst !== orig.src
    }
    if (entries.length < attempts) {
      // No entry: rejected (an ICMP unreachable went out), delivered to the node where nothing
      // listens (a TCP reset went out; conntrack forgets an unassured connection on reset), or dropped.
      if (after.unreachables > before.unreachables) outputs.add('REJECT')
      else if (after.resets > before.resets) outputs.add('')
      else outputs.add('DROP')
    }
    return { outputs, masq, attempts }
  }

  /** One request to the client's sender; resolves on its `done`. */
  async #send(line: string): Promise<void> {
    if (!this.#sender) {
      const [file, ...args] = nsenterArgv(this.#clientPid, [process.execPath, '--input-type=module', '-e', senderScript])
      this.#sender = spawn(file!, args, { stdio: ['pipe', 'pipe', 'pipe'] })
      this.#sender.stdout.on('data', (d: Buffer) => (this.#senderOut += d.toString()))
    }
    const sender = this.#sender
    this.#senderOut = ''
    sender.stdin.write(`${line}\n`)
    for (let waited = 0; !this.#senderOut.includes('done\n'); waited += 5) {
      if (sender.exitCode !== null || waited > 20_000) throw new Error(`the client's sender stopped answering (${line})`)
      await new Promise((r) => setTimeout(r, 5))
    }
  }

  async close(): Promise<void> {
    if (this.#sender && this.#sender.exitCode === null) {
      const exited = new Promise((r) => this.#sender!.once('exit', r))
      this.#sender.kill('SIGKILL')
      await exited
    }
    await stopHolder(this.#clientPid, this.#node.holder.userNs)
    await this.#node.close()
  }
}
