import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseEtcdStoreUrl, parseStoreFlags } from '../../../src/cli/store-flags.js'

const dir = mkdtempSync(join(tmpdir(), 'kpe-store-flags-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('kpe up store flags', () => {
  it('takes one or several etcd members, IPv6 in brackets', () => {
    expect(parseEtcdStoreUrl('etcd://127.0.0.1:2379')).toEqual(['127.0.0.1:2379'])
    expect(parseEtcdStoreUrl('etcd://127.0.0.1:2379,127.0.0.1:22379,[::1]:32379')).toEqual(['127.0.0.1:2379', '127.0.0.1:22379', '[::1]:32379'])
    expect(parseEtcdStoreUrl('etcd://etcd-0.etcd.kube-system.svc:2379,localhost:2379')).toEqual(['etcd-0.etcd.kube-system.svc:2379', 'localhost:2379'])
  })

  it.each([
    ['http://127.0.0.1:2379', /not an etcd URL/],
    ['etcd://127.0.0.1', /not HOST:PORT/],
    ['etcd://127.0.0.1:0', /not HOST:PORT/],
    ['etcd://127.0.0.1:70000', /not HOST:PORT/],
    ['etcd://a:1,,b:2', /not HOST:PORT/],
    ['etcd://a:1,a:1', /named twice/],
    ['etcd://-:2379', /not HOST:PORT/],
    ['etcd://...:2379', /not HOST:PORT/],
    ['etcd://[1.2.3.4]:2379', /not HOST:PORT/],
    ['etcd://300.1.1.1:2379', /not HOST:PORT/],
    ['etcd://a..b:2379', /not HOST:PORT/],
  ])('refuses --store %s', (url, message) => {
    expect(() => parseEtcdStoreUrl(url)).toThrow(message)
  })

  it('checks the TLS and prefix flags against each other and reads the PEM files', async () => {
    expect(await parseStoreFlags({})).toEqual({})
    await expect(parseStoreFlags({ 'etcd-cafile': 'x' })).rejects.toThrow(/--etcd-cafile needs --store/)
    await expect(parseStoreFlags({ store: 'etcd://a:1', 'store-quota': '1Gi' })).rejects.toThrow(/quota-backend-bytes/)
    await expect(parseStoreFlags({ store: 'etcd://a:1', 'etcd-certfile': 'c' })).rejects.toThrow(/go together/)
    await expect(parseStoreFlags({ store: 'etcd://a:1', 'etcd-prefix': 'registry' })).rejects.toThrow(/not a key path/)
    await expect(parseStoreFlags({ store: 'etcd://a:1', 'etcd-cafile': join(dir, 'missing.pem') })).rejects.toThrow(/--etcd-cafile: cannot read: ENOENT/)
    // a device or a directory is refused before anything is read (a FIFO would otherwise wait)
    await expect(parseStoreFlags({ store: 'etcd://a:1', 'etcd-cafile': '/dev/zero' })).rejects.toThrow(/--etcd-cafile: not a regular file/)
    await expect(parseStoreFlags({ store: 'etcd://a:1', 'etcd-cafile': dir })).rejects.toThrow(/--etcd-cafile: not a regular file/)
    execFileSync('mkfifo', [join(dir, 'fifo.pem')])
    await expect(parseStoreFlags({ store: 'etcd://a:1', 'etcd-cafile': join(dir, 'fifo.pem') })).rejects.toThrow(/--etcd-cafile: not a regular file/)
    writeFileSync(join(dir, 'huge.pem'), Buffer.alloc(2 << 20, 65))
    await expect(parseStoreFlags({ store: 'etcd://a:1', 'etcd-cafile': join(dir, 'huge.pem') })).rejects.toThrow(/more than a PEM file holds/)
    writeFileSync(join(dir, 'junk.pem'), 'hello')
    await expect(parseStoreFlags({ store: 'etcd://a:1', 'etcd-cafile': join(dir, 'junk.pem') })).rejects.toThrow(/not a PEM file/)
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n')
    const parsed = await parseStoreFlags({ store: 'etcd://a:1,b:2', 'etcd-cafile': join(dir, 'ca.pem'), 'etcd-prefix': '/kpe/registry' })
    expect(parsed.etcd?.endpoints).toEqual(['a:1', 'b:2'])
    expect(parsed.etcd?.prefix).toBe('/kpe/registry')
    expect(parsed.etcd?.tls?.ca.toString()).toContain('BEGIN CERTIFICATE')
  })
})
