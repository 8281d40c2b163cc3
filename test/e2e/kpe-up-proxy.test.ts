/**
 * The API server's service and pod proxy subresources and `kpe port-forward` against the real
 * `kpe up` CLI: `kubectl get --raw .../proxy/...`, the real `kubectl proxy` on a free loopback
 * port, and `kpe port-forward`, each checked with real curl. Only loopback addresses are dialled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { curl, hasKubectl, kubectlPath, livePods, spawnPortForward, spawnServing, startKpeUp, type KpeUp, type Served } from './kpe-up-process.js'

/** The live web pods' names, sorted (the Deployment names them). */
let webPods: string[] = []
let up: KpeUp
const started: Served[] = []

beforeAll(async () => {
  up = await startKpeUp()
  if (hasKubectl) webPods = (await livePods(up, 'app=web')).map((p) => p.name).sort()
}, 40_000)

afterAll(async () => {
  for (const s of started) s.stop()
  await up?.stop()
})

describe.skipIf(!hasKubectl)('the API server proxy subresources through kpe up', () => {
  it('kubectl get --raw on services/web:http/proxy reaches the web pods', async () => {
    const seen = new Set<string>()
    for (let i = 0; i < 20 && seen.size < 3; i++) {
      const r = await up.kubectl('get', '--raw', '/api/v1/namespaces/default/services/web:http/proxy/hostname')
      expect(r.code, r.stderr).toBe(0)
      seen.add(r.stdout)
    }
    expect([...seen].sort()).toEqual(webPods)
  })

  it('the port may be given by number, the path keeps its query, and the pod sees node-a, where the API server runs', async () => {
    const echo = await up.kubectl('get', '--raw', '/api/v1/namespaces/default/services/web:80/proxy/echo?msg=hello%20proxy')
    expect(echo.stdout).toBe('hello proxy')
    const pod = await up.kubectl('get', '--raw', `/api/v1/namespaces/default/pods/${webPods[1]}:8080/proxy/clientip`)
    expect(pod.stdout).toMatch(/^192\.168\.77\.10:\d+$/)
    const defaultPort = await up.kubectl('get', '--raw', `/api/v1/namespaces/default/pods/${webPods[2]}/proxy/hostname`)
    expect(defaultPort.stdout).toBe(webPods[2])
  })

  it('answers as kube-apiserver does when there is nowhere to go', async () => {
    expect((await up.kubectl('get', '--raw', '/api/v1/namespaces/default/services/empty:http/proxy/')).stderr).toMatch(/ServiceUnavailable.*no endpoints available for service "empty/)
    expect((await up.kubectl('get', '--raw', '/api/v1/namespaces/default/services/web:99/proxy/')).stderr).toMatch(/ServiceUnavailable.*no service port 99 found for service "web"/)
    expect((await up.kubectl('get', '--raw', '/api/v1/namespaces/default/services/nope/proxy/')).stderr).toMatch(/NotFound.*services "nope" not found/)
  })

  it('kubectl proxy on a free loopback port forwards curl to the service', async () => {
    const proxy = await spawnServing(kubectlPath, ['--kubeconfig', up.kubeconfig, '--cache-dir', `${up.dataDir}/kubectl-proxy-cache`, 'proxy', '--port=0', '--address=127.0.0.1'], /Starting to serve on (127\.0\.0\.1:\d+)/)
    started.push(proxy)
    const r = await curl([`http://${proxy.address}/api/v1/namespaces/default/services/web:http/proxy/hostname`])
    expect(webPods).toContain(r.stdout)
    const head = await curl(['-i', `http://${proxy.address}/api/v1/namespaces/default/services/web:http/proxy`])
    expect(head.stdout).toMatch(/^HTTP\/1\.1 301/)
    expect(head.stdout).toMatch(/location: \/api\/v1\/namespaces\/default\/services\/web:http\/proxy\//i)
  })
})

describe('kpe port-forward through kpe up', () => {
  it('svc/web LOCAL:80 forwards curl to one web pod, and the pod sees 127.0.0.1', async () => {
    const pf = await spawnPortForward(['svc/web', ':80', '--data-dir', up.dataDir])
    started.push(pf)
    const hosts = new Set<string>()
    for (let i = 0; i < 3; i++) hosts.add((await curl([`http://${pf.address}/hostname`])).stdout)
    expect(hosts.size).toBe(1)
    expect(webPods).toContain([...hosts][0])
    expect((await curl([`http://${pf.address}/clientip`])).stdout).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(pf.output()).toMatch(/Handling connection for \d+ \(default\/web-[a-z0-9]+-\w+:8080\)/)
  })

  it('pod/NAME with a named container port', async () => {
    const pf = await spawnPortForward([`pod/${webPods[0]}`, '0:http', '--data-dir', up.dataDir])
    started.push(pf)
    expect((await curl([`http://${pf.address}/hostname`])).stdout).toBe(webPods[0])
  })

  it('a Service without pods: the local connection is reset and the reason printed', async () => {
    const pf = await spawnPortForward(['svc/empty', ':80', '--data-dir', up.dataDir])
    started.push(pf)
    const r = await curl([`http://${pf.address}/`])
    expect([52, 56]).toContain(r.code)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(pf.output()).toMatch(/no pods selected by Service default\/empty/)
  })
})
