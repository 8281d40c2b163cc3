/**
 * `kpe up`'s security and limit flags: malformed values are usage errors (exit 2) naming the
 * flag, a malformed token file is an input error naming the record, before anything starts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { runUpCommand } from '../../../src/cli/up-command.js'

let dir: string | undefined
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
  dir = undefined
})

const never = { write: () => {}, waitForStop: () => Promise.resolve('SIGINT') }

describe('kpe up flags', () => {
  it.each([
    ['--watch-buffer-bytes', '8Xi', /--watch-buffer-bytes 8Xi: not a positive number \(units: Ki, Mi, Gi\)/],
    ['--watch-buffer-bytes', '0', /not a positive number/],
    ['--api-max-connections', '1.5', /--api-max-connections 1.5/],
    ['--api-header-timeout', '10', /--api-header-timeout 10: not a duration/],
    ['--entry-handshake-timeout', '0s', /not a duration/],
    ['--entry-idle-timeout', '5 m', /not a duration/],
    ['--entry-max-connections', 'many', /not a positive number/],
    ['--store-quota', '2G', /--store-quota 2G: not a positive number/],
  ])('%s %s is a usage error', async (flag, value, message) => {
    dir = await mkdtemp(join(tmpdir(), 'kpe-flags-'))
    await expect(runUpCommand(['--control-plane-only', '--data-dir', join(dir, 'data'), '--port', '0', flag, value], never))
      .rejects.toMatchObject({ code: 'KPE_USAGE', message: expect.stringMatching(message) })
  })

  it('a malformed token file is an input error naming the file and record', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kpe-flags-'))
    const file = join(dir, 'tokens.csv')
    await writeFile(file, 'good,admin,1\nonly-two,columns\n')
    await expect(runUpCommand(['--control-plane-only', '--data-dir', join(dir, 'data'), '--port', '0', '--token-file', file], never))
      .rejects.toMatchObject({ code: 'KPE_INPUT', message: expect.stringMatching(/tokens\.csv.*record 2 has 2 columns/) })
    await expect(runUpCommand(['--control-plane-only', '--data-dir', join(dir, 'data'), '--port', '0', '--token-file', join(dir, 'missing.csv')], never))
      .rejects.toMatchObject({ code: 'KPE_INPUT' })
  })

  it('--store-quota bounds the store: a write past it is refused, naming the quota', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kpe-flags-'))
    const file = join(dir, 'big.yaml')
    await writeFile(file, `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: big, namespace: default }\ndata: { k: ${'x'.repeat(100_000)} }\n`)
    await expect(runUpCommand(['--control-plane-only', '--data-dir', join(dir, 'data'), '--port', '0', '--store-quota', '64Ki', '-f', file], never))
      .rejects.toMatchObject({ code: 'KPE_INPUT', message: expect.stringMatching(/quota of 65536 bytes/) })
  })
})
