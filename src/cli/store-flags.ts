/**
 * kpe up's store flags: --store etcd://HOST:PORT[,HOST:PORT...] and kube-apiserver's --etcd-cafile,
 * --etcd-certfile, --etcd-keyfile and --etcd-prefix, checked and read before anything starts.
 */
import { constants } from 'node:fs'
import { open } from 'node:fs/promises'
import { isIPv4, isIPv6 } from 'node:net'
import type { EtcdConnection } from '../cluster/index.js'
import { InputError, UsageError } from '../errors.js'

export const storeFlagsHelp = `Store (docs/etcd.md):
  --store etcd://HOST:PORT[,HOST:PORT...]  keep every object in etcd (kube-apiserver's key layout)
                                       instead of DATA_DIR/store; each member's client endpoint
  --etcd-cafile FILE                   CA of etcd's serving certificate (then etcd is dialled over TLS)
  --etcd-certfile FILE, --etcd-keyfile FILE  client certificate and key for etcd
  --etcd-prefix PATH                   the key prefix (default /registry)
`

export const storeFlagOptions = {
  store: { type: 'string' },
  'etcd-cafile': { type: 'string' },
  'etcd-certfile': { type: 'string' },
  'etcd-keyfile': { type: 'string' },
  'etcd-prefix': { type: 'string' },
} as const

/** "etcd://a:2379,b:2379" -> ["a:2379", "b:2379"]; every member host:port, IPv6 in brackets. */
export function parseEtcdStoreUrl(text: string): string[] {
  const m = /^etcd:\/\/(.+)$/.exec(text)
  if (!m) throw new UsageError(`--store ${text}: not an etcd URL`, { hint: 'use --store etcd://127.0.0.1:2379 (several members: etcd://HOST:PORT,HOST:PORT)' })
  const endpoints = (m[1] ?? '').replace(/\/$/, '').split(',')
  for (const e of endpoints) {
    const hp = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(e)
    if (!hp || !isEtcdHost(hp[1]!) || Number(hp[2]) === 0 || Number(hp[2]) > 65535) {
      throw new UsageError(`--store ${text}: member ${JSON.stringify(e)} is not HOST:PORT`, { hint: 'each member is its client endpoint, like 127.0.0.1:2379' })
    }
  }
  if (new Set(endpoints).size !== endpoints.length) throw new UsageError(`--store ${text}: a member is named twice`)
  return endpoints
}

/** An IPv4 address, an IPv6 address in brackets, or a DNS name (RFC 1123 labels). */
function isEtcdHost(host: string): boolean {
  if (host.startsWith('[')) return isIPv6(host.slice(1, -1))
  if (/^[0-9.]+$/.test(host)) return isIPv4(host)
  return host.length <= 253 && host.split('.').every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l))
}

type FlagValues = Record<string, string | boolean | string[] | undefined>

/** The etcd connection the flags name, or undefined for the data dir's own store. */
export async function parseStoreFlags(values: FlagValues): Promise<{ etcd?: EtcdConnection }> {
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined)
  const store = str('store')
  const etcdOnly = ['etcd-cafile', 'etcd-certfile', 'etcd-keyfile', 'etcd-prefix'].filter((f) => str(f) !== undefined)
  if (store === undefined) {
    if (etcdOnly.length > 0) throw new UsageError(`--${etcdOnly[0]} needs --store etcd://...`)
    return {}
  }
  const endpoints = parseEtcdStoreUrl(store)
  if (str('store-quota') !== undefined) throw new UsageError('--store-quota applies to the data dir\'s store; with --store etcd:// etcd\'s own --quota-backend-bytes limits the data')
  if ((str('etcd-certfile') === undefined) !== (str('etcd-keyfile') === undefined)) throw new UsageError('--etcd-certfile and --etcd-keyfile go together')
  if (str('etcd-certfile') !== undefined && str('etcd-cafile') === undefined) throw new UsageError('--etcd-certfile needs --etcd-cafile (the CA of etcd\'s serving certificate)')
  const prefix = str('etcd-prefix')
  if (prefix !== undefined && !/^\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(prefix)) {
    throw new UsageError(`--etcd-prefix ${prefix}: not a key path like /registry`)
  }
  const ca = str('etcd-cafile')
  const tls = ca === undefined ? undefined : {
    ca: await readPem(ca, '--etcd-cafile'),
    ...(str('etcd-certfile') ? { cert: await readPem(str('etcd-certfile')!, '--etcd-certfile'), key: await readPem(str('etcd-keyfile')!, '--etcd-keyfile') } : {}),
  }
  return { etcd: { endpoints, ...(tls ? { tls } : {}), ...(prefix ? { prefix } : {}) } }
}

/** PEM files are small: a device, a FIFO or a huge file is refused before anything is read. */
const maxPemBytes = 1 << 20

async function readPem(file: string, flag: string): Promise<Buffer> {
  let bytes: Buffer
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer
    const fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK)
    try {
      const st = await fh.stat()
      if (!st.isFile()) throw new InputError({ file }, `${flag}: not a regular file`)
      if (st.size > maxPemBytes) throw new InputError({ file }, `${flag}: ${st.size} bytes, more than a PEM file holds (${maxPemBytes})`)
      bytes = await fh.readFile()
    } finally {
      await fh.close()
    }
  } catch (err) {
    if (err instanceof InputError) throw err
    throw new InputError({ file }, `${flag}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  }
  if (!bytes.toString('latin1').includes('-----BEGIN ')) throw new InputError({ file }, `${flag}: not a PEM file`)
  return bytes
}
