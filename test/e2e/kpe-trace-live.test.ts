/**
 * `kpe trace --live` against the real `kpe up` of the demo: the hint the summary prints is run as
 * printed, and the addresses it traces are the ones kubectl shows (the client pod's live IP, not
 * the one in fixtures/demo.yaml; every live web pod as a DNAT outcome).
 */
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers/shared.js'
import { hasKubectl, run, startKpeUp, type KpeUp } from './kpe-up-process.js'

let up: KpeUp | undefined
beforeAll(async () => {
  if (hasKubectl) up = await startKpeUp()
}, 40_000)
afterAll(async () => {
  await up?.stop()
  if (up) rmSync(up.dataDir, { recursive: true, force: true })
})

describe.skipIf(!hasKubectl)('kpe trace --live', () => {
  it('the summary\'s trace hint traces the live cluster with the addresses kubectl shows', async () => {
    const k = up!
    const hint = /kpe trace (--live .*)$/m.exec(k.summary)?.[1]
    expect(hint).toBe(`--live --data-dir ${k.dataDir} --from pod/client --to svc/web`)
    const clientIP = (await k.kubectl('get', 'pod', 'client', '-o', 'jsonpath={.status.podIP}')).stdout
    const webIPs = (await k.kubectl('get', 'pods', '-l', 'app=web', '-o', 'jsonpath={.items[*].status.podIP}')).stdout.split(' ').sort()
    expect(webIPs).toHaveLength(3)
    const r = await run(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'trace', ...hint!.split(' ')])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`pod default/client -> service default/web:http (10.96.0.100:80), tcp ${clientIP} -> 10.96.0.100:80, on node-a`)
    const outcomes = [...r.stdout.matchAll(/DNAT to ([\d.]+):8080/g)].map((m) => m[1]!)
    expect([...new Set(outcomes)].sort()).toEqual(webIPs)
    const json = await run(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'trace', ...hint!.split(' '), '-o', 'json'])
    expect(json.code, json.stderr).toBe(0)
    expect(JSON.parse(json.stdout)).toBeTypeOf('object')
  }, 60_000)

  it('names a missing kpe up as such', async () => {
    const r = await run(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'trace', '--live', '--data-dir', join(up!.dataDir, 'nowhere'), '--from', 'pod/client', '--to', 'svc/web'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('no running kpe up found')
  })
})
