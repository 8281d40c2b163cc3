/**
 * Cluster DNS in `kpe up`, checked with the real `dig` (Debian dnsutils) on the host DNS port of
 * a dual-stack cluster: A, AAAA, SRV, PTR, headless and StatefulSet-style names, NXDOMAIN with
 * the SOA, TCP; and the kube-dns Service reached through the dataplane (SOCKS5 CONNECT to
 * 10.96.0.10:53), its rules in a node's table. Only loopback addresses are dialled.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createSocket } from 'node:dgram'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import dnsPacket from 'dns-packet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { curl, freeLoopbackPort, run, startKpeUp, type KpeUp } from './kpe-up-process.js'

const hasDig = existsSync('/usr/bin/dig')
if (!hasDig && process.env['CI']) throw new Error('dig (Debian dnsutils) is required in CI: .ci/run installs it')
if (!hasDig) console.warn('kpe-up-dns: skipped, dig is not installed (apt-get install dnsutils)')

const clusterConfig = `apiVersion: kpe.io/v1alpha1
kind: KpeCluster
serviceCIDR: [10.96.0.0/12, fd00:10:96::/112]
clusterCIDR: [10.244.0.0/16, fd00:10:244::/56]
nodeCIDRMaskSize: { ipv4: 24, ipv6: 64 }
nodes:
- { name: node-a, internalIP: [192.168.77.10, fd00:77::10] }
- { name: node-b, internalIP: [192.168.77.11, fd00:77::11] }
`
const netexec = (name: string, extra: string): string => `apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: default, labels: { app: ${name.replace(/-\d$/, '')} } }
spec:
  ${extra}
  containers:
  - name: agnhost
    image: registry.k8s.io/e2e-test-images/agnhost:2.53
    args: [netexec, --http-port=8080]
    ports: [{ name: http, containerPort: 8080 }]
`
const manifests = `apiVersion: v1
kind: Service
metadata: { name: shop, namespace: default }
spec:
  ipFamilyPolicy: RequireDualStack
  selector: { app: shop }
  ports: [{ name: http, port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec:
  clusterIP: None
  selector: { app: web }
  ports: [{ name: http, port: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: ext, namespace: default }
spec: { type: ExternalName, externalName: www.example.com }
---
${netexec('shop-1', 'nodeName: node-a')}---
${netexec('web-0', 'hostname: web-0\n  subdomain: web')}---
${netexec('web-1', 'hostname: web-1\n  subdomain: web')}`

let up: KpeUp
let dnsPort = 0
let dir = ''

beforeAll(async () => {
  if (!hasDig) return
  dir = mkdtempSync(join(tmpdir(), 'kpe-dns-'))
  writeFileSync(join(dir, 'cluster.yaml'), clusterConfig)
  writeFileSync(join(dir, 'dns.yaml'), manifests)
  dnsPort = await freeLoopbackPort(true)
  up = await startKpeUp([join(dir, 'dns.yaml')], ['--cluster-config', join(dir, 'cluster.yaml'), '--dns-port', String(dnsPort)])
}, 40_000)

afterAll(async () => {
  await up?.stop()
  if (up) rmSync(up.dataDir, { recursive: true, force: true })
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const dig = async (...args: string[]): Promise<string> => {
  const r = await run('dig', ['@127.0.0.1', '-p', String(dnsPort), '+time=2', '+tries=1', ...args], 10_000)
  if (r.code !== 0) throw new Error(`dig ${args.join(' ')}: ${r.code} ${r.stderr}`)
  return r.stdout
}
const short = async (...args: string[]): Promise<string[]> => (await dig('+short', ...args)).trim().split('\n').filter((l) => l !== '').sort()
const jsonpath = async (what: string, path: string): Promise<string> => {
  const r = await up.kubectl('get', what, '-o', `jsonpath=${path}`)
  if (r.code !== 0) throw new Error(r.stderr)
  return r.stdout
}

describe.skipIf(!hasDig)('cluster DNS in kpe up (dig)', () => {
  it('answers A and AAAA of a dual-stack Service with its ClusterIPs', async () => {
    const [v4, v6] = (await jsonpath('svc/shop', '{.spec.clusterIPs[*]}')).split(' ')
    expect(v6).toContain(':')
    expect(await short('shop.default.svc.cluster.local', 'A')).toEqual([v4])
    expect(await short('shop.default.svc.cluster.local', 'AAAA')).toEqual([v6])
  })

  it('answers SRV for a named port and PTR for the ClusterIP', async () => {
    const ip = await jsonpath('svc/shop', '{.spec.clusterIP}')
    expect(await short('_http._tcp.shop.default.svc.cluster.local', 'SRV')).toEqual(['0 100 80 shop.default.svc.cluster.local.'])
    expect(await short('-x', ip)).toEqual(['shop.default.svc.cluster.local.'])
  })

  it('answers a headless Service with its ready pods, each by HOSTNAME.SUBDOMAIN, and PTR back', async () => {
    const ips = [await jsonpath('pod/web-0', '{.status.podIP}'), await jsonpath('pod/web-1', '{.status.podIP}')]
    expect(await short('web.default.svc.cluster.local', 'A')).toEqual([...ips].sort())
    expect(await short('web-0.web.default.svc.cluster.local', 'A')).toEqual([ips[0]])
    expect(await short('-x', ips[1]!)).toEqual(['web-1.web.default.svc.cluster.local.'])
    expect(await short('_http._tcp.web.default.svc.cluster.local', 'SRV')).toEqual(['0 100 8080 web-0.web.default.svc.cluster.local.', '0 100 8080 web-1.web.default.svc.cluster.local.'])
  })

  it('answers ExternalName with a CNAME, pod names, the schema version, and over TCP', async () => {
    expect(await short('ext.default.svc.cluster.local', 'A')).toEqual(['www.example.com.'])
    expect(await short('10-244-0-9.default.pod.cluster.local', 'A')).toEqual(['10.244.0.9'])
    expect(await short('dns-version.cluster.local', 'TXT')).toEqual(['"1.0.1"'])
    expect(await short('+tcp', 'shop.default.svc.cluster.local', 'A')).toHaveLength(1)
  })

  it('answers NXDOMAIN with the zone SOA in authority, and refuses names outside the cluster', async () => {
    const out = await dig('nothing.default.svc.cluster.local', 'A')
    expect(out).toMatch(/status: NXDOMAIN/)
    expect(out).toMatch(/AUTHORITY SECTION:\ncluster\.local\.\s+30\s+IN\s+SOA\s+ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. \d+ 7200 1800 86400 30/)
    expect(await dig('example.com', 'A')).toMatch(/status: REFUSED/)
  })

  it('is the kube-dns Service: its rules are in the node table and a query through the dataplane reaches it', async () => {
    const svc = await up.kubectl('-n', 'kube-system', 'get', 'svc', 'kube-dns', '-o', 'jsonpath={.spec.clusterIP} {.spec.ports[*].name}')
    expect(svc.stdout).toBe('10.96.0.10 dns dns-tcp')
    const agents = /\((http:\/\/127\.0\.0\.1:\d+)\/rules\/NODE\)/.exec(up.summary)![1]!
    const rules = await curl([`${agents}/rules/node-b`])
    expect(rules.stdout).toMatch(/-A KUBE-SERVICES -d 10\.96\.0\.10\/32 -p udp .*kube-system\/kube-dns:dns cluster IP/)
    // DNS over TCP, through SOCKS5 CONNECT to the ClusterIP: node rules pick the endpoint kpe serves.
    const socks = Number(/--socks5-hostname 127\.0\.0\.1:(\d+)/.exec(up.summary)![1])
    const answer = await dnsOverSocks(socks, '10.96.0.10', 53, 'shop.default.svc.cluster.local')
    expect(answer).toEqual([await jsonpath('svc/shop', '{.spec.clusterIP}')])
    // The kernel dataplane's hop records a connection once conntrack has named its endpoint, a
    // moment after the bytes flowed: read the log until it is there (the userspace log is at once).
    let connections = ''
    for (const deadline = Date.now() + 5_000; !connections.includes('kube-system/kpe-dns') && Date.now() < deadline;) {
      connections = (await curl([`${agents}/connections`])).stdout
      if (!connections.includes('kube-system/kpe-dns')) await new Promise((r) => setTimeout(r, 100))
    }
    expect(connections).toContain('kube-system/kpe-dns')
  })

  it('answers over UDP through the dataplane too (SOCKS5 UDP ASSOCIATE to 10.96.0.10:53)', async () => {
    const socks = Number(/--socks5-hostname 127\.0\.0\.1:(\d+)/.exec(up.summary)![1])
    expect(await dnsOverSocksUdp(socks, '10.96.0.10', 53, 'shop.default.svc.cluster.local')).toEqual([await jsonpath('svc/shop', '{.spec.clusterIP}')])
  })

  it('follows the cluster: a Service created now resolves, and NXDOMAIN once deleted', async () => {
    expect((await up.kubectl('create', 'service', 'clusterip', 'late', '--tcp=80:8080')).code).toBe(0)
    const ip = await jsonpath('svc/late', '{.spec.clusterIP}')
    let got: string[] = []
    for (let i = 0; i < 20 && got[0] !== ip; i++) {
      got = await short('late.default.svc.cluster.local', 'A')
      if (got[0] !== ip) await new Promise((r) => setTimeout(r, 100))
    }
    expect(got).toEqual([ip])
    expect((await up.kubectl('delete', 'service', 'late')).code).toBe(0)
    let status = ''
    for (let i = 0; i < 20 && !status.includes('NXDOMAIN'); i++) {
      status = await dig('late.default.svc.cluster.local', 'A')
      if (!status.includes('NXDOMAIN')) await new Promise((r) => setTimeout(r, 100))
    }
    expect(status).toMatch(/status: NXDOMAIN/)
  })

  it('server.json names every entry point, and each answers', async () => {
    const info = JSON.parse(readFileSync(join(up.dataDir, 'server.json'), 'utf8')) as Record<string, unknown>
    expect(Object.keys(info)).toEqual(expect.arrayContaining(['apiServer', 'nodePorts', 'socks5', 'httpProxy', 'dns', 'ingress', 'agents']))
    expect(statSync(join(up.dataDir, 'server.json')).mode & 0o777).toBe(0o600)
    expect(info['dns']).toBe(`127.0.0.1:${dnsPort}`)
    expect(info['nodePorts']).toEqual({ 'node-a': `${up.prefix}1`, 'node-b': `${up.prefix}2` })
    expect(up.summary).toContain(`127.0.0.1:${dnsPort}`)
    expect((await curl([`${String(info['apiServer'])}/version`])).stdout).toContain('gitVersion')
    expect((await curl([`${String(info['agents'])}/metrics`])).stdout).toContain('kubeproxy_sync_proxy_rules')
    expect(up.summary).toContain(String(info['socks5']))
  })

  it('the SOCKS5 entry point resolves names through cluster DNS (a headless pod by hostname)', async () => {
    const socks = /--socks5-hostname (127\.0\.0\.1:\d+)/.exec(up.summary)![1]!
    // Not the helper's curl: its --noproxy '*' would bypass the SOCKS5 proxy too.
    const r = await run('curl', ['-s', '--max-time', '3', '--socks5-hostname', socks, 'http://web-0.web.default.svc.cluster.local:8080/hostname'], 5_000)
    expect(r.stdout, r.stderr).toBe('web-0')
    const short = await run('curl', ['-s', '--max-time', '3', '--socks5-hostname', socks, 'http://shop.default.svc:80/hostname'], 5_000)
    expect(short.stdout, short.stderr).toBe('shop-1')
  })
})

/** One DNS query over TCP through a SOCKS5 CONNECT (RFC 1928), as a pod's resolver would send it. */
function dnsOverSocks(socksPort: number, ip: string, port: number, name: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = connect(socksPort, '127.0.0.1')
    const timer = setTimeout(() => { s.destroy(); reject(new Error('no answer through SOCKS5')) }, 5_000)
    let stage = 0
    let buf = Buffer.alloc(0)
    s.on('error', reject)
    s.on('connect', () => s.write(Buffer.from([5, 1, 0])))
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      if (stage === 0 && buf.length >= 2) {
        buf = buf.subarray(2)
        stage = 1
        const req = Buffer.from([5, 1, 0, 1, ...ip.split('.').map(Number), port >> 8, port & 0xff])
        s.write(req)
      }
      if (stage === 1 && buf.length >= 10) {
        if (buf[1] !== 0) { clearTimeout(timer); s.destroy(); reject(new Error(`SOCKS5 reply ${buf[1]}`)); return }
        buf = buf.subarray(10)
        stage = 2
        s.write(dnsPacket.streamEncode({ type: 'query', id: 5, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] }))
      }
      if (stage === 2 && buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer)
        s.destroy()
        const r = dnsPacket.streamDecode(buf)
        resolve((r.answers ?? []).flatMap((a) => (a.type === 'A' ? [a.data] : [])))
      }
    })
  })
}

