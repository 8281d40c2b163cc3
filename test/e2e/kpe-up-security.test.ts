/**
 * End-to-end: `kpe up --tls --token-file` with the real kubectl. The generated kubeconfig
 * (and `kpe kubeconfig`) carries the CA and the token, so kubectl works unchanged; a request
 * without the token gets 401, one from a web page's origin 403; the data dir and the files kpe
 * writes there are private (0700/0600).
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers/shared.js'
import { tempDir } from '../helpers/temp-dirs.js'
import { curl, hasKubectl, kubectlPath, run, startKpeUp, type KpeUp } from './kpe-up-process.js'

const token = 'e2e-admin-token-0123456789'
let kpe: KpeUp
let apiUrl = ''
let ca = ''

beforeAll(async () => {
  const secrets = tempDir('kpe-tokens-')
  const tokenFile = join(secrets, 'tokens.csv')
  writeFileSync(tokenFile, `${token},admin,1,"system:masters"\nother-token,dev,2\n`, { mode: 0o600 })
  kpe = await startKpeUp(['fixtures/demo.yaml'], ['--tls', '--token-file', tokenFile])
  apiUrl = (JSON.parse(readFileSync(join(kpe.dataDir, 'server.json'), 'utf8')) as { url: string }).url
  ca = join(kpe.dataDir, 'pki', 'ca.crt')
}, 60_000)

afterAll(async () => {
  await kpe?.stop()
})

describe.skipIf(!hasKubectl)('kpe up --tls --token-file', () => {
  it('kubectl get pods works with the kubeconfig kpe wrote, over HTTPS with the token', async () => {
    expect(apiUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    const r = await kpe.kubectl('get', 'pods', '-o', 'wide')
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^NAME\s+READY\s+STATUS/)
    expect(r.stdout).toMatch(/Running/)
    expect((await kpe.kubectl('get', 'nodes', '-o', 'name')).stdout).toMatch(/^node\//m)
  })

  it('kpe kubeconfig prints a kubeconfig kubectl can use as well', async () => {
    const printed = await run(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'kubeconfig', '--data-dir', kpe.dataDir])
    expect(printed.code).toBe(0)
    expect(printed.stdout).toContain(`token: ${token}`)
    expect(printed.stdout).toContain('certificate-authority-data:')
    const file = join(kpe.dataDir, 'printed-kubeconfig')
    writeFileSync(file, printed.stdout, { mode: 0o600 })
    const r = await run(kubectlPath, ['--kubeconfig', file, '--cache-dir', join(kpe.dataDir, 'kubectl-cache-2'), 'get', 'namespaces', '-o', 'name'])
    expect(r.stdout).toContain('namespace/default')
  })

  it('answers 401 without the token (health and version stay open) and 403 to a foreign Origin', async () => {
    const status = async (path: string, headers: string[] = []): Promise<string> =>
      (await curl(['--cacert', ca, '-o', '/dev/null', '-w', '%{http_code}', ...headers.flatMap((h) => ['-H', h]), `${apiUrl}${path}`])).stdout
    expect(await status('/api/v1/pods')).toBe('401')
    expect(await status('/api/v1/pods', ['Authorization: Bearer not-a-token'])).toBe('401')
    expect(await status('/api/v1/pods', [`Authorization: Bearer ${token}`])).toBe('200')
    expect(await status('/version')).toBe('200')
    expect(await status('/readyz')).toBe('200')
    expect(await status('/api/v1/pods', [`Authorization: Bearer ${token}`, 'Origin: https://attacker.example'])).toBe('403')
    const body = (await curl(['--cacert', ca, `${apiUrl}/api/v1/pods`])).stdout
    expect(JSON.parse(body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 })
  })

  it('keeps the data dir 0700 and the files kpe writes there 0600', () => {
    expect(statSync(kpe.dataDir).mode & 0o777).toBe(0o700)
    for (const f of ['kubeconfig', 'server.json', 'agents.json', 'pki/ca.crt', 'pki/apiserver.crt', 'pki/apiserver.key']) {
      expect([f, statSync(join(kpe.dataDir, f)).mode & 0o777]).toEqual([f, 0o600])
    }
    expect(statSync(join(kpe.dataDir, 'pki')).mode & 0o777).toBe(0o700)
  })
})
