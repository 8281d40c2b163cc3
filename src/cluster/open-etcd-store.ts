/**
 * The control plane's store on etcd (kpe up --store etcd://...): EtcdStore with the same load
 * check as the data dir's store, and an unreachable etcd reported as an input error that says
 * which endpoints were tried and how to check them.
 */
import { validateStoredObject } from '../api/index.js'
import { InputError } from '../errors.js'
import { ensurePrivateDir, EtcdStore, isStoreError, type EtcdStoreOptions, type StoredObjectCheck } from '../store/index.js'

/** Where the etcd store is and how to reach it, as the CLI's --store and --etcd-* flags give it. */
export type EtcdConnection = Pick<EtcdStoreOptions, 'endpoints' | 'tls' | 'prefix'>

/** The data dir still holds the kubeconfig, server.json and pki/: it is made (0700) as with the embedded store. */
export async function openEtcdClusterStore(dataDir: string, etcd: EtcdConnection, opts: { onWarning?: (message: string) => void; admit?: StoredObjectCheck } = {}): Promise<EtcdStore> {
  const loose = await ensurePrivateDir(dataDir, { tighten: false })
  if (loose) opts.onWarning?.(loose)
  try {
    return await EtcdStore.open({
      ...etcd,
      admit: opts.admit ?? validateStoredObject,
      ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
    })
  } catch (e) {
    if (!isStoreError(e, 'Unavailable')) throw e
    const scheme = etcd.tls ? 'https' : 'http'
    throw new InputError({}, e.message, {
      cause: e,
      hint: `is etcd running? 'etcdctl --endpoints ${etcd.endpoints.map((h) => `${scheme}://${h}`).join(',')} endpoint health' checks every member`,
    })
  }
}
