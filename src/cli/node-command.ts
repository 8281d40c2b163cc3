/** `kpe node stop|start|list|exec`: crash and restart one node's kubelet and kube-proxy in the running `kpe up`. */
import { parseArgs } from 'node:util'
import { UsageError } from '../errors.js'
import { fetchFromAgents } from './agents-client.js'
import type { CommandResult } from './command-result.js'
import { runNodeExec } from './node-exec-command.js'

export const nodeHelp = `usage: kpe node stop NODE [--data-dir DIR]
       kpe node start NODE [--data-dir DIR]
       kpe node list [--data-dir DIR]
       kpe node exec NODE|--pod NS/NAME [--data-dir DIR] -- COMMAND...   (kpe up --dataplane kernel)

stop:  stops NODE's kubelet and kube-proxy in the running kpe up as a crash would: no graceful
       shutdown, no status updates; its pods stop answering and its Lease is no longer renewed,
       so after --node-monitor-grace-period the node lifecycle controller marks it NotReady,
       taints it node.kubernetes.io/unreachable and evicts its pods after their toleration.
start: starts them again: the kubelet renews the Lease and reports Ready, the taints go.
list:  each node's state (running or stopped).
exec:  runs COMMAND in the node's or pod's network namespace (iptables-save, conntrack -L, tcpdump).
`

export async function runNodeCommand(argv: string[]): Promise<string | CommandResult> {
  if (argv[0] === 'exec') return runNodeExec(argv.slice(1))
  const { values, positionals } = parseArgs({ args: argv, options: { 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true })
  if (values.help) return nodeHelp
  const [verb, node, ...rest] = positionals
  if (verb === 'list' && node === undefined) {
    const nodes = JSON.parse(await fetchFromAgents(values['data-dir'], '/nodes')) as { name: string; state: string }[]
    return nodes.map((n) => `${n.name}\t${n.state}\n`).join('')
  }
  if ((verb !== 'stop' && verb !== 'start') || node === undefined || node === '' || rest.length > 0) {
    throw new UsageError(verb === 'stop' || verb === 'start' ? `kpe node ${verb} takes exactly one NODE` : `unknown node command "${verb ?? ''}"`, { hint: 'kpe node stop NODE | kpe node start NODE | kpe node list' })
  }
  return fetchFromAgents(values['data-dir'], `/nodes/${encodeURIComponent(node)}/${verb}`, 'POST')
}
