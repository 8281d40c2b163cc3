/** Talks to a running `kpe up` through the agents endpoint recorded in its data dir (agents.json). */
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { NotFoundError, ExecError } from '../errors.js'
import { agentsInfoFileName } from '../up/index.js'

export async function fetchFromAgents(dataDir: string | undefined, path: string, method: 'GET' | 'POST' = 'GET'): Promise<string> {
  const dir = resolve(dataDir ?? '.kpe')
  let url: string
  try {
    url = (JSON.parse(readFileSync(join(dir, agentsInfoFileName), 'utf8')) as { url: string }).url
  } catch {
    throw new NotFoundError(`no running kpe up found in ${dir}`, { hint: 'start one with kpe up, or pass its --data-dir' })
  }
  let res: Response
  try {
    res = await fetch(`${url}${path}`, { method })
  } catch (err) {
    throw new NotFoundError(`kpe up is not answering at ${url} (stopped?)`, { hint: 'start it again with kpe up', cause: err })
  }
  const body = await res.text()
  if (res.status === 404 && method === 'POST') throw new NotFoundError(body.trim())
  if (!res.ok) throw new ExecError(`${method} ${url}${path}`, res.status, body)
  return body
}
