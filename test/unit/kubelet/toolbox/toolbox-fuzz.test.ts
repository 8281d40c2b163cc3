import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { runToolbox } from '../../../../src/kubelet/index.js'
import { harness } from './toolbox-harness.js'

const names = ['sh', 'curl', 'wget', 'nslookup', 'getent', 'env', 'cat', 'ls', 'mkdir', 'rm', 'test', '[', 'tar', 'ip', 'hostname', 'echo', 'exit', 'cd', 'read', 'printenv', 'nosuch', '/bin/sh']
const word = fc.oneof(fc.constantFrom('-', '-c', '-s', '-o', '-w', '-H', '-m', '-qO-', '-xf', 'cf', '-C', '/tmp', 'http://web/', 'https://x', '>', '&&', "'", '"', '$X', '0', '-1', 'hosts'), fc.string({ maxLength: 12 }))

describe('the toolbox on arbitrary argv (property)', () => {
  it('always ends with an exit status in 0..255 and never throws', async () => {
    const h = harness()
    await fc.assert(fc.asyncProperty(fc.constantFrom(...names), fc.array(word, { maxLength: 6 }), fc.option(fc.string({ maxLength: 40 })), async (name, args, stdin) => {
      const ctl = new AbortController()
      const timer = setTimeout(() => ctl.abort(), 2_000)
      const { Readable } = await import('node:stream')
      const code = await runToolbox([name, ...args], {
        stdin: stdin === null ? undefined : Readable.from([Buffer.from(stdin)]), stdout: () => {}, stderr: () => {}, signal: ctl.signal, tty: false,
      }, h.ctx)
      clearTimeout(timer)
      expect(Number.isInteger(code) && code >= 0 && code <= 255).toBe(true)
    }), { seed: 1313, numRuns: 400, interruptAfterTimeLimit: 20_000 })
  }, 30_000)
})
