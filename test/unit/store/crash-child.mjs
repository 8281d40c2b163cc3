/**
 * Child process for the crash test: opens a durable store in argv[2] and creates configmaps
 * named `<prefix>-<n>` with many writes in flight, printing each name once it is acknowledged.
 * The parent kills it with SIGKILL at a random moment.
 */
// Runs the built store (npm test builds dist/ first): a child process cannot load TypeScript on Node 20.
import { openDurableStore } from '../../../dist/src/store/index.js'

const [dataDir = '', prefix = 'cm', compactAfter = '200000'] = process.argv.slice(2)
const store = await openDurableStore({ dataDir, compactAfterBytes: Number(compactAfter) })
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
