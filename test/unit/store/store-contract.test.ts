import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { EtcdStore, openDurableStore, openMemoryStore } from '../../../src/store/index.js'
import { etcdForFile } from '../../helpers/etcd-process.js'
import { describeStoreContract } from './store-contract.js'

describeStoreContract({ name: 'memory', open: (o) => openMemoryStore(o) })

const dirs: string[] = []
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }) })
describeStoreContract({
  name: 'embedded WAL',
  open: (o) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kpe-contract-'))
    dirs.push(dataDir)
    return openDurableStore({ dataDir, ...o })
  },
})

const etcd = etcdForFile('store contract on etcd')
if (etcd) {
  let n = 0
  // each store gets its own prefix in the one etcd, so that the tests start empty
  describeStoreContract({
    name: 'etcd',
    open: (o) => EtcdStore.open({ endpoints: etcd.endpoints, prefix: `/contract-${n++}`, compactionIntervalMs: 0, ...o }),
  })
}
