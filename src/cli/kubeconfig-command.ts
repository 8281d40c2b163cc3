/**
 * `kpe kubeconfig`: prints a kubeconfig for the control plane running from a data dir (its
 * address comes from the data dir's server.json, written by `kpe up`).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { renderKubeconfig } from '../apiserver/index.js'
import { serverInfoFileName } from '../cluster/index.js'
import { NotFoundError } from '../errors.js'
import { defaultDataDir } from './up-command.js'

export const kubeconfigHelp = `usage: kpe kubeconfig [--data-dir DIR]

Prints a kubeconfig for the control plane that \`kpe up --control-plane-only\` runs from DIR
(default ${defaultDataDir}). Use it as KUBECONFIG=<file> kubectl ...
`

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
  let url: unknown
  try {
    url = (JSON.parse(await readFile(file, 'utf8')) as { url?: unknown }).url
  } catch {
    url = undefined
  }
  if (typeof url !== 'string') {
    throw new NotFoundError(`no control plane is running from ${dataDir} (${file} is missing)`, { hint: `start one with kpe up --control-plane-only --data-dir ${dataDir}` })
  }
  return renderKubeconfig(url)
}
