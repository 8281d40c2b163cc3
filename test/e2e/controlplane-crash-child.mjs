/**
 * Child process for the control-plane crash test: starts the built control plane on a data dir
 * (argv[2]; its store on etcd when argv[4] names endpoints) and creates Services through its HTTP
 * API with many requests in flight, deleting some, printing each acknowledged write. The parent
 * kills it with SIGKILL at a random moment.
 */
// Runs the built code (the test builds dist/ first): a child process cannot load TypeScript on Node 20.
import { startControlPlane } from '../../dist/src/cluster/index.js'

const [dataDir = '', prefix = 's', etcdEndpoints] = process.argv.slice(2)
const cp = await startControlPlane({ dataDir, port: 0, ...(etcdEndpoints ? { etcd: { endpoints: etcdEndpoints.split(',') } } : {}) })
process.stdout.write('ready\n')
const base = `${cp.url}/api/v1/namespaces/default/services`
let n = 0

async function writer() {
  for (;;) {
    const i = n++
    const name = `${prefix}-${i}`
    const type = i % 3 === 0 ? 'NodePort' : 'ClusterIP'
    const res = await fetch(base, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { type, ports: [{ port: 80 }] } }),
    })
    const body = await res.json()
    if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${JSON.stringify(body)}`)
    process.stdout.write(`created ${name} ${body.spec.clusterIP} ${body.spec.ports[0].nodePort ?? '-'}\n`)
    if (i % 4 === 1) {
      const del = await fetch(`${base}/${name}`, { method: 'DELETE' })
      if (del.status !== 200) throw new Error(`delete ${name}: ${del.status}`)
      process.stdout.write(`deleted ${name}\n`)
    }
  }
}
await Promise.all(Array.from({ length: 24 }, () => writer()))
