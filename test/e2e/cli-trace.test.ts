import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runKpe } from '../helpers/cli.js'
import { listFlowCases, loadFlowCase } from '../helpers/flows.js'
import { hasShared } from '../helpers/shared.js'
import { tempDir } from '../helpers/temp-dirs.js'

describe.runIf(hasShared())('kpe trace -o json answers the flow vectors from the command line', () => {
  // One row per case keeps this end-to-end check quick; every row runs in test/conformance.
  const rows = !hasShared() ? [] : listFlowCases().filter((c) => c !== 'trace-packet').map((name) => {
    const c = loadFlowCase(name)
    return [name, c, c.rows[c.rows.length - 1]!] as const
  })

  it.each(rows)('%s', async (_name, c, row) => {
    const res = await runKpe(['trace', '-f', join(c.dir, 'input.yaml'), '--config', join(c.dir, 'config.yaml'),
      '--from', row.sourceIP, '--to', `${row.destIP.includes(':') ? `[${row.destIP}]` : row.destIP}:${row.destPort}/${row.protocol.toLowerCase()}`, '-o', 'json'])
    expect(res.stderr).toBe('')
    const out = JSON.parse(res.stdout) as { output: string; masq: boolean }
    expect({ output: out.output, masq: out.masq }, row.name).toEqual({ output: row.output, masq: row.masq })
  })
})

describe('kpe trace on the demo cluster', () => {
  it('names the pods behind a ClusterIP with their probabilities', async () => {
    const res = await runKpe(['trace', '-f', 'fixtures/static/demo.yaml', '--from', 'pod/client', '--to', 'web.default.svc.cluster.local:80'])
    expect(res.code).toBe(0)
    expect(res.stdout).toContain('3 possible outcomes:')
    expect(res.stdout.match(/33\.3% {2}DNAT to 10\.244\.\d\.2:8080 \(pod default\/web-/g)).toHaveLength(3)
  })

  it('explains a DROP under externalTrafficPolicy Local in Kubernetes terms', async () => {
    const res = await runKpe(['trace', '-f', 'fixtures/static/demo.yaml', '--node', 'node-c', '--from', '203.0.113.9', '--to', '192.168.77.200:80'])
    expect(res.code).toBe(0)
    expect(res.stdout).toContain('DROP: externalTrafficPolicy Local and no local endpoints for default/echo-lb:http on node-c')
  })

  it('explains a REJECT for a service without endpoints', async () => {
    const res = await runKpe(['trace', '-f', 'fixtures/static/demo.yaml', '--from', 'pod/client', '--to', 'svc/empty'])
    expect(res.stdout).toContain('REJECT: service default/empty:http has no ready endpoints: connection refused')
  })

  it('shows NodePort traffic masqueraded to the node address', async () => {
    const res = await runKpe(['trace', '-f', 'fixtures/static/demo.yaml', '--node', 'node-b', '--from', '203.0.113.9', '--to', '192.168.77.11:30080', '-o', 'json'])
    const out = JSON.parse(res.stdout) as { outcomes: { endpoint: string; masquerade: boolean; seenSource: string }[] }
    expect(out.outcomes).toHaveLength(3)
    for (const o of out.outcomes) expect(o.masquerade).toBe(true)
    expect(out.outcomes.find((o) => o.endpoint === '10.244.0.2:8080')?.seenSource).toBe('192.168.77.11')
    expect(out.outcomes.find((o) => o.endpoint === '10.244.1.2:8080')?.seenSource).toBe('10.244.1.1')
  })

  it('traces through a real-node dump and reports a match it does not model, without guessing', async () => {
    const dir = tempDir('kpe-trace-')
    const dump = join(dir, 'node.iptables')
    writeFileSync(dump, [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-SEP-A - [0:0]',
      '-A PREROUTING -j KUBE-SERVICES',
      '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m physdev --physdev-in veth0 -m tcp --dport 443 -j KUBE-SEP-A',
      '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 443 -j KUBE-SEP-A',
      '-A KUBE-SEP-A -p tcp -m tcp -j DNAT --to-destination 192.168.77.10:6443',
      'COMMIT',
      '',
    ].join('\n'))
    const res = await runKpe(['trace', '--rules', dump, '--local-ip', '192.168.77.10', '--from', '10.244.0.5', '--to', '10.96.0.1:443', '-o', 'json'])
    expect(res.code).toBe(0)
    const out = JSON.parse(res.stdout) as { output: string; outcomes: { unmodelled: string[] }[] }
    expect(out.output).toBe('192.168.77.10:6443')
    expect(out.outcomes[0]!.unmodelled.join('\n')).toMatch(/KUBE-SERVICES #1: .*physdev/)
  })

  it('rejects a truncated dump naming the problem', async () => {
    const dir = tempDir('kpe-trace-')
    writeFileSync(join(dir, 'bad'), '*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j DNAT --to-destination 1.2.3.4:80\n')
    const res = await runKpe(['trace', '--rules', join(dir, 'bad'), '--from', '10.0.0.1', '--to', '1.1.1.1:80'])
    expect(res.code).toBe(2)
    expect(res.stderr).toMatch(/no COMMIT/)
  })
})
