/**
 * notHolderOf: only a `sleep` that the named kpe process started, inside the user namespace the
 * state file names, passes; kpe's own process, PID 1, a holder claimed for another owner, a
 * process of the same user namespace started by someone else, and a dead holder are refused.
 */
import { spawn } from 'node:child_process'
import { readFileSync, readlinkSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import { notHolderOf, rootlessUnavailable, startNetnsHolder, startUserNamespace } from '../../../src/lab/index.js'
import { requireUserNamespace } from '../../helpers/root.js'

const started: number[] = []
afterAll(() => {
  for (const pid of started) {
    try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
  }
})

const read = (path: string): string => { try { return readFileSync(path, 'utf8').trim() } catch { return '' } }

/** The first child of `pid` once it runs `sleep`: a child just forked still runs the shell until it execs. */
async function sleepChildOf(pid: number): Promise<number> {
  for (let i = 0; i < 400; i++) {
    const kid = Number(read(`/proc/${pid}/task/${pid}/children`).split(' ')[0])
    if (kid > 0 && read(`/proc/${kid}/comm`) === 'sleep') return kid
    await sleep(5)
  }
  throw new Error(`process ${pid} started no sleep child`)
}

if (requireUserNamespace('holder-provenance', rootlessUnavailable())) {
  describe('notHolderOf', () => {
    it('accepts the holders this process started, and refuses every other PID with the reason', async () => {
      const user = await startUserNamespace({ dieWithParent: true })
      started.push(user.pid)
      const holder = await startNetnsHolder(user, { dieWithParent: true })
      started.push(holder)
      expect(notHolderOf(user.pid, process.pid, user.userNs)).toBeUndefined()
      expect(notHolderOf(holder, process.pid, user.userNs)).toBeUndefined()

      const own = readlinkSync('/proc/self/ns/user')
      expect(notHolderOf(process.pid, process.ppid, own)).toMatch(/own user namespace/)
      expect(notHolderOf(1, process.pid, user.userNs)).toMatch(/not a holder PID/)
      expect(notHolderOf(holder, process.pid, own)).toMatch(/not in the user namespace/)
      // The file names the right namespace but another owner (a reused or invented PID).
      expect(notHolderOf(holder, process.ppid, user.userNs)).toMatch(new RegExp(`not started by kpe process ${process.ppid}`))

      // A process in the same user namespace that kpe did not start (a shell's child).
      const sh = spawn('nsenter', ['--preserve-credentials', '-U', '-t', String(user.pid), 'sh', '-c', 'sleep 30; true'], { stdio: 'ignore' })
      started.push(sh.pid!)
      const stranger = await sleepChildOf(sh.pid!)
      started.push(stranger)
      expect(notHolderOf(stranger, process.pid, user.userNs)).toMatch(/not started by kpe process/)
      // ...and the shell as "owner": a sleep child in the namespace, but the owner is not kpe.
      expect(notHolderOf(stranger, sh.pid!, user.userNs)).toMatch(/is not kpe \(it runs .*sh/)

      process.kill(holder, 'SIGKILL')
      for (let i = 0; i < 200 && notHolderOf(holder, process.pid, user.userNs) === undefined; i++) await sleep(5)
      expect(notHolderOf(holder, process.pid, user.userNs)).toMatch(/not running|not in the user namespace|not a namespace holder/)
    })
  })
}
