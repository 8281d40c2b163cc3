/**
 * `kpe port-forward TYPE/NAME [LOCAL:]PORT ...`: listens on loopback LOCAL ports and splices each
 * connection through the running `kpe up` (its agents endpoint's /forward upgrade) to the pod
 * kubectl would pick. Parsing is pure and exported; the listening shell runs until interrupted.
 */
import { readFileSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { NotFoundError, UsageError } from '../errors.js'
import { isLoopback, parseIP } from '../net/index.js'
import { pipeBoth, resetConnection } from '../proxy/userspace/index.js'
import { agentsInfoFileName, openForward, type ForwardKind } from '../up/index.js'
import { defaultDataDir, processUpIO, type UpIO } from './up-command.js'

export const portForwardHelp = `usage: kpe port-forward TYPE/NAME [LOCAL_PORT:]REMOTE_PORT [...] [-n NS] [--address 127.0.0.1] [--data-dir DIR]

Forwards local loopback ports to a pod of the running kpe up, as kubectl port-forward does:
pod/NAME (or NAME) uses the container port REMOTE_PORT (number or name); svc/NAME picks the
Service's first ready pod and translates the Service port REMOTE_PORT to its targetPort.
The pod is chosen per connection, so a forward outlives its pod. LOCAL_PORT 0 or empty
(":80") picks a free port. Runs until interrupted.

  -n, --namespace NS   the object's namespace (default default)
  --address ADDR       local address to listen on; loopback only (default 127.0.0.1)
  --data-dir DIR       the data dir of the kpe up to go through (default ${defaultDataDir})
`

export interface PortSpec {
  readonly local: number
  readonly remote: string
}

export function parseForwardResource(text: string): { kind: ForwardKind; name: string } {
  const slash = text.indexOf('/')
  const type = slash < 0 ? 'pod' : text.slice(0, slash).toLowerCase()
  const name = slash < 0 ? text : text.slice(slash + 1)
  const kind: ForwardKind | undefined = ['svc', 'service', 'services'].includes(type) ? 'svc' : ['po', 'pod', 'pods'].includes(type) ? 'pod' : undefined
  if (!kind) throw new UsageError(`${text}: cannot forward to a ${type}`, { hint: 'use svc/NAME or pod/NAME' })
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) throw new UsageError(`${text}: "${name}" is not an object name`)
  return { kind, name }
}

export function parsePortSpec(text: string): PortSpec {
  const m = /^(?:(\d*):)?([a-z0-9][-a-z0-9]*)$/i.exec(text)
  if (!m) throw new UsageError(`port ${JSON.stringify(text)}: expected [LOCAL_PORT:]REMOTE_PORT`, { hint: 'for example 8080:80, or :80 for a free local port' })
  const remote = m[2]!
  const isNumber = /^\d+$/.test(remote)
  if (isNumber && (Number(remote) < 1 || Number(remote) > 65535)) throw new UsageError(`port ${text}: remote port ${remote} is out of range`)
  if (m[1] === undefined && !isNumber) throw new UsageError(`port ${text}: a named remote port needs a local port`, { hint: `use 8080:${remote}` })
  const local = m[1] === undefined ? Number(remote) : m[1] === '' ? 0 : Number(m[1])
  if (local > 65535) throw new UsageError(`port ${text}: local port ${local} is out of range`)
  return { local, remote }
}

export function parseListenAddress(text: string): string {
  const address = text === 'localhost' ? '127.0.0.1' : text
  const ip = parseIP(address)
  if (ip === undefined || !isLoopback(ip)) throw new UsageError(`--address ${text}: kpe port-forward listens on loopback addresses only`, { hint: 'use 127.0.0.1' })
  return ip
}

function agentsUrl(dataDir: string): string {
  try {
    return (JSON.parse(readFileSync(join(dataDir, agentsInfoFileName), 'utf8')) as { url: string }).url
  } catch {
    throw new NotFoundError(`no running kpe up found in ${dataDir}`, { hint: 'start one with kpe up, or pass its --data-dir' })
  }
}

function listen(server: Server, port: number, address: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new UsageError(`cannot listen on ${address}:${port}: ${e.code ?? e.message}`, { hint: 'choose another local port, or :PORT for a free one' })))
    server.listen(port, address, () => resolvePort((server.address() as { port: number }).port))
  })
}

export async function runPortForwardCommand(argv: string[], io: UpIO = processUpIO): Promise<string> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { namespace: { type: 'string', short: 'n' }, address: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: true,
  })
  if (values.help) return portForwardHelp
  const [resourceText, ...portTexts] = positionals
  if (resourceText === undefined || portTexts.length === 0) throw new UsageError('expected TYPE/NAME and at least one [LOCAL_PORT:]REMOTE_PORT', { hint: 'kpe port-forward svc/web 8080:80' })
  const target = parseForwardResource(resourceText)
  const specs = portTexts.map(parsePortSpec)
  const address = parseListenAddress(values.address ?? '127.0.0.1')
  const url = agentsUrl(resolve(values['data-dir'] ?? defaultDataDir))
  const namespace = values.namespace ?? 'default'
  const servers: Server[] = []
  try {
    for (const spec of specs) {
      const server = createServer({ allowHalfOpen: true }, (local) => void forwardOne(local, spec))
      servers.push(server)
      const port = await listen(server, spec.local, address)
      io.write(`Forwarding from ${address}:${port} -> ${target.kind}/${target.name}:${spec.remote}\n`)
    }
    const signal = await io.waitForStop()
    io.write(`kpe port-forward: ${signal} received, stopping\n`)
  } finally {
    for (const s of servers) s.close()
  }
  return ''

  async function forwardOne(local: Socket, spec: PortSpec): Promise<void> {
    local.on('error', () => {})
    const client = `${local.remoteAddress ?? ''}:${local.remotePort ?? 0}`
    try {
      const opened = await openForward(url, { kind: target.kind, namespace, name: target.name, port: spec.remote }, client)
      io.write(`Handling connection for ${local.localPort ?? spec.local} (${opened.pod}:${opened.port})\n`)
      if (opened.head.length > 0) local.write(opened.head)
      pipeBoth(local, opened.socket, 300_000)
    } catch (e) {
      process.stderr.write(`kpe port-forward: ${target.kind}/${target.name}:${spec.remote}: ${e instanceof Error ? e.message : String(e)}\n`)
      resetConnection(local)
    }
  }
}
