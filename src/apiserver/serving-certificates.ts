/**
 * `kpe up --tls`: a self-signed CA and a serving certificate for 127.0.0.1, localhost and ::1
 * (ECDSA P-256, generated with @peculiar/x509 over WebCrypto), kept in DATA_DIR/pki and reused
 * on restart while they parse and cover the next day. Keys are 0600, the directory 0700.
 */
import 'reflect-metadata' // @peculiar/x509's dependency injection needs the Reflect polyfill
import { webcrypto } from 'node:crypto'
type CryptoKey = webcrypto.CryptoKey
type CryptoKeyPair = webcrypto.CryptoKeyPair
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as x509 from '@peculiar/x509'
import { ensurePrivateDir, writePrivateFile } from '../store/index.js'

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])

export interface ServingCertificates {
  /** PEM of the CA that signed the serving certificate (the kubeconfig's certificate-authority-data). */
  readonly caPem: string
  readonly certPem: string
  readonly keyPem: string
}

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' }
const validDays = 365
const dayMs = 86_400_000
export const servingHosts = { dns: ['localhost'], ip: ['127.0.0.1', '::1'] } as const

function serialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16))
  bytes[0]! &= 0x7f // positive, as RFC 5280 asks
  return Buffer.from(bytes).toString('hex')
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY')
}

/** A new CA and a serving certificate it signed, valid from now for a year. */
export async function createServingCertificates(now: Date): Promise<ServingCertificates> {
  const notBefore = new Date(now.getTime() - 60_000)
  const notAfter = new Date(now.getTime() + validDays * dayMs)
  const caKeys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']) as CryptoKeyPair
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(), name: 'CN=kpe-ca', notBefore, notAfter, keys: caKeys, signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  })
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']) as CryptoKeyPair
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(), subject: 'CN=kpe-apiserver', issuer: ca.subject, notBefore, notAfter,
    signingKey: caKeys.privateKey, publicKey: keys.publicKey, signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...servingHosts.dns.map((value) => ({ type: 'dns' as const, value })),
        ...servingHosts.ip.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  })
  return { caPem: ca.toString('pem'), certPem: cert.toString('pem'), keyPem: await privateKeyPem(keys.privateKey) }
}

const files = { ca: 'ca.crt', cert: 'apiserver.crt', key: 'apiserver.key' } as const

/** Usable when both certificates parse and stay valid for at least another day. */
function isReusable(c: ServingCertificates, now: Date): boolean {
  try {
    const soon = new Date(now.getTime() + dayMs)
    return [c.caPem, c.certPem].every((pem) => {
      const cert = new x509.X509Certificate(pem)
      return cert.notBefore <= now && cert.notAfter > soon
    }) && c.keyPem.includes('PRIVATE KEY')
  } catch {
    return false
  }
}

/** The certificates in dir (DATA_DIR/pki), created there first when missing, unparsable or expiring. */
export async function loadOrCreateServingCertificates(dir: string, now = new Date()): Promise<ServingCertificates> {
  await ensurePrivateDir(dir)
  try {
    const [caPem, certPem, keyPem] = await Promise.all([files.ca, files.cert, files.key].map((f) => readFile(join(dir, f), 'utf8')))
    const existing = { caPem: caPem!, certPem: certPem!, keyPem: keyPem! }
    if (isReusable(existing, now)) return existing
  } catch {
    // missing: create below
  }
  const created = await createServingCertificates(now)
  // No CA key on disk: nothing else is ever signed with it, so a restart that needs a new serving certificate makes a new CA.
  await writePrivateFile(join(dir, files.ca), created.caPem)
  await writePrivateFile(join(dir, files.cert), created.certPem)
  await writePrivateFile(join(dir, files.key), created.keyPem)
  return created
}
