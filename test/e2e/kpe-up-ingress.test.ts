/**
 * The built-in Ingress controller in `kpe up`, driven with the real kubectl and curl: the `kpe`
 * IngressClass (default), host and path routing (Prefix by path elements, Exact, wildcard host),
 * 404 when nothing matches, the default backend, TLS with the Secret's certificate by SNI,
 * status.loadBalancer.ingress, and both hops in the connection log. Only loopback is dialled.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { curl, freeLoopbackPort, hasKubectl, run, startKpeUp, type KpeUp } from './kpe-up-process.js'

const hasOpenssl = existsSync('/usr/bin/openssl')
if ((!hasKubectl || !hasOpenssl) && process.env['CI']) throw new Error('kubectl and openssl are required in CI (.ci/run installs openssl)')
if (!hasKubectl || !hasOpenssl) console.warn('kpe-up-ingress: skipped, kubectl or openssl is missing')

const echo = (name: string, app: string): string => `apiVersion: v1
kind: Pod
metadata: { name: ${name}, namespace: default, labels: { app: ${app} } }
spec:
  containers:
  - { name: echo, image: hashicorp/http-echo, args: ["-text=${name}"], ports: [{ name: http, containerPort: 5678 }] }
`
const service = (name: string, portName = 'http'): string => `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default }
spec: { selector: { app: ${name} }, ports: [{ name: ${portName}, port: 80, targetPort: 5678 }] }
`
const manifests = [
  echo('api-1', 'api'), echo('web-1', 'web'), echo('other-1', 'other'),
  service('api'), service('web', 'web-http'), service('other'),
  `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: shop, namespace: default }
spec:
  tls: [{ hosts: [shop.example], secretName: shop-tls }]
  rules:
  - host: shop.example
    http:
      paths:
      - { path: /api, pathType: Prefix, backend: { service: { name: api, port: { number: 80 } } } }
      - { path: /, pathType: Prefix, backend: { service: { name: web, port: { name: web-http } } } }
      - { path: /api/exact, pathType: Exact, backend: { service: { name: other, port: { number: 80 } } } }
  - host: "*.wild.example"
    http:
      paths:
      - { path: /, pathType: ImplementationSpecific, backend: { service: { name: other, port: { number: 80 } } } }
`,
].join('---\n')

let up: KpeUp
let dir = ''
let http = ''
let httpsPort = ''

beforeAll(async () => {
  if (!hasKubectl || !hasOpenssl) return
  dir = mkdtempSync(join(tmpdir(), 'kpe-ingress-'))
  writeFileSync(join(dir, 'ingress.yaml'), manifests)
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=shop.example',
    '-addext', 'subjectAltName=DNS:shop.example', '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt')], { stdio: 'ignore' })
  up = await startKpeUp([join(dir, 'ingress.yaml')], ['--ingress-port', String(await freeLoopbackPort()), '--ingress-tls-port', String(await freeLoopbackPort())])
  const created = await up.kubectl('create', 'secret', 'tls', 'shop-tls', '--cert', join(dir, 'tls.crt'), '--key', join(dir, 'tls.key'))
  if (created.code !== 0) throw new Error(created.stderr)
}, 40_000)

afterAll(async () => {
  await up?.stop()
  if (up) rmSync(up.dataDir, { recursive: true, force: true })
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe.skipIf(!hasKubectl || !hasOpenssl)('the kpe Ingress controller', () => {
  it('listens where server.json and the summary say', async () => {
    const info = JSON.parse(readFileSync(join(up.dataDir, 'server.json'), 'utf8')) as { ingress: { http: string; https: string } }
    http = info.ingress.http
    httpsPort = info.ingress.https.replace(/^https:\/\/127\.0\.0\.1:/, '')
    expect(http).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(up.summary).toContain(http)
  })

  it('creates the kpe IngressClass, marked default', async () => {
    const r = await up.kubectl('get', 'ingressclass', 'kpe', '-o', 'jsonpath={.spec.controller} {.metadata.annotations.ingressclass\\.kubernetes\\.io/is-default-class}')
    expect(r.stdout).toBe('kpe.io/ingress-controller true')
  })

  it('routes by host and path: Prefix by path elements, Exact before Prefix, longest path first', async () => {
    const get = async (path: string, host = 'shop.example'): Promise<string> => (await curl(['-H', `Host: ${host}`, `${http}${path}`])).stdout.trim()
    expect(await get('/api/')).toBe('api-1')
    expect(await get('/api')).toBe('api-1')
    expect(await get('/api/v1/items')).toBe('api-1')
    expect(await get('/apis')).toBe('web-1')
    expect(await get('/api/exact')).toBe('other-1')
    expect(await get('/api/exact/more')).toBe('api-1')
    expect(await get('/', 'SHOP.example:8088')).toBe('web-1')
    expect(await get('/', 'a.wild.example')).toBe('other-1')
  })

  it('answers 404 when no rule matches and there is no default backend, then uses a default backend', async () => {
    const miss = await curl(['-o', '/dev/null', '-w', '%{http_code}', '-H', 'Host: a.b.wild.example', `${http}/`])
    expect(miss.stdout).toBe('404')
    writeFileSync(join(dir, 'fallback.yaml'), `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: fallback, namespace: default }
spec: { ingressClassName: kpe, defaultBackend: { service: { name: api, port: { number: 80 } } } }
`)
    expect((await up.kubectl('apply', '-f', join(dir, 'fallback.yaml'))).code).toBe(0)
    expect((await curl(['-H', 'Host: nothing.example', `${http}/`])).stdout.trim()).toBe('api-1')
  })

  it('serves TLS with the Secret\'s certificate for the SNI host', async () => {
    const r = await curl(['--resolve', `shop.example:${httpsPort}:127.0.0.1`, '--cacert', join(dir, 'tls.crt'), `https://shop.example:${httpsPort}/api/`])
    expect(r.stdout.trim(), r.stderr).toBe('api-1')
  })

  it('sets status.loadBalancer.ingress to the address it serves', async () => {
    let ip = ''
    for (let i = 0; i < 30 && ip === ''; i++) {
      ip = (await up.kubectl('get', 'ingress', 'shop', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}')).stdout
      if (ip === '') await new Promise((r) => setTimeout(r, 100))
    }
    expect(ip).toBe('127.0.0.1')
  })

  it('is also a LoadBalancer Service (kube-system/kpe-ingress) whose IP the SOCKS5 and HTTP entry points reach', async () => {
    const lb = (await up.kubectl('get', 'svc', '-n', 'kube-system', 'kpe-ingress', '-o', 'jsonpath={.spec.type} {.status.loadBalancer.ingress[0].ip}')).stdout.split(' ')
    expect(lb[0]).toBe('LoadBalancer')
    const ip = lb[1]!
    expect(ip).toMatch(/^192\.168\.77\.2\d\d$/)
    let published = ''
    for (let i = 0; i < 30 && !published.includes(ip); i++) {
      published = (await up.kubectl('get', 'ingress', 'shop', '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}')).stdout
      if (!published.includes(ip)) await new Promise((r) => setTimeout(r, 100))
    }
    expect(published).toBe(`127.0.0.1 ${ip}`)
    const info = JSON.parse(readFileSync(join(up.dataDir, 'server.json'), 'utf8')) as { httpProxy: string; socks5: string }
    // Not curl() of kpe-up-process: its --noproxy '*' would send these straight to the LoadBalancer IP.
    const viaEntry = (args: string[]) => run('curl', ['-s', '--max-time', '3', ...args], 5_000)
    // --proxytunnel: a CONNECT to the IP keeps curl's Host header (an absolute-form GET names the IP as host)
    const viaProxy = await viaEntry(['-x', info.httpProxy, '--proxytunnel', '-H', 'Host: shop.example', `http://${ip}/api/`])
    expect(viaProxy.stdout.trim(), viaProxy.stderr).toBe('api-1')
    const root = await viaEntry(['-x', info.httpProxy, '--proxytunnel', '-H', 'Host: shop.example', `http://${ip}/`])
    expect(root.stdout.trim(), root.stderr).toBe('web-1')
    const viaSocks = await viaEntry(['--socks5', info.socks5.replace(/^socks5h?:\/\//, ''), '-H', 'Host: shop.example', `http://${ip}/api/`])
    expect(viaSocks.stdout.trim(), viaSocks.stderr).toBe('api-1')
    // TLS end to end: CONNECT to the LoadBalancer IP, SNI and certificate for shop.example
    const tls = await viaEntry(['-x', info.httpProxy, '--connect-to', `shop.example:443:${ip}:443`, '--cacert', join(dir, 'tls.crt'), 'https://shop.example/api/'])
    expect(tls.stdout.trim(), tls.stderr).toBe('api-1')
    const log = JSON.parse((await curl([`${/\((http:\/\/127\.0\.0\.1:\d+)\/rules\/NODE\)/.exec(up.summary)![1]!}/connections`])).stdout) as { entry: string; destination: string; verdict: string; pod?: string }[]
    expect(log).toContainEqual(expect.objectContaining({ destination: expect.stringContaining('kube-system/kpe-ingress'), verdict: 'forward', pod: 'kube-system/kpe-ingress-controller' }))
  })

  it('records both hops: client to the controller, and the controller to the Service through the node rules', async () => {
    const agents = /\((http:\/\/127\.0\.0\.1:\d+)\/rules\/NODE\)/.exec(up.summary)![1]!
    const log = JSON.parse((await curl([`${agents}/connections`])).stdout) as { entry: string; client: string; destination: string; verdict: string; pod?: string; path?: string[] }[]
    const ingress = log.filter((r) => r.entry === 'ingress')
    expect(ingress).toContainEqual(expect.objectContaining({ client: expect.stringMatching(/^external host 198\.18\./), destination: 'http://shop.example/api/', verdict: 'forward' }))
    const second = ingress.find((r) => r.client === 'ingress controller on node-a' && r.destination.includes('default/api'))
    expect(second).toMatchObject({ verdict: 'forward', pod: 'default/api-1' })
    expect(second?.path?.some((step) => step.startsWith('nat/KUBE-SVC-'))).toBe(true)
  })
})
