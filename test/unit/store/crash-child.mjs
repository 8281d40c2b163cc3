/**
 * Child process for the crash test: opens a store (`wal DATA_DIR` or `etcd HOST:PORT[,...]`) and
 * creates configmaps named `<prefix>-<n>` with many writes in flight, printing each name once it is
 * acknowledged. The parent kills it with SIGKILL at a random moment.
 */
// Runs the built store (npm test builds dist/ first): a child process cannot load TypeScript on Node 20.
import { EtcdStore, openDurableStore } from '../../../dist/src/store/index.js'

const [kind = 'wal', where = '', prefix = 'cm', compactAfter = '200000'] = process.argv.slice(2)
// the etcd store compacts nothing here: the crash must hit writes, not a compaction the parent did not ask for
const store = kind === 'etcd'
  ? await EtcdStore.open({ endpoints: where.split(','), compactionIntervalMs: 0 })
  : await openDurableStore({ dataDir: where, compactAfterBytes: Number(compactAfter) })
process.stdout.write('ready\n')
let n = 0
async function writer() {
  for (;;) {
    const name = `${prefix}-${n++}`
    await store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { k: name.repeat(8) } })
    process.stdout.write(`${name}\n`)
    if (n % 3 === 0) {
      const cur = store.get({ resource: 'configmaps', namespace: 'default', name })
      if (cur) await store.update('configmaps', { ...cur, data: { k: 'updated' } }, { resourceVersion: cur.metadata.resourceVersion ?? '' })
      process.stdout.write(`${name} updated\n`)
    }
  }
}
await Promise.all(Array.from({ length: 32 }, () => writer()))
