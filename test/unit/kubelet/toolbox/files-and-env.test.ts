import { Readable } from 'node:stream'
import { extract, pack } from 'tar-stream'
import { describe, expect, it } from 'vitest'
import type { Pod, Service } from '../../../../src/api/index.js'
import { containerEnvironment, renderHostsFile, serviceEnvVars } from '../../../../src/kubelet/index.js'
import { harness } from './toolbox-harness.js'

const svc = (name: string, ns: string, created: string, ports: Service['spec']['ports'], clusterIP = '10.96.0.7'): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns, creationTimestamp: created }, spec: { clusterIP, ports },
}) as Service

describe('the container environment', () => {
  it('has the Service variables kubelet injects, in upstream order and names', () => {
    expect(serviceEnvVars(svc('my-web', 'default', '2026-01-01T00:00:00Z', [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }]))).toEqual([
      ['MY_WEB_SERVICE_HOST', '10.96.0.7'], ['MY_WEB_SERVICE_PORT', '80'], ['MY_WEB_SERVICE_PORT_HTTP', '80'], ['MY_WEB_SERVICE_PORT_DNS', '53'],
      ['MY_WEB_PORT', 'tcp://10.96.0.7:80'],
      ['MY_WEB_PORT_80_TCP', 'tcp://10.96.0.7:80'], ['MY_WEB_PORT_80_TCP_PROTO', 'tcp'], ['MY_WEB_PORT_80_TCP_PORT', '80'], ['MY_WEB_PORT_80_TCP_ADDR', '10.96.0.7'],
      ['MY_WEB_PORT_53_UDP', 'udp://10.96.0.7:53'], ['MY_WEB_PORT_53_UDP_PROTO', 'udp'], ['MY_WEB_PORT_53_UDP_PORT', '53'], ['MY_WEB_PORT_53_UDP_ADDR', '10.96.0.7'],
    ])
    expect(serviceEnvVars(svc('headless', 'default', '2026-01-01T00:00:00Z', [{ port: 80 }], 'None'))).toEqual([])
  })

  it('takes Services of the pod namespace that existed at start, kubernetes always, and lets the container env win', () => {
    const pod = { metadata: { name: 'p', namespace: 'team', creationTimestamp: '2026-01-01T00:00:10Z' }, spec: { containers: [] }, status: { startTime: '2026-01-01T00:00:10Z', podIP: '10.244.0.9' } } as unknown as Pod
    const env = containerEnvironment({
      pod, hostname: 'p',
      container: { name: 'c', env: [{ name: 'WEB_SERVICE_HOST', value: 'mine' }, { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }, { name: 'REF', value: '$(MY_IP):80' }] },
      services: [
        svc('kubernetes', 'default', '2026-01-01T00:00:00Z', [{ name: 'https', port: 443 }], '10.96.0.1'),
        svc('web', 'team', '2026-01-01T00:00:05Z', [{ port: 80 }]),
        svc('later', 'team', '2026-01-01T00:00:20Z', [{ port: 80 }]),
        svc('other', 'elsewhere', '2026-01-01T00:00:05Z', [{ port: 80 }]),
      ],
    })
    expect(env.get('KUBERNETES_SERVICE_HOST')).toBe('10.96.0.1')
    expect(env.get('WEB_SERVICE_HOST')).toBe('mine')
    expect(env.get('WEB_PORT_80_TCP_ADDR')).toBe('10.96.0.7')
    expect(env.has('LATER_SERVICE_HOST')).toBe(false)
    expect(env.has('OTHER_SERVICE_HOST')).toBe(false)
    expect(env.get('MY_IP')).toBe('10.244.0.9')
    expect(env.get('REF')).toBe('10.244.0.9:80')
  })
})

describe('kubelet files and name resolution', () => {
  it('writes the managed /etc/hosts and ClusterFirst resolv.conf', async () => {
    const h = harness()
    expect((await h.run(['cat', '/etc/resolv.conf'])).stdout).toBe('search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n')
    expect(renderHostsFile({ podIPs: ['10.244.1.5'], hostname: 'db-0', subdomain: 'db', namespace: 'ns', clusterDomain: 'cluster.local' }).split('\n').slice(-2)).toEqual(['10.244.1.5\tdb-0.db.ns.svc.cluster.local\tdb-0', ''])
  })

})

describe('tar for kubectl cp', () => {
  it('unpacks what kubectl sends under -C and packs it back with the leading / removed', async () => {
    const h = harness()
    const p = pack()
    p.entry({ name: 'dir/a.txt', mode: 0o644 }, 'alpha\n')
    p.entry({ name: '../escape.txt', mode: 0o644 }, 'no\n')
    p.finalize()
    const chunks: Buffer[] = []
    for await (const c of p) chunks.push(c as Buffer)
    const x = await h.run(['tar', '--no-same-permissions', '--no-same-owner', '-xmf', '-', '-C', '/tmp'], Buffer.concat(chunks))
    expect(x.code).toBe(0)
    expect(x.stderr).toMatch(/outside the target directory/)
    expect((await h.run(['cat', '/tmp/dir/a.txt'])).stdout).toBe('alpha\n')
    expect((await h.run(['test', '-e', '/escape.txt'])).code).toBe(1)
    const c = await h.run(['tar', 'cf', '-', '/tmp/dir'])
    const names: string[] = []
    const ex = extract()
    ex.on('entry', (header, stream, next) => { names.push(header.name); stream.on('end', next); stream.resume() })
    await new Promise<void>((resolve, reject) => { ex.on('finish', resolve); ex.on('error', reject); Readable.from([c.raw]).pipe(ex) })
    expect(names).toEqual(['tmp/dir/', 'tmp/dir/a.txt'])
    expect((await h.run(['tar', 'cf', '-', '/nope'])).code).toBe(2)
  })

  it('answers test -d as kubectl cp checks a destination', async () => {
    const h = harness()
    expect((await h.run(['test', '-d', '/tmp'])).code).toBe(0)
    expect((await h.run(['test', '-d', '/tmp/none'])).code).toBe(1)
  })

  it('refuses writes past the container limit with ENOSPC', async () => {
    const h = harness()
    const r = await h.run(['sh', '-c', 'cat > /tmp/big'], Buffer.alloc(2 * 1024 * 1024))
    expect(r).toMatchObject({ code: 1, stderr: "sh: can't create /tmp/big: No space left on device\n" })
  })
})
