/**
 * `kpe up`'s event and node-failure flags: malformed values are usage errors naming the flag,
 * before anything starts; with --control-plane-only the unreachable toleration still reaches
 * the DefaultTolerationSeconds admission of new Pods.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { runUpCommand } from '../../../src/cli/up-command.js'

let dir: string | undefined
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
  dir = undefined
})

describe('kpe up event and node flags', () => {
  it.each([
    ['--event-ttl', '0s', /--event-ttl 0s: not a duration/],
    ['--event-ttl', '1d', /--event-ttl 1d: not a duration/],
    ['--node-monitor-grace-period', '40', /--node-monitor-grace-period 40: not a duration/],
    ['--default-unreachable-toleration-seconds', '1.5', /--default-unreachable-toleration-seconds 1.5: not a whole number of seconds/],
    ['--default-unreachable-toleration-seconds', '5s', /not a whole number of seconds/],
  ])('%s %s is a usage error', async (flag, value, message) => {
    dir = await mkdtemp(join(tmpdir(), 'kpe-node-flags-'))
    const never = { write: () => {}, waitForStop: () => Promise.resolve('SIGINT') }
    await expect(runUpCommand(['--data-dir', join(dir, 'data'), '--port', '0', flag, value], never)).rejects.toMatchObject({ code: 'KPE_USAGE', message: expect.stringMatching(message) })
  })

  it('gives new Pods the unreachable toleration of --default-unreachable-toleration-seconds', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kpe-node-flags-'))
    let url = ''
    let stop: (s: string) => void = () => {}
    const io = { write: (t: string) => { url ||= /listening on (\S+)/.exec(t)?.[1] ?? '' }, waitForStop: () => new Promise<string>((r) => { stop = r }) }
    const running = runUpCommand(['--control-plane-only', '--data-dir', join(dir, 'data'), '--port', '0', '--default-unreachable-toleration-seconds', '7'], io)
    for (let i = 0; i < 200 && !url; i++) await new Promise((r) => setTimeout(r, 25))
    const res = await fetch(`${url}/api/v1/namespaces/default/pods`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } }),
    })
    expect(res.status).toBe(201)
    const pod = await res.json() as { spec: { tolerations: unknown[] } }
    expect(pod.spec.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 7 },
    ])
    stop('SIGINT')
    await running
  })
})
