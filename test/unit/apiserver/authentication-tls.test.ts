/**
 * Optional authentication and TLS (issue 10 item 6): with static tokens every request but
 * health and version needs a valid bearer token (401 Unauthorized Status otherwise); with
 * serving certificates the server speaks HTTPS that verifies against the generated CA; the
 * certificates are written 0600 in a 0700 directory and reused on restart.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { request } from 'node:https'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { ApiServer, createServingCertificates, loadOrCreateServingCertificates, parseTokenFile, TokenFileError } from '../../../src/apiserver/index.js'
import { openMemoryStore, type VersionedStore } from '../../../src/store/index.js'

let server: ApiServer | undefined
let store: VersionedStore | undefined
let dir: string | undefined
afterEach(async () => {
  await server?.close()
  await store?.close()
  if (dir) await rm(dir, { recursive: true, force: true })
  server = store = dir = undefined
})

const tokenFile = 'secret-admin,admin,1,"system:masters,dev"\n\n  spaced ,bob,2\n'

function get(url: string, headers: Record<string, string> = {}, ca?: string): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? request : httpRequest
    const req = send(url, { headers, ...(ca ? { ca } : {}) }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => { text += d })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text.startsWith('{') ? JSON.parse(text) as Record<string, unknown> : { text } }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('static token file', () => {
  it('reads token,user,uid[,groups] records and rejects malformed files naming the record', () => {
    const t = parseTokenFile(tokenFile, 'tokens.csv')
    expect(t.first).toBe('secret-admin')
    expect(t.lookup('secret-admin')).toEqual({ name: 'admin', uid: '1', groups: ['system:masters', 'dev'] })
    expect(t.lookup('spaced')).toMatchObject({ name: 'bob', groups: [] })
    expect(t.lookup('nope')).toBeUndefined()
    expect(() => parseTokenFile('a,b\n', 'f.csv')).toThrow(/f\.csv: record 1 has 2 columns/)
    expect(() => parseTokenFile('a,b,1\na,c,2\n', 'f.csv')).toThrow(TokenFileError)
    expect(() => parseTokenFile('', 'f.csv')).toThrow(/no tokens/)
    expect(() => parseTokenFile('"a,b,1\n', 'f.csv')).toThrow(/not a CSV token file/)
  })
})

describe('authentication', () => {
  it('answers 401 Unauthorized without a valid bearer token, except on health and version', async () => {
    store = await openMemoryStore()
    server = await ApiServer.start({ store, port: 0, tokens: parseTokenFile(tokenFile, 'tokens.csv') })
    const pods = `${server.url}/api/v1/namespaces/default/pods`
    expect(await get(pods)).toMatchObject({ status: 401, json: { kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 } })
    expect((await get(pods, { authorization: 'Bearer wrong' })).status).toBe(401)
    expect((await get(pods, { authorization: 'Basic c2VjcmV0LWFkbWlu' })).status).toBe(401)
    expect((await get(pods, { authorization: 'Bearer secret-admin' })).status).toBe(200)
    expect((await get(pods, { authorization: 'bearer  spaced' })).status).toBe(200)
    for (const path of ['/version', '/healthz', '/livez', '/readyz']) expect((await get(`${server.url}${path}`)).status).toBe(200)
    const ws = `ws://127.0.0.1:${server.port}/api/v1/namespaces/default/pods?watch=true`
    const opened = (headers: Record<string, string>): Promise<number> => new Promise((resolve) => {
      const c = new WebSocket(ws, { headers })
      c.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); c.terminate() })
      c.on('open', () => { resolve(101); c.close() })
      c.on('error', () => {})
    })
    expect(await opened({})).toBe(401)
    expect(await opened({ authorization: 'Bearer secret-admin' })).toBe(101)
  })
})

describe('TLS', () => {
  it('serves HTTPS verified by the generated CA for 127.0.0.1 and localhost', async () => {
    const certs = await createServingCertificates(new Date())
    store = await openMemoryStore()
    server = await ApiServer.start({ store, port: 0, tls: certs })
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    expect((await get(`${server.url}/version`, {}, certs.caPem)).status).toBe(200)
    expect((await get(`https://localhost:${server.port}/version`, {}, certs.caPem)).status).toBe(200)
    // Not trusted without the CA.
    await expect(get(`${server.url}/version`)).rejects.toThrow(/self-signed|unable to verify|certificate/)
  })

  it('writes the certificates 0600 in a 0700 directory and reuses them', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kpe-pki-'))
    const pki = join(dir, 'pki')
    const first = await loadOrCreateServingCertificates(pki)
    expect((await stat(pki)).mode & 0o777).toBe(0o700)
    for (const f of ['ca.crt', 'apiserver.crt', 'apiserver.key']) expect((await stat(join(pki, f))).mode & 0o777).toBe(0o600)
    expect(await readFile(join(pki, 'apiserver.key'), 'utf8')).toBe(first.keyPem)
    expect(await loadOrCreateServingCertificates(pki)).toEqual(first)
    // A year and a day later they are replaced.
    const later = await loadOrCreateServingCertificates(pki, new Date(Date.now() + 366 * 86_400_000))
    expect(later.caPem).not.toBe(first.caPem)
  })
})