/** One DNS query over UDP through SOCKS5 UDP ASSOCIATE (RFC 1928 section 7). */
async function dnsOverSocksUdp(socksPort: number, ip: string, port: number, name: string): Promise<string[]> {
  const control = connect(socksPort, '127.0.0.1')
  const read = (n: number): Promise<Buffer> => new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0)
    const on = (d: Buffer): void => {
      buf = Buffer.concat([buf, d])
      if (buf.length >= n) { control.off('data', on); resolve(buf) }
    }
    control.on('data', on)
    control.once('error', reject)
  })
  try {
    await new Promise<void>((resolve, reject) => { control.once('connect', resolve); control.once('error', reject) })
    control.write(Buffer.from([5, 1, 0]))
    await read(2)
    control.write(Buffer.from([5, 3, 0, 1, 0, 0, 0, 0, 0, 0]))
    const reply = await read(10)
    if (reply[1] !== 0) throw new Error(`SOCKS5 UDP ASSOCIATE reply ${reply[1]}`)
    const relayPort = reply.readUInt16BE(8)
    const header = Buffer.from([0, 0, 0, 1, ...ip.split('.').map(Number), port >> 8, port & 0xff])
    const query = dnsPacket.encode({ type: 'query', id: 9, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] })
    const udp = createSocket('udp4')
    try {
      const answer = await new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no UDP answer through SOCKS5')), 5_000)
        udp.on('message', (m) => { clearTimeout(timer); resolve(m) })
        udp.send(Buffer.concat([header, query]), relayPort, '127.0.0.1')
      })
      const r = dnsPacket.decode(answer.subarray(10))
      return (r.answers ?? []).flatMap((a) => (a.type === 'A' ? [a.data] : []))
    } finally {
      udp.close()
    }
  } finally {
    control.destroy()
  }
}
