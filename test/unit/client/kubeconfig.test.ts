import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { clusterAccessFrom, KubeconfigError } from '../../../src/client/index.js'

const files: Record<string, string> = { '/home/u/.kube/ca.crt': 'CA PEM', '/certs/client.crt': 'CERT PEM', '/home/u/.kube/key.pem': 'KEY PEM', '/home/u/.kube/token': 'tok-from-file\n' }
const readFile = (p: string): string => {
  const f = files[p]
  if (f === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' })
  return f
}

function config(over: { cluster?: object; user?: object; current?: string | null } = {}): string {
  return stringify({
    apiVersion: 'v1', kind: 'Config',
    clusters: [{ name: 'c1', cluster: { server: 'https://10.0.0.1:6443/', ...over.cluster } }, { name: 'c2', cluster: { server: 'http://127.0.0.1:8080' } }],
    users: [{ name: 'u1', user: over.user ?? {} }],
    contexts: [{ name: 'one', context: { cluster: 'c1', user: 'u1' } }, { name: 'two', context: { cluster: 'c2' } }],
    ...(over.current === null ? {} : { 'current-context': over.current ?? 'one' }),
  })
}

describe('clusterAccessFrom', () => {
  it('reads the current context: server, inline CA, token', () => {
    const a = clusterAccessFrom(config({ cluster: { 'certificate-authority-data': Buffer.from('CA').toString('base64') }, user: { token: 'abc' } }), '/home/u/.kube/config', readFile)
    expect(a).toEqual({ server: 'https://10.0.0.1:6443', context: 'one', caPem: 'CA', token: 'abc', insecureSkipTlsVerify: false })
  })

  it('resolves relative file paths against the kubeconfig folder, absolute ones as given', () => {
    const a = clusterAccessFrom(config({ cluster: { 'certificate-authority': 'ca.crt' }, user: { 'client-certificate': '/certs/client.crt', 'client-key': 'key.pem', tokenFile: 'token' } }), '/home/u/.kube/config', readFile)
    expect(a).toMatchObject({ caPem: 'CA PEM', certPem: 'CERT PEM', keyPem: 'KEY PEM', token: 'tok-from-file' })
  })

  it('--context picks another context; a context without a user has no credentials', () => {
    expect(clusterAccessFrom(config(), 'k', readFile, 'two')).toEqual({ server: 'http://127.0.0.1:8080', context: 'two', insecureSkipTlsVerify: false })
  })

  it.each([
    ['no current context', config({ current: null }), undefined, 'current-context'],
    ['unknown context', config(), 'nope', 'no context named "nope"'],
    ['exec plugin', config({ user: { exec: { command: 'aws' } } }), undefined, 'users[u1].user.exec'],
    ['unreadable CA file', config({ cluster: { 'certificate-authority': 'missing.crt' } }), undefined, 'certificate-authority: cannot read missing.crt: ENOENT'],
    ['not a URL', config({ cluster: { server: 'ftp://x' } }), undefined, 'is not an http(s) URL'],
    ['not YAML', 'a: [', undefined, 'not YAML'],
  ])('refuses %s, naming the field', (_name, text, context, message) => {
    expect(() => clusterAccessFrom(text, '/home/u/.kube/config', readFile, context)).toThrow(KubeconfigError)
    expect(() => clusterAccessFrom(text, '/home/u/.kube/config', readFile, context)).toThrow(message)
  })
})
