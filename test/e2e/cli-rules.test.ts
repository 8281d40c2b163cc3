import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runKpe } from '../helpers/cli.js'
import { goldenDir, hasShared, readShared, vectorCases } from '../helpers/shared.js'
import { tempDir } from '../helpers/temp-dirs.js'

describe.runIf(hasShared())('kpe rules reproduces every upstream vector from the command line', () => {
  it.each(hasShared() ? vectorCases() : [])('%s', async (name) => {
    const res = await runKpe(['rules', '-f', join(goldenDir, name, 'input.yaml'), '--config', join(goldenDir, name, 'config.yaml')])
    expect(res.stderr).toBe('')
    expect(res.code).toBe(0)
    expect(res.stdout).toBe(readShared(name, 'expected.iptables'))
  })
})

describe('kpe rules on fixtures', () => {
  it('renders every node with --all-nodes, each under a header', async () => {
    const res = await runKpe(['rules', '-f', 'fixtures/static/demo.yaml', '--all-nodes'])
    expect(res.code).toBe(0)
    expect(res.stdout.match(/^# kpe: node node-[abc] \(IPv4\)$/gm)).toHaveLength(3)
  })

  it('--as-saved prints built-in chains with the jump rules and canaries, in iptables-save form', async () => {
    const res = await runKpe(['rules', '-f', 'fixtures/session-affinity.yaml', '--node', 'node-a', '--as-saved'])
    expect(res.code).toBe(0)
    expect(res.stdout).toMatch(/^\*mangle\n:PREROUTING ACCEPT \[0:0\]/)
    expect(res.stdout).toContain('-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES')
    expect(res.stdout).toContain(':KUBE-PROXY-CANARY - [0:0]')
    expect(res.stdout).toContain('-j MARK --set-xmark 0x4000/0x4000')
    expect(res.stdout).toMatch(/-m recent --set --name KUBE-SEP-\w+ --mask 255\.255\.255\.255 --rsource -m tcp -j DNAT/)
    expect(res.stdout).not.toContain('--or-mark')
  })

  it('--since renders a partial sync: only the changed service gets chains, stale chains are deleted', async () => {
    const dir = tempDir('kpe-since-')
    const before = readShared('partial-sync-6-endpoint-changed', 'input.yaml').replaceAll('10.0.3.2', '10.0.3.1')
    writeFileSync(join(dir, 'before.yaml'), before)
    const res = await runKpe(['rules', '-f', join(goldenDir, 'partial-sync-6-endpoint-changed', 'input.yaml'), '--since', join(dir, 'before.yaml'),
      '--config', join(goldenDir, 'partial-sync-1-initial-full', 'config.yaml')])
    expect(res.code).toBe(0)
    expect(res.stdout).toBe(readShared('partial-sync-6-endpoint-changed', 'expected.iptables'))
  })

  it('exits 2 with the file, document, object and field of a bad manifest', async () => {
    const res = await runKpe(['rules', '-f', '-'], { input: 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 99999}]\n' })
    expect(res.code).toBe(2)
    expect(res.stdout).toBe('')
    expect(res.stderr).toBe('kpe rules: -, document 1 (Service default/web): spec.ports[0].port: Invalid value: 99999: must be between 1 and 65535, inclusive\n')
  })

  it('exits 2 on a bad flag and on no input', async () => {
    expect((await runKpe(['rules', '--bogus'])).code).toBe(2)
    const none = await runKpe(['rules'])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('hint: pass one or more files with -f FILE')
  })
})

describe('kpe rules --diff and --explain', () => {
  it('--diff groups what a change did by service', async () => {
    const dir = tempDir('kpe-diff-')
    const demo = readFileSync(join('fixtures', 'static', 'demo.yaml'), 'utf8')
    // Take the echo pod on node-b out of service.
    const at = demo.indexOf('name: echo-798b8fd6b4-pmzck')
    const ready = demo.indexOf('status: "True"', at)
    writeFileSync(join(dir, 'after.yaml'), `${demo.slice(0, ready)}status: "False"${demo.slice(ready + 'status: "True"'.length)}`)
    const res = await runKpe(['rules', '--diff', '-f', 'fixtures/static/demo.yaml', '-f2', join(dir, 'after.yaml'), '--node', 'node-a'])
    expect(res.code).toBe(0)
    const groups = res.stdout.match(/^=== .+$/gm)
    expect(groups).toEqual(['=== default/echo-lb:http', '=== default/echo:http'])
    expect(res.stdout).toContain('- nat    -A KUBE-SEP-')
    expect(res.stdout).toMatch(/\(chain deleted\)/)
  })

  it('--diff of two dumps', async () => {
    const res = await runKpe(['rules', '--diff', '--rules', join(goldenDir, 'partial-sync-1-initial-full', 'expected.iptables'), '--rules2', join(goldenDir, 'overall-services', 'expected.iptables')])
    expect(res.code).toBe(0)
    expect(res.stdout).toContain('=== ns2/svc2:p80')
  })

  it('--explain names the object and field behind each rule, and the text still loads', async () => {
    const res = await runKpe(['rules', '-f', 'fixtures/static/demo.yaml', '--node', 'node-c', '--explain'])
    expect(res.code).toBe(0)
    expect(res.stdout).toContain('# Service default/web spec.ports[0].nodePort\n-A KUBE-NODEPORTS -m comment --comment default/web:http -m tcp -p tcp --dport 30080')
    expect(res.stdout).toMatch(/# EndpointSlice default\/web-\w+ endpoint 10\.244\.2\.2:8080 on node-c\n-A KUBE-SEP-\w+ -m comment --comment default\/web:http -m tcp -p tcp -j DNAT/)
    expect(res.stdout).toContain('# Service default/echo-lb status.loadBalancer.ingress (192.168.77.200), spec.ports[0].port: no endpoint on this node under a Local traffic policy')
    const plain = await runKpe(['rules', '-f', 'fixtures/static/demo.yaml', '--node', 'node-c'])
    expect(res.stdout.split('\n').filter((l) => !l.startsWith('#')).join('\n')).toBe(plain.stdout)
  })
})
