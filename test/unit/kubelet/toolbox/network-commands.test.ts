import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { harness, type Harness } from './toolbox-harness.js'

let server: Server
let h: Harness
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/missing') { res.writeHead(404, { 'Content-Type': 'text/plain' }); res.end('nope\n'); return }
    res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Seen-Host': req.headers.host ?? '' })
    res.end(req.method === 'HEAD' ? undefined : `${req.method} ${req.url} ua=${req.headers['user-agent']} x=${req.headers['x-test'] ?? ''}`)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  h = harness()
  h.names.set('web.default.svc.cluster.local', ['10.96.0.100'])
  h.routes.set('10.96.0.100:80', (server.address() as AddressInfo).port)
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

describe('curl and wget in the toolbox', () => {
  it('resolves a short Service name through the search list and dials the ClusterIP as the pod', async () => {
    const r = await h.run(['curl', '-s', '-H', 'X-Test: 1', 'http://web/hostname?a=b'])
    expect(r).toMatchObject({ code: 0, stdout: 'GET /hostname?a=b ua=curl/8.5.0 x=1', stderr: '' })
    expect(h.dials.at(-1)).toEqual({ ip: '10.96.0.100', port: 80 })
  })

  it('prints -w variables, -I headers and -v traces', async () => {
    expect((await h.run(['curl', '-so', '/dev/null', '-w', '%{http_code} %{remote_ip}\\n', 'web.default.svc.cluster.local/'])).stdout).toBe('200 10.96.0.100\n')
    const head = await h.run(['curl', '-sI', 'http://web/'])
    expect(head.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*X-Seen-Host: web\r\n/)
    const v = await h.run(['curl', '-sv', 'http://web/'])
    expect(v.stderr).toContain('*   Trying 10.96.0.100:80...\n* Connected to web (10.96.0.100) port 80\n> GET / HTTP/1.1\n> Host: web\n')
  })

  it('fails as curl does: 6 unresolvable, 7 refused, 22 with -f, 1 for https, silent with -s', async () => {
    expect(await h.run(['curl', 'http://nosuch/'])).toMatchObject({ code: 6, stderr: 'curl: (6) Could not resolve host: nosuch\n' })
    expect((await h.run(['curl', '-s', 'http://nosuch/'])).stderr).toBe('')
    h.names.set('down.default.svc.cluster.local', ['10.96.0.200'])
    expect((await h.run(['curl', '-sS', 'http://down/'])).stderr).toMatch(/^curl: \(7\) Failed to connect to down port 80 after \d+ ms: Couldn't connect to server\n$/)
    expect((await h.run(['curl', '-sf', 'http://web/missing'])).code).toBe(22)
    expect((await h.run(['curl', 'https://web/'])).code).toBe(1)
    expect((await h.run(['curl', '--frobnicate', 'http://web/'])).stderr).toMatch(/unknown to the kpe toolbox/)
  })

  it('wget -qO- prints the body; errors are busybox lines with status 1', async () => {
    expect(await h.run(['wget', '-qO-', 'http://web/x'])).toMatchObject({ code: 0, stdout: 'GET /x ua=Wget x=' })
    expect(await h.run(['wget', '-qO-', 'http://nosuch/'])).toMatchObject({ code: 1, stderr: "wget: bad address 'nosuch'\n" })
    expect((await h.run(['wget', '-qO-', 'http://web/missing'])).stderr).toBe('wget: server returned error: HTTP/1.1 404 Not Found\n')
    expect((await h.run(['wget', '-q', 'http://web/saved.txt'])).code).toBe(0)
    expect((await h.run(['cat', 'saved.txt'])).stdout).toBe('GET /saved.txt ua=Wget x=')
  })

  it('nslookup and getent answer from the resolver with the search list; getent also reads /etc/hosts', async () => {
    expect((await h.run(['nslookup', 'web'])).stdout).toBe('Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\nName:\tweb.default.svc.cluster.local\nAddress: 10.96.0.100\n\n')
    expect(await h.run(['nslookup', 'nosuch'])).toMatchObject({ code: 1, stdout: expect.stringContaining("** server can't find nosuch.default.svc.cluster.local: NXDOMAIN") })
    expect((await h.run(['getent', 'hosts', 'web'])).stdout).toBe('10.96.0.100     web.default.svc.cluster.local\n')
    expect((await h.run(['getent', 'hosts', 'client'])).stdout).toBe('10.244.0.2      client\n')
    expect((await h.run(['getent', 'hosts', 'nosuch'])).code).toBe(2)
  })
})
