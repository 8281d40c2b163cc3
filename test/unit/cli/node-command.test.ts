/** `kpe node`: usage errors before any request, and a clear error when no kpe up runs. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runNodeCommand } from '../../../src/cli/node-command.js'
import { exitCodeOf } from '../../../src/cli/main.js'
import { NotFoundError, UsageError } from '../../../src/errors.js'

describe('kpe node', () => {
  it.each([
    [['stop'], /kpe node stop takes exactly one NODE/],
    [['start', 'a', 'b'], /kpe node start takes exactly one NODE/],
    [['reboot', 'a'], /unknown node command "reboot"/],
    [[], /unknown node command ""/],
  ])('refuses %j', async (argv, message) => {
    const err = await runNodeCommand(argv).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UsageError)
    expect((err as Error).message).toMatch(message)
    expect(exitCodeOf(err)).toBe(2)
  })

  it('prints its help', async () => {
    expect(await runNodeCommand(['--help'])).toMatch(/^usage: kpe node stop NODE/)
  })

  it('says when no kpe up runs from the data dir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kpe-node-cmd-'))
    try {
      const err = await runNodeCommand(['stop', 'node-a', '--data-dir', dir]).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(NotFoundError)
      expect((err as Error).message).toMatch(/no running kpe up found in/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
