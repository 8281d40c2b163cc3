/**
 * Topology against the real `kpe up` (fixtures/zoned.yaml: node-a and node-b in zone-a, node-c in
 * zone-b, one pod each, a PreferSameZone NodePort Service): the EndpointSlice controller writes
 * the zone hints kubectl shows, every node's rules keep to its zone, and real requests through
 * node-a's and node-c's NodePorts are answered only by pods of that zone. `kpe trace` on the same
 * fixture explains it. Only loopback addresses are dialled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { curl, hasKubectl, run, startKpeUp, type KpeUp } from './kpe-up-process.js'
import { repoRoot } from '../helpers/shared.js'

let up: KpeUp | undefined
beforeAll(async () => {
  if (hasKubectl) up = await startKpeUp(['fixtures/zoned.yaml'])
}, 40_000)
afterAll(async () => {
  await up?.stop()
  if (up) rmSync(up.dataDir, { recursive: true, force: true })
})

async function answers(host: string, n: number): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (let i = 0; i < n; i++) {
    const r = await curl([`http://${host}:30095/hostname`])
    const who = r.code === 0 ? r.stdout.trim() : `error ${r.code}`
    out.set(who, (out.get(who) ?? 0) + 1)
  }
  return out
}

describe.skipIf(!hasKubectl)('PreferSameZone through kpe up', () => {
  it('hints each endpoint to its zone, and real traffic stays in the zone it enters', async () => {
    const k = up!
    const deadline = Date.now() + 30_000
    let hints = ''
    while (Date.now() < deadline) {
      hints = (await k.kubectl('get', 'endpointslices', '-l', 'kubernetes.io/service-name=zoned', '-o', 'jsonpath={range .items[*].endpoints[*]}{.targetRef.name}={.hints.forZones[0].name}{" "}{end}')).stdout.trim()
      if (hints.split(' ').length === 3 && !hints.includes('=,') && !/=$|= /.test(hints)) break
      await new Promise((r) => setTimeout(r, 250))
    }
    expect(hints.split(' ').sort()).toEqual(['zoned-a=zone-a', 'zoned-b=zone-a', 'zoned-c=zone-b'])
    // the rules have caught up once node-c's NodePort answers only from zoned-c for a while
    for (const end = Date.now() + 20_000; Date.now() < end;) {
      const probe = await answers(`${k.prefix}3`, 4)
      if (probe.size === 1 && probe.has('zoned-c')) break
      await new Promise((r) => setTimeout(r, 250))
    }
    const fromA = await answers(`${k.prefix}1`, 30)
    const fromC = await answers(`${k.prefix}3`, 15)
    console.log(`from node-a (zone-a): ${JSON.stringify(Object.fromEntries(fromA))}; from node-c (zone-b): ${JSON.stringify(Object.fromEntries(fromC))}`)
    expect([...fromA.keys()].sort()).toEqual(['zoned-a', 'zoned-b'])
    expect([...fromC.keys()]).toEqual(['zoned-c'])
  }, 90_000)

  it('kpe trace shows the zone-local endpoints', async () => {
    const main = join(repoRoot, 'dist/src/cli/main.js')
    const fromC = await run(process.execPath, [main, 'trace', '-f', 'fixtures/zoned.yaml', '--from', '203.0.113.9', '--node', 'node-c', '--to', 'svc/zoned'])
    expect(fromC.stdout).toContain('100%  DNAT to 10.244.2.21:8080 (pod default/zoned-c on node-c)')
    const fromA = await run(process.execPath, [main, 'trace', '-f', 'fixtures/zoned.yaml', '--from', '203.0.113.9', '--node', 'node-a', '--to', 'svc/zoned'])
    expect(fromA.stdout).toMatch(/50\.0%\s+DNAT to 10\.244\.0\.21:8080/)
    expect(fromA.stdout).toMatch(/50\.0%\s+DNAT to 10\.244\.1\.21:8080/)
    expect(fromA.stdout).not.toContain('10.244.2.21')
  })
})
