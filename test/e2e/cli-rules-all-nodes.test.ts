/**
 * `kpe rules --all-nodes` from the built CLI shares rule work between nodes: its output is each
 * node's golden under rules/, byte for byte, under the per-node header, for a fixture with
 * Local policies (rules that differ per node) and one of many nodes written on the fly.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runRulesCommand } from '../../src/cli/rules-command.js'
import { runKpe } from '../helpers/cli.js'
import { repoRoot } from '../helpers/shared.js'

const dir = mkdtempSync(join(tmpdir(), 'kpe-all-nodes-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('kpe rules --all-nodes', () => {
  it('prints every node of a fixture with Local policies exactly as its golden', async () => {
    const res = await runKpe(['rules', '-f', 'fixtures/external-traffic-policy-local.yaml', '--all-nodes'])
    expect(res.stderr).toBe('')
    expect(res.code).toBe(0)
    const golden = (node: string): string => readFileSync(join(repoRoot, 'rules/external-traffic-policy-local', `${node}.iptables`), 'utf8')
    expect(res.stdout).toBe(['node-a', 'node-b', 'node-c'].map((n) => `# kpe: node ${n} (IPv4)\n${golden(n)}`).join(''))
  })

  it('on 40 nodes in two zones equals --node for each of them', async () => {
    const docs: string[] = []
    for (let n = 0; n < 40; n++) {
      docs.push(`apiVersion: v1\nkind: Node\nmetadata: {name: n${n}, labels: {topology.kubernetes.io/zone: z${n % 2}}}\nstatus: {addresses: [{type: InternalIP, address: 192.168.1.${n + 1}}]}`)
    }
    for (let s = 0; s < 6; s++) {
      const policy = s % 3 === 0 ? '\n  externalTrafficPolicy: Local' : s % 3 === 1 ? '\n  internalTrafficPolicy: Local' : ''
      docs.push(`apiVersion: v1\nkind: Service\nmetadata: {name: s${s}, namespace: default}\nspec:\n  type: NodePort\n  clusterIP: 10.96.0.${s + 10}\n  ports: [{name: http, port: 80, nodePort: ${30100 + s}}]${policy}`)
      const endpoints = [0, 1, 2].map((e) => {
        const node = (s * 7 + e * 13) % 40
        const hints = s % 2 === 0 ? `, hints: {forZones: [{name: z${node % 2}}]}` : ''
        return `{addresses: [10.244.${s}.${e + 1}], nodeName: n${node}${hints}}`
      })
      docs.push(`apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s${s}-1, namespace: default, labels: {kubernetes.io/service-name: s${s}}}\naddressType: IPv4\nendpoints: [${endpoints.join(', ')}]\nports: [{name: http, port: 8080, protocol: TCP}]`)
    }
    const file = join(dir, 'many-nodes.yaml')
    writeFileSync(file, docs.join('\n---\n') + '\n')
    const all = await runKpe(['rules', '-f', file, '--all-nodes'])
    expect(all.stderr).toBe('')
    expect(all.code).toBe(0)
    // Each node alone (in process: 40 CLI processes are slow on a shared machine; the path is the same).
    const per = await Promise.all(Array.from({ length: 40 }, (_, n) => runRulesCommand(['-f', file, '--node', `n${n}`])))
    expect(all.stdout).toBe(per.map((text, n) => `# kpe: node n${n} (IPv4)\n${text}`).join(''))
    // Local policies and zones make nodes differ: the test covers more than one class of output.
    expect(new Set(per).size).toBeGreaterThan(2)
  })
})
