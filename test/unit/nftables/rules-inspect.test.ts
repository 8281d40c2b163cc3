/** `kpe rules --mode nftables` with --explain, --diff and --since: typed provenance, never re-parsed text. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runRulesCommand } from '../../../src/cli/rules-command.js'
import { sortNftablesDump } from '../../../src/proxy/nftables/index.js'
import { repoRoot } from '../../helpers/shared.js'

const demo = join(repoRoot, 'fixtures/static/demo.yaml')
const dir = mkdtempSync(join(tmpdir(), 'kpe-nft-inspect-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** demo.yaml with the Service `empty` removed and web's ClusterIP moved. */
function changedDemo(): string {
  const docs = readFileSync(demo, 'utf8').split(/^---$/m)
  const kept = docs.filter((d) => !/kind: Service\nmetadata:\n  name: empty\n/.test(d)).map((d) => d.replace('clusterIP: 10.96.0.100', 'clusterIP: 10.96.0.110'))
  const f = join(dir, 'after.yaml')
  writeFileSync(f, kept.join('---'))
  return f
}

const base = ['-f', demo, '--node', 'node-a', '--mode', 'nftables']

describe('kpe rules --mode nftables --explain', () => {
  it('puts the origin above every rule and element and changes nothing else', async () => {
    const plain = await runRulesCommand(base)
    const explained = await runRulesCommand([...base, '--explain'])
    expect(sortNftablesDump(explained)).toBe(sortNftablesDump(plain))
    const lines = explained.split('\n')
    lines.forEach((l, i) => {
      if (l.startsWith('add rule') || l.startsWith('add element')) expect(lines[i - 1], l).toMatch(/^# /)
    })
    expect(explained).toContain('# Service default/web spec.clusterIP, spec.ports[0].port\nadd element ip kube-proxy service-ips { 10.96.0.100 . tcp . 80 : goto service-')
    expect(explained).toContain('# Service default/empty spec.clusterIP, spec.ports[0].port: no usable endpoint in its EndpointSlices\nadd element ip kube-proxy no-endpoint-services { 10.96.0.102 . tcp . 80 comment "default/empty:http" : goto reject-chain }')
    expect(explained).toMatch(/# EndpointSlice default\/web-[a-z0-9]+ endpoint 10\.244\.\d+\.\d+:8080 on node-\w\nadd rule ip kube-proxy endpoint-\S+ meta l4proto tcp dnat to 10\.244\.\d+\.\d+:8080/)
    expect(explained).toContain('# KubeProxyConfiguration nftables.masqueradeBit\nadd rule ip kube-proxy mark-for-masquerade mark set mark or 0x00004000')
  })
})

describe('kpe rules --mode nftables --diff', () => {
  it('groups what a change did by Service port, from typed origins', async () => {
    const out = await runRulesCommand([...base, '--diff', '-f2', changedDemo()])
    expect(out).toMatch(/^# kpe: node node-a \(IPv4\)\n=== default\/empty:http\n/)
    expect(out).toContain('- ip     add element ip kube-proxy no-endpoint-services { 10.96.0.102 . tcp . 80 comment "default/empty:http" : goto reject-chain }\n')
    expect(out).toContain('- ip     add element ip kube-proxy cluster-ips { 10.96.0.100 }\n')
    expect(out).toContain('+ ip     add element ip kube-proxy cluster-ips { 10.96.0.110 }\n')
    // web's service chain masquerades off-cluster traffic to the ClusterIP: that rule moved with it.
    expect(out).toMatch(/=== default\/web:http\n(?:.*\n)*- ip     add rule ip kube-proxy service-\S+ ip daddr 10\.96\.0\.100 ip saddr != 10\.244\.0\.0\/16 jump mark-for-masquerade\n/)
    expect(out).not.toContain('(node-wide)')
  })

  it('says so when nothing changed', async () => {
    expect(await runRulesCommand([...base, '--diff', '-f2', demo])).toBe('# kpe: node node-a (IPv4)\nno changes\n')
  })
})

describe('kpe rules --mode nftables --since', () => {
  it('prints the partial sync transaction, explained when asked', async () => {
    const out = await runRulesCommand(['-f', changedDemo(), '--node', 'node-a', '--mode', 'nftables', '--since', demo, '--explain'])
    expect(out).toContain('delete element ip kube-proxy no-endpoint-services { 10.96.0.102 . tcp . 80 }\n')
    expect(out).toMatch(/^flush chain ip kube-proxy service-\S+-default\/web\/tcp\/http$/m)
    expect(out).toContain('# Service default/web spec.clusterIP, spec.ports[0].port\nadd element ip kube-proxy service-ips { 10.96.0.110 . tcp . 80')
    expect(out).not.toContain('default/sticky')
  })
})

describe('kpe rules --mode both', () => {
  it('prints each Service port in iptables and in nftables mode, node-wide rules last', async () => {
    const out = await runRulesCommand(['-f', demo, '--node', 'node-a', '--mode', 'both'])
    expect(out).toMatch(/^# kpe: node node-a \(IPv4\), iptables and nftables per Service port\n=== default\/[\w-]+:http\n--- iptables \(\d+ rules\)\n/)
    const web = out.slice(out.indexOf('=== default/web:http\n'), out.indexOf('\n===', out.indexOf('=== default/web:http\n') + 1))
    expect(web).toMatch(/^-t nat -A KUBE-SERVICES .* -d 10\.96\.0\.100 --dport 80 -j KUBE-SVC-/m)
    expect(web).toContain('add element ip kube-proxy service-ips { 10.96.0.100 . tcp . 80 : goto service-')
    expect(web).toMatch(/^add rule ip kube-proxy endpoint-\S+ meta l4proto tcp dnat to 10\.244\.\d+\.\d+:8080$/m)
    expect(web).not.toContain('mark-for-masquerade mark set')
    const nodeWide = out.slice(out.indexOf('=== (node-wide)'))
    expect(nodeWide).toContain('add rule ip kube-proxy mark-for-masquerade mark set mark or 0x00004000')
    expect(nodeWide).toContain('-t nat -A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000')
    expect(out.indexOf('=== (node-wide)')).toBeGreaterThan(out.indexOf('=== default/web:http'))
  })

  it('refuses flags that belong to one mode', async () => {
    await expect(runRulesCommand(['-f', demo, '--mode', 'both', '--explain'])).rejects.toMatchObject({ code: 'KPE_USAGE' })
  })
})
