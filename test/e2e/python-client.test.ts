/**
 * End-to-end: Debian's python3-kubernetes client (typed models, its own watch) against `kpe up`
 * through the kubeconfig kpe writes. Runs test/e2e/python-client.py, which prints a line per step.
 * Without the client the suite fails when CI is set and is skipped with a printed reason otherwise.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers/shared.js'
import { run, startKpeUp, type KpeUp } from './kpe-up-process.js'

// Debian's interpreter, not one earlier on PATH (pyenv): the client is installed for it.
const python = '/usr/bin/python3'
const hasClient = ((): boolean => {
  try {
    execFileSync(python, ['-c', 'import kubernetes'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()
if (!hasClient) {
  if (process.env['CI']) throw new Error(`${python} cannot import kubernetes, and CI is set: install python3-kubernetes (.ci/run does)`)
  console.warn(`skipping the Python client e2e test: ${python} cannot import kubernetes (apt-get install python3-kubernetes)`)
}

let up: KpeUp | undefined
beforeAll(async () => {
  if (hasClient) up = await startKpeUp()
}, 60_000)
afterAll(async () => {
  await up?.stop()
})

describe.skipIf(!hasClient)('the Python kubernetes client', () => {
  it('lists, reads, creates, patches and deletes Pods, Services and Deployments, and watches pods', async () => {
    const r = await run(python, [join(repoRoot, 'test/e2e/python-client.py'), up!.kubeconfig, 'python-client'], 90_000)
    const steps = r.stdout.split('\n').filter((l) => l.startsWith('ok ')).map((l) => l.split(' ').slice(1, 3).join(' '))
    expect(r.stderr.split('\n').slice(-6).join('\n'), r.stdout).toBe('')
    expect(steps).toEqual([
      'create namespace', 'create pod', 'list pods', 'read pod', 'patch pod', 'create service', 'list services', 'patch service', 'read service',
      'create deployment', 'scale deployment', 'list deployments', 'watch pods', 'read pods', 'delete', 'read deleted',
    ])
    expect(r.stdout).toMatch(/^ok watch pods .*ADDED:py-pod/m)
    expect(r.code).toBe(0)
  }, 120_000)
})
