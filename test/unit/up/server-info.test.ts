/** server.json: the entry points added to the control plane's fields, 0600, replaced in one rename. */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { entryPoints, renderEntryPoints, writeServerInfo } from '../../../src/up/server-info.js'

const dirs: string[] = []
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })

const facts = {
  apiUrl: 'http://127.0.0.1:6443', nodeLoopbacks: new Map([['node-b', '127.0.10.2'], ['node-a', '127.0.10.1']]),
  socksPort: 1080, httpProxyPort: undefined, dns: { host: '127.0.0.1', port: 1053 }, ingress: { httpPort: 8088, httpsPort: undefined }, agentsUrl: 'http://127.0.0.1:10249',
}

describe('server.json', () => {
  it('names every entry point with the keys the issue fixes, null for what is not served', () => {
    expect(entryPoints(facts)).toEqual({
      apiServer: 'http://127.0.0.1:6443', nodePorts: { 'node-a': '127.0.10.1', 'node-b': '127.0.10.2' }, socks5: '127.0.0.1:1080', httpProxy: null,
      dns: '127.0.0.1:1053', ingress: { http: 'http://127.0.0.1:8088', https: null }, agents: 'http://127.0.0.1:10249',
    })
    expect(entryPoints({ ...facts, ingress: undefined, dns: undefined })).toMatchObject({ dns: null, ingress: null })
    expect(renderEntryPoints(entryPoints(facts)).join('\n')).toMatch(/DNS \(UDP, TCP\)\s+127\.0\.0\.1:1053/)
  })

  it('keeps the control plane\'s fields, is 0600 and leaves no temp file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kpe-server-info-'))
    dirs.push(dir)
    writeFileSync(join(dir, 'server.json'), JSON.stringify({ url: 'http://127.0.0.1:6443', pid: 42, tokenFile: '/t' }), { mode: 0o644 })
    await writeServerInfo(dir, entryPoints(facts))
    const written = JSON.parse(readFileSync(join(dir, 'server.json'), 'utf8')) as Record<string, unknown>
    expect(written).toMatchObject({ url: 'http://127.0.0.1:6443', pid: 42, tokenFile: '/t', dns: '127.0.0.1:1053', nodePorts: { 'node-a': '127.0.10.1' } })
    expect(statSync(join(dir, 'server.json')).mode & 0o777).toBe(0o600)
    expect(readdirSync(dir)).toEqual(['server.json'])
  })
})
