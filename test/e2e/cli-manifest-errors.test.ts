import { describe, expect, it } from 'vitest'
import { runKpe } from '../helpers/cli.js'

const pod = (status: string): string => `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: [{name: c}]
status: ${status}
`

const aliasBomb = [
  'a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]',
  ...['b', 'c', 'd', 'e', 'f', 'g', 'h'].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
  'i: [*h, *h, *h, *h, *h, *h, *h, *h, *h]',
].join('\n')

describe('kpe rules -f and kpe trace -f: bad manifests are input errors (exit 2), never internal errors (issue 10 item 8)', () => {
  it.each([
    ['an unresolved YAML alias', 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 80}]\n  selector: {x: *i}\n',
      /^kpe rules: -, document 1: malformed YAML: the alias \*i has no anchor &i before it\n$/],
    ['a YAML alias bomb', aliasBomb, /^kpe rules: -, document 1: YAML aliases expand beyond 100 references/],
    ['Pod status: {conditions: x}', pod('{conditions: x}'),
      /^kpe rules: -, document 2 \(Pod default\/p\): status\.conditions: json: cannot unmarshal string into Go struct field PodStatus\.status\.conditions of type \[\]v1\.PodCondition\n$/],
    ['podIPs: ["10.244.0.2"]', pod('{podIPs: ["10.244.0.2"]}'),
      /^kpe rules: -, document 2 \(Pod default\/p\): status\.podIPs\[0\]: json: cannot unmarshal string into Go struct field PodStatus\.status\.podIPs of type v1\.PodIP\n$/],
    ['podIPs: [null]', pod('{podIPs: [null]}'), /^kpe rules: -, document 2 \(Pod default\/p\): status\.podIPs\[0\]: Invalid value: null: must not be null\n$/],
  ])('%s', async (_name, input, stderr) => {
    const started = Date.now()
    const res = await runKpe(['rules', '-f', '-'], { input })
    expect(res.stderr).toMatch(stderr)
    expect(res.code).toBe(2)
    expect(res.stdout).toBe('')
    expect(Date.now() - started).toBeLessThan(5_000)
    const trace = await runKpe(['trace', '-f', '-', '--from', '203.0.113.9', '--to', '10.96.0.1:80'], { input })
    expect(trace.code).toBe(2)
    expect(trace.stderr).toMatch(/^kpe trace: -, document \d/)
  })
})
