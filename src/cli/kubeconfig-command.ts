/**
 * `kpe kubeconfig`: prints a kubeconfig for the control plane running from a data dir (its
 * address, and with --token-file / --tls the token file and CA, come from the data dir's
 * server.json, written by `kpe up`).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { parseTokenFile, renderKubeconfig } from '../apiserver/index.js'
import { serverInfoFileName, type ServerInfo } from '../cluster/index.js'
import { InputError, NotFoundError } from '../errors.js'
import { defaultDataDir } from './up-command.js'

export const kubeconfigHelp = `usage: kpe kubeconfig [--data-dir DIR]

Prints a kubeconfig for the control plane that \`kpe up\` runs from DIR (default ${defaultDataDir}),
with the first token of its --token-file and the CA of its --tls certificate when it uses them.
Use it as KUBECONFIG=<file> kubectl ...
`

async function readServerInfo(file: string): Promise<Partial<ServerInfo>> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Partial<ServerInfo>
  } catch {
    return {}
  }
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    throw new InputError({ file }, `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  }
}

export async function runKubeconfigCommand(argv: string[]): Promise<string> {
  const { values } = parseArgs({
    args: argv,
    options: { 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: false,
  })
  if (values.help) return kubeconfigHelp
  const dataDir = values['data-dir'] ?? defaultDataDir
  const file = join(dataDir, serverInfoFileName)
  const info = await readServerInfo(file)
  if (typeof info.url !== 'string') {
    throw new NotFoundError(`no control plane is running from ${dataDir} (${file} is missing)`, { hint: `start one with kpe up --data-dir ${dataDir}` })
  }
  const token = typeof info.tokenFile === 'string' ? parseTokenFile(await readText(info.tokenFile), info.tokenFile).first : undefined
  const ca = typeof info.certificateAuthority === 'string' ? await readText(info.certificateAuthority) : undefined
  return renderKubeconfig(info.url, { ...(token !== undefined ? { token } : {}), ...(ca !== undefined ? { certificateAuthorityPem: ca } : {}) })
}
