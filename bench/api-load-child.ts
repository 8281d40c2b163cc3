/**
 * The API write load as its own process, pinned to the load core: ConfigMap creates from
 * concurrent keep-alive clients. In the bench process the clients shared a heap with the groups
 * before them, whose garbage collection then ran on the API server's core as well.
 *
 *   node api-load-child.js URL CLIENTS
 *
 * Prints {"ready":true}; then for each stdin line "ROUND MS" one line {"rate":N,"failed":N}.
 * End of stdin or "exit" stops it.
 */
import { Agent } from 'node:http'
import { createInterface } from 'node:readline'
import { writeRound } from './api.js'

const [url, clientsArg] = process.argv.slice(2)
const clients = Number(clientsArg)
if (!url || !Number.isInteger(clients) || clients <= 0) {
  process.stderr.write('usage: api-load-child URL CLIENTS\n')
  process.exit(2)
}

const agent = new Agent({ keepAlive: true, maxSockets: clients })
process.stdout.write('{"ready":true}\n')
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'exit') break
  const [round, ms] = line.split(' ').map(Number)
  if (!Number.isInteger(round) || !Number.isInteger(ms)) {
    process.stdout.write(`${JSON.stringify({ error: `bad command ${JSON.stringify(line)}` })}\n`)
    continue
  }
  process.stdout.write(`${JSON.stringify(await writeRound(url, round!, clients, ms!, agent))}\n`)
}
agent.destroy()
