/**
 * kpe's userspace dataplane as its own process, for the peer benchmarks: a one-node cluster in
 * process (startNodeAgents over in-memory sources, no pods: the pod network table entry of the
 * one endpoint is set by hand to point at the backend), one NodePort Service per backend, and
 * the HTTP forward-proxy entry. Everything listens on 127.0.0.1.
 *
 *   node kpe-proxy-child.js BACKEND_PORT NODE_PORT [BACKEND_PORT NODE_PORT ...]
 *
 * Prints one JSON line when ready: {"ready":true,"nodePorts":[...],"httpProxy":PORT,"clusterIPs":[...]}.
 * Reads commands on stdin: "cpu" prints {"cpu":{user,system}} (µs, process.cpuUsage); "exit" stops.
 */
import { createInterface } from 'node:readline'
import type { EndpointSlice, Node, Pod, Service } from '../src/api/index.js'
import { MemoryObjectSource } from '../src/client/index.js'
import { realTimers } from '../src/runtime/index.js'
import { startNodeAgents } from '../src/node/index.js'

const args = process.argv.slice(2).map(Number)
if (args.length === 0 || args.length % 2 !== 0 || args.some((n) => !Number.isInteger(n) || n <= 0)) {
  process.stderr.write('usage: kpe-proxy-child BACKEND_PORT NODE_PORT [BACKEND_PORT NODE_PORT ...]\n')
  process.exit(2)
}
const pairs = Array.from({ length: args.length / 2 }, (_, i) => ({ backend: args[2 * i]!, nodePort: args[2 * i + 1]! }))

const nodeName = 'node-a'
const node: Node = {
  apiVersion: 'v1', kind: 'Node',
  metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName } },
  spec: { podCIDR: '10.244.0.0/24', podCIDRs: ['10.244.0.0/24'] },
  status: { addresses: [{ type: 'InternalIP', address: '192.168.77.10' }] },
}

const services = new MemoryObjectSource<Service>()
const slices = new MemoryObjectSource<EndpointSlice>()
const pods = new MemoryObjectSource<Pod>()
const clusterIPs: string[] = []
pairs.forEach((p, i) => {
  const name = `bench-${i}`
  const clusterIP = `10.96.0.${10 + i}`
  clusterIPs.push(clusterIP)
  services.upsert({
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { type: 'NodePort', clusterIP, clusterIPs: [clusterIP], ports: [{ name: 'tcp', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: p.nodePort }] },
  })
  slices.upsert({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [`10.244.0.${10 + i}`], nodeName, conditions: { ready: true, serving: true, terminating: false } }],
    ports: [{ name: 'tcp', port: 8080, protocol: 'TCP' }],
  })
})

let seed = 12345
const agents = await startNodeAgents({
  nodes: [node],
  pods, services, endpointSlices: slices,
  status: { async writeStatus() {}, async finalizeDeletion() {} },
  timers: realTimers,
  clock: { now: () => Date.now() },
  random: { next: () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296) },
  // Node address 127.0.0.1: the NodePorts listen there, like every other server in the bench.
  nodeLoopbackPrefix: '127.0.0.',
  httpProxyPort: 0,
  minSyncPeriodMs: 10,
  limits: { maxConnections: 4096 },
  log: (line) => process.stderr.write(`${line}\n`),
})
// The endpoint "pods": what a kubelet would record for a pod serving on the backend's port.
pairs.forEach((p, i) => agents.network.set(`10.244.0.${10 + i}`, 8080, 'tcp', { local: { address: '127.0.0.1', port: p.backend }, pod: `default/backend-${i}`, node: nodeName }))
await Promise.all([...agents.proxiers.values()].map((p) => p.settled()))
await agents.proxy.refresh()

const listening = agents.proxy.nodePortListeners()
const missing = pairs.filter((p) => !listening.includes(`127.0.0.1:${p.nodePort}/tcp`))
if (missing.length > 0) {
  process.stderr.write(`kpe-proxy-child: NodePorts not listening: ${missing.map((p) => p.nodePort).join(', ')} (have ${listening.join(', ')})\n`)
  await agents.stop()
  process.exit(1)
}

let stopping = false
async function stop(code: number): Promise<void> {
  if (stopping) return
  stopping = true
  await agents.stop()
  process.exit(code)
}
process.on('SIGTERM', () => void stop(0))
process.on('SIGINT', () => void stop(0))
process.on('SIGUSR2', () => process.stdout.write(`${JSON.stringify({ cpu: process.cpuUsage() })}\n`))
createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = line.trim()
  if (cmd === 'cpu') process.stdout.write(`${JSON.stringify({ cpu: process.cpuUsage() })}\n`)
  else if (cmd === 'exit') void stop(0)
}).on('close', () => void stop(0))

process.stdout.write(`${JSON.stringify({ ready: true, nodePorts: pairs.map((p) => p.nodePort), httpProxy: agents.proxy.ports.http, clusterIPs })}\n`)
