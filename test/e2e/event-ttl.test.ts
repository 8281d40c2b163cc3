/**
 * `kpe up --event-ttl 6s`: an Event is deleted once its last write is older than the TTL, as
 * kube-apiserver's --event-ttl does; a younger one stays. Real kubectl against the real CLI.
 */
import { rmSync, writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasKubectl, startKpeUp, type KpeUp } from './kpe-up-process.js'

if (!hasKubectl && process.env['CI']) throw new Error('/usr/bin/kubectl is required in CI')
if (!hasKubectl) console.warn('skipping event TTL e2e: /usr/bin/kubectl is missing')

let up: KpeUp | undefined
beforeAll(async () => {
  if (hasKubectl) up = await startKpeUp([], ['--event-ttl', '6s'])
}, 40_000)
afterAll(async () => {
  await up?.stop()
  if (up) rmSync(up.dataDir, { recursive: true, force: true })
})

function event(name: string): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'default' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, reason: 'Test', message: name, type: 'Normal' })
}

describe.runIf(hasKubectl)('kpe up --event-ttl', () => {
  it('deletes an event 6 s after its last write, and keeps a younger one', async () => {
    const create = async (name: string): Promise<void> => {
      const file = `${up!.dataDir}/${name}.json`
      writeFileSync(file, event(name))
      const r = await up!.kubectl('create', '-f', file)
      expect(r.code, r.stderr).toBe(0)
    }
    await create('old')
    await new Promise((r) => setTimeout(r, 3000))
    await create('young')
    const names = async (): Promise<string> => (await up!.kubectl('get', 'events', '--field-selector', 'reason=Test', '-o', 'jsonpath={.items[*].metadata.name}')).stdout
    expect(await names()).toBe('old young')
    const deadline = Date.now() + 8000
    while ((await names()) !== 'young' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
    expect(await names()).toBe('young')
  }, 30_000)
})
