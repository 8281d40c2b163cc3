/**
 * kpe's control plane as its own process, for the API benchmarks: startControlPlane with the
 * durable store in DATA_DIR and the API server on a free 127.0.0.1 port.
 *
 *   node kpe-api-child.js DATA_DIR [etcd://HOST:PORT,...]
 *
 * Prints {"ready":true,"url":"http://127.0.0.1:PORT"} when serving. Reads commands on stdin:
 * "cpu" prints {"cpu":{user,system}} (µs); "exit", end of stdin or SIGTERM stop it.
 */
import { createInterface } from 'node:readline'
import { startControlPlane } from '../src/cluster/index.js'

const dataDir = process.argv[2]
// with an etcd URL, the objects live in etcd (kpe up --store) and DATA_DIR holds only the kubeconfig
const etcd = process.argv[3]?.replace(/^etcd:\/\//, '').split(',')
if (!dataDir) {
  process.stderr.write('usage: kpe-api-child DATA_DIR\n')
  process.exit(2)
}

const cp = await startControlPlane({ dataDir, port: 0, host: '127.0.0.1', ...(etcd ? { etcd: { endpoints: etcd } } : {}), onControllerError: (c, k, e) => process.stderr.write(`${c} ${k}: ${String(e)}\n`) })

let stopping = false
async function stop(code: number): Promise<void> {
  if (stopping) return
  stopping = true
  await cp.stop()
  process.exit(code)
}
process.on('SIGTERM', () => void stop(0))
process.on('SIGINT', () => void stop(0))
createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = line.trim()
  if (cmd === 'cpu') process.stdout.write(`${JSON.stringify({ cpu: process.cpuUsage() })}\n`)
  else if (cmd === 'exit') void stop(0)
}).on('close', () => void stop(0))

process.stdout.write(`${JSON.stringify({ ready: true, url: cp.url })}\n`)
