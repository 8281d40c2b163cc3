/** `kpe connections`: recent connections through a running `kpe up`, with the decision that picked each pod. */
import { parseArgs } from 'node:util'
import { printableRecord, type ConnectionRecord } from '../proxy/userspace/index.js'
import { fetchFromAgents } from './agents-client.js'

export const connectionsHelp = `usage: kpe connections [--data-dir DIR] [-o json]

Lists recent connections through kpe up's entry points: when, which entry, client, destination,
the node whose rules decided, the verdict, the pod, the chain path and its probability.
`

export async function runConnectionsCommand(argv: string[]): Promise<string> {
  const { values } = parseArgs({ args: argv, options: { 'data-dir': { type: 'string' }, output: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } }, strict: true })
  if (values.help) return connectionsHelp
  const body = await fetchFromAgents(values['data-dir'], '/connections')
  if (values.output === 'json') return body
  const records = JSON.parse(body) as ConnectionRecord[]
  if (records.length === 0) return 'no connections yet\n'
  // Escaped again here: a kpe from before printable records may be the one answering.
  return records.map((r) => formatRecord(printableRecord(r))).join('\n') + '\n'
}

function formatRecord(r: ConnectionRecord): string {
  const when = new Date(r.at).toISOString().slice(11, 23)
  const head = `${when} ${r.entry} ${r.client} -> ${r.destination} on ${r.node}: ${r.verdict}`
  const target = r.verdict === 'forward' ? ` ${r.endpoint ?? ''} (${r.pod ?? ''}), pod sees ${r.seen ?? ''}` : r.reason ? ` (${r.reason})` : ''
  const chance = r.probability !== undefined ? `, p=${r.probability.toFixed(3)}` : ''
  const path = r.path && r.path.length > 0 ? `\n    ${r.path.join(' > ')}` : ''
  return `${head}${target}${chance}${path}`
}
