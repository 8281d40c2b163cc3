/**
 * `kpe up --dataplane`: bad values and combinations are usage errors before anything starts, and
 * where no user namespace can be created the refusal carries the precise reason (here: unshare
 * missing from PATH, the same probe that reports max_user_namespaces 0 or an AppArmor refusal).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { runUpCommand } from '../../../src/cli/up-command.js'

let dir: string | undefined
const path = process.env['PATH']
afterEach(async () => {
  process.env['PATH'] = path
  if (dir) await rm(dir, { recursive: true, force: true })
  dir = undefined
})

const never = { write: () => {}, waitForStop: () => Promise.resolve('SIGINT') }

async function up(...flags: string[]): Promise<unknown> {
  dir = await mkdtemp(join(tmpdir(), 'kpe-dataplane-'))
  return runUpCommand(['--data-dir', join(dir, 'data'), '--port', '0', ...flags], never).catch((e: unknown) => e)
}

describe('kpe up --dataplane', () => {
  it.each([
    [['--dataplane', 'ebpf'], /--dataplane ebpf: not a dataplane/],
    [['--rootless=maybe', '--dataplane', 'kernel'], /--rootless=maybe: use --rootless=true or --rootless=false/],
    [['--rootless=true'], /--rootless applies to --dataplane kernel only/],
    [['--dataplane', 'kernel', '--control-plane-only'], /cannot be combined with --control-plane-only/],
    [['--dataplane', 'kernel', '--rootless=false'], /--rootless=false is not supported yet/],
  ])('%j is a usage error', async (flags, message) => {
    expect(await up(...flags)).toMatchObject({ code: 'KPE_USAGE', message: expect.stringMatching(message) })
    expect(existsSync(join(dir!, 'data'))).toBe(false)
  })

  it('refuses --dataplane kernel with the reason no user namespace can be made, before anything starts', async () => {
    process.env['PATH'] = '/nonexistent'
    const err = await up('--dataplane', 'kernel')
    expect(err).toMatchObject({ code: 'KPE_USAGE', message: expect.stringMatching(/^--dataplane kernel needs a user namespace: unshare is not available: .*ENOENT.*\(apt-get install util-linux\)/) })
    expect(existsSync(join(dir!, 'data'))).toBe(false)
  })

  it('refuses --dataplane kernel naming the tools missing from PATH', async () => {
    const bin = await mkdtemp(join(tmpdir(), 'kpe-bin-'))
    try {
      // A user namespace works here (a stand-in unshare that succeeds); nothing else is on PATH.
      await writeFile(join(bin, 'unshare'), '#!/bin/sh\nexit 0\n', { mode: 0o755 })
      process.env['PATH'] = bin
      expect(await up('--dataplane', 'kernel')).toMatchObject({ code: 'KPE_USAGE', message: expect.stringMatching(/^--dataplane kernel: missing on PATH: ip, nsenter, setpriv, sysctl, iptables-nft-restore, nft/) })
    } finally {
      await rm(bin, { recursive: true, force: true })
    }
  })
})
