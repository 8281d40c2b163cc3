import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { openDurableStore, walFileName, type KubeObject } from '../../../src/store/index.js'

const dirs: string[] = []
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kpe-admit-'))
  dirs.push(d)
  return d
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

function svc(name: string, externalIPs: unknown): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { externalIPs } }
}

/** A stand-in for the real validator: externalIPs must be a list of strings. */
function fakeAdmit(resource: string, o: KubeObject): readonly string[] {
  if (resource !== 'services') return []
  const ips = (o['spec'] as { externalIPs?: unknown } | undefined)?.externalIPs
  if (Array.isArray(ips) && ips.every((ip) => typeof ip === 'string')) return []
  return ['spec.externalIPs: must be a list of IP address strings']
}

describe('objects that no longer validate at load', () => {
  it('are kept out of the served state, reported by name and reason, and saved aside; the log is untouched', async () => {
    const dir = await tempDir()
    const s1 = await openDurableStore({ dataDir: dir })
    await s1.create('services', svc('good', ['10.0.0.1']))
    await s1.create('services', svc('bad', [1]))
    await s1.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' } })
    await s1.close()
    const logBefore = await readFile(join(dir, walFileName))

    const warnings: string[] = []
    const s2 = await openDurableStore({ dataDir: dir, admit: fakeAdmit, onWarning: (w) => warnings.push(w) })
    expect(s2.list('services').items.map((o) => o.metadata.name)).toEqual(['good'])
    expect(s2.list('configmaps').items).toHaveLength(1)
    expect(s2.skippedAtLoad.map((s) => `${s.resource}/${s.object.metadata.name}`)).toEqual(['services/bad'])
    expect(warnings[0]).toContain('skipped services default/bad from the data dir: spec.externalIPs: must be a list of IP address strings')
    // watchers cannot replay history that showed the skipped object: they relist
    expect(() => s2.watch('services', { sinceResourceVersion: 1 }, () => {})).toThrow(expect.objectContaining({ reason: 'Expired' }))
    // the name is free again
    await s2.create('services', svc('bad', ['10.0.0.2']))
    await s2.close()

    expect(logBefore.equals((await readFile(join(dir, walFileName))).subarray(0, logBefore.length))).toBe(true)
    const saved = (await readdir(dir)).filter((f) => f.startsWith('skipped-'))
    expect(saved).toHaveLength(1)
    const file = join(dir, saved[0] ?? '')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(JSON.parse((await readFile(file, 'utf8')).trim())).toMatchObject({ resource: 'services', object: { metadata: { name: 'bad' } }, problems: [expect.any(String)] })
    expect(warnings[1]).toContain(file)
  })

  it('counts a check that throws as a problem instead of failing startup', async () => {
    const dir = await tempDir()
    const s1 = await openDurableStore({ dataDir: dir })
    await s1.create('services', svc('x', []))
    await s1.close()
    const warnings: string[] = []
    const s2 = await openDurableStore({ dataDir: dir, admit: () => { throw new TypeError('boom') }, onWarning: (w) => warnings.push(w) })
    expect(s2.list('services').items).toHaveLength(0)
    expect(warnings[0]).toContain('check failed: boom')
    await s2.close()
  })

  it('admits everything when every object passes, keeping watch history', async () => {
    const dir = await tempDir()
    const s1 = await openDurableStore({ dataDir: dir })
    await s1.create('services', svc('a', []))
    await s1.create('services', svc('b', []))
    await s1.close()
    const s2 = await openDurableStore({ dataDir: dir, admit: fakeAdmit })
    const seen: string[] = []
    s2.watch('services', { sinceResourceVersion: 1 }, (ev) => seen.push(ev.object.metadata.name ?? ''))
    expect(seen).toEqual(['b'])
    await s2.close()
  })
})
