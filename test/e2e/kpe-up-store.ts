/**
 * KPE_E2E_STORE=etcd for every e2e suite that starts `kpe up` through startKpeUp: each kpe data
 * dir gets its own real etcd member on loopback ports, its data inside that data dir; it is killed
 * when that kpe stops and started again on the same data when kpe restarts on the data dir.
 * Suites that start the control plane in process take its options from e2eControlPlaneStore.
 */
import { existsSync } from 'node:fs'
import type { EtcdConnection } from '../../src/cluster/index.js'
import { etcdctlPath, etcdPath, startEtcd, type EtcdCluster } from '../helpers/etcd-process.js'

/** The store the e2e suites run on: 'etcd' when KPE_E2E_STORE says so, else the data dir's own. */
export const e2eStore = process.env['KPE_E2E_STORE'] === 'etcd' ? 'etcd' : 'data-dir'

const byDataDir = new Map<string, EtcdCluster>()

/**
 * kpe up's extra `--store` flags for a data dir: none unless KPE_E2E_STORE=etcd and the suite
 * named no store itself. Asking for etcd without the binaries is an error, never a silent fallback.
 */
export async function e2eStoreArgs(dataDir: string, extraArgs: readonly string[]): Promise<string[]> {
  if (e2eStore !== 'etcd' || extraArgs.includes('--store')) return []
  requireEtcdBinaries()
  let etcd = byDataDir.get(dataDir)
  if (etcd) await Promise.all(etcd.members.map((m) => m.restart()))
  else {
    etcd = await startEtcd(1, { parentDir: dataDir })
    byDataDir.set(dataDir, etcd)
    if (byDataDir.size === 1) process.once('exit', killAll)
  }
  return ['--store', etcd.url]
}

/** Once kpe on `dataDir` has exited (or failed to start): its etcd stops, its data kept for a restart. */
export async function pauseE2eStore(dataDir: string): Promise<void> {
  const etcd = byDataDir.get(dataDir)
  if (etcd) await Promise.all(etcd.members.map((m) => m.kill()))
}

// a backstop for a suite that never stopped its kpe: 'exit' handlers cannot wait, so only signals
function killAll(): void {
  for (const etcd of byDataDir.values()) {
    for (const m of etcd.members) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL')
  }
}

/**
 * startControlPlane's store options for a suite that runs the control plane in process: with
 * KPE_E2E_STORE=etcd, a real etcd member with its data in `dir`; else none. stop() it after the control plane.
 */
export async function e2eControlPlaneStore(dir: string): Promise<{ readonly options: { readonly etcd?: EtcdConnection }; stop(): Promise<void> }> {
  if (e2eStore !== 'etcd') return { options: {}, stop: async () => undefined }
  requireEtcdBinaries()
  const etcd = await startEtcd(1, { parentDir: dir })
  return { options: { etcd: { endpoints: etcd.endpoints.split(',') } }, stop: () => etcd.stop() }
}

function requireEtcdBinaries(): void {
  const missing = [etcdPath, etcdctlPath].filter((p) => !existsSync(p))
  if (missing.length > 0) throw new Error(`KPE_E2E_STORE=etcd but ${missing.join(', ')} missing (apt-get install etcd-server etcd-client)`)
}
