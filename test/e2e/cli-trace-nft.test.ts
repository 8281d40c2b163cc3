/**
 * `kpe trace` in nftables mode from the command line (issue 15, item 3): the mode comes from
 * the config (or --mode, or what a --rules dump is), and `-o json` answers the nftables flow
 * vectors with upstream's `output`/`masq`. Before this, a `mode: nftables` config was traced
 * through the iptables rules (172.30.0.50:80 in cluster-ip-general gave "" instead of DROP).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runKpe } from '../helpers/cli.js'
import { listFlowCases, loadFlowCaseIn } from '../helpers/flows.js'
import { nftFlowsDir } from '../helpers/nft-flows.js'
import { goldenNftDir, hasShared } from '../helpers/shared.js'

const present = hasShared(goldenNftDir)
const to = (ip: string, port: number, proto: string): string => `${ip.includes(':') ? `[${ip}]` : ip}:${port}/${proto.toLowerCase()}`

describe.runIf(present)('kpe trace -o json answers the nftables flow vectors from the command line', () => {
  // The last row of every third case keeps this quick; every row runs in test/conformance.
  const rows = present ? listFlowCases(nftFlowsDir()).filter((_n, i) => i % 3 === 0).map((name) => {
    const c = loadFlowCaseIn(nftFlowsDir(), name)
    return [name, c, c.rows[c.rows.length - 1]!] as const
  }) : []

  it.each(rows)('%s', async (_name, c, row) => {
    const res = await runKpe(['trace', '-f', join(c.dir, 'input.yaml'), '--config', join(c.dir, 'config.yaml'), '--from', row.sourceIP, '--to', to(row.destIP, row.destPort, row.protocol), '-o', 'json'])
    expect(res.stderr).toBe('')
    const out = JSON.parse(res.stdout) as { output: string; masq: boolean }
    expect({ output: out.output, masq: out.masq }, row.name).toEqual({ output: row.output, masq: row.masq })
  })
})

describe.runIf(present)('kpe trace picks the mode', () => {
  const dir = present ? join(nftFlowsDir(), 'cluster-ip-general') : ''
  const tmp = mkdtempSync(join(tmpdir(), 'kpe-trace-nft-'))
  afterAll(() => rmSync(tmp, { recursive: true, force: true }))
  const args = ['trace', '-f', join(dir, 'input.yaml'), '--config', join(dir, 'config.yaml'), '--from', '10.0.0.2', '--to', '172.30.0.50:80', '-o', 'json']

  it('a mode: nftables config traces the nftables rules: an unallocated ClusterIP is dropped', async () => {
    const res = await runKpe(args)
    expect(res.stderr).toBe('')
    expect(JSON.parse(res.stdout)).toMatchObject({ output: 'DROP', masq: false, outcomes: [{ verdict: 'DROP', reason: '172.30.0.50 is in the service CIDR but no Service has it as ClusterIP' }] })
  })

  it('--mode iptables overrides the config (iptables mode has no service-CIDR rule)', async () => {
    const res = await runKpe([...args, '--mode', 'iptables'])
    expect(JSON.parse(res.stdout)).toMatchObject({ output: '', masq: false })
  })

  it('explains a REJECT on a ClusterIP port no Service serves, in text', async () => {
    const res = await runKpe(['trace', '-f', join(dir, 'input.yaml'), '--config', join(dir, 'config.yaml'), '--from', '10.0.0.2', '--to', '172.30.0.41:443'])
    expect(res.code).toBe(0)
    expect(res.stdout).toContain('cluster-ips-check #1  "Reject traffic to invalid ports of ClusterIPs"')
    expect(res.stdout).toContain('REJECT: 172.30.0.41 is a ClusterIP, but no Service serves tcp port 443 on it')
  })

  it('--rules takes an nftables dump (kpe rules --mode nftables output, or nft list ruleset) and detects its mode', async () => {
    const rules = await runKpe(['rules', '-f', join(dir, 'input.yaml'), '--config', join(dir, 'config.yaml')])
    expect(rules.stderr).toBe('')
    const dump = join(tmp, 'node.nft')
    writeFileSync(dump, rules.stdout)
    const res = await runKpe(['trace', '--rules', dump, '--config', join(dir, 'config.yaml'), '--from', '10.0.0.2', '--to', '172.30.0.41:80', '-o', 'json'])
    expect(res.stderr).toBe('')
    expect(JSON.parse(res.stdout)).toMatchObject({ output: '10.180.0.1:80', masq: false })
    const listing = join(tmp, 'list.nft')
    writeFileSync(listing, `table ip kube-proxy {
	map service-ips {
		type ipv4_addr . inet_proto . inet_service : verdict
		elements = { 172.30.0.41 . tcp . 80 : goto endpoint-a }
	}
	chain nat-prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr . meta l4proto . th dport vmap @service-ips
	}
	chain endpoint-a {
		meta l4proto tcp dnat to 10.180.0.9:8080
	}
}
`)
    const listed = await runKpe(['trace', '--rules', listing, '--from', '10.0.0.2', '--to', '172.30.0.41:80', '-o', 'json'])
    expect(listed.stderr).toBe('')
    expect(JSON.parse(listed.stdout)).toMatchObject({ output: '10.180.0.9:8080' })
  })

  it('a malformed nftables dump fails naming the line and the token', async () => {
    const bad = join(tmp, 'bad.nft')
    writeFileSync(bad, 'add table ip kube-proxy\nadd chain ip kube-proxy services\nadd rule ip kube-proxy services ip daddr frobnicate\n')
    const res = await runKpe(['trace', '--rules', bad, '--from', '10.0.0.2', '--to', '172.30.0.41:80'])
    expect(res.code).not.toBe(0)
    expect(res.stderr).toContain('line 3: "frobnicate" is not an IP address, CIDR or range')
  })
})
