/**
 * `kpe up --allow-exec`: a container's own children do not outlive kpe (issue 10, item 8). A pod
 * runs `sh -c 'sleep 300 & echo $! > FILE; wait'`; after SIGINT or SIGTERM to kpe up, neither the
 * shell nor its grandchild is alive (checked by PID in /proc).
 */
import { spawn } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers/shared.js'
import { tempDir } from '../helpers/temp-dirs.js'

function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0] !== 'Z'
  } catch {
    return false
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? ''
  } catch {
    return ''
  }
}

/** PIDs of live processes whose command line mentions `marker`. */
function processesWith(marker: string): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    try {
      return alive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)
    } catch {
      return false
    }
  })
}

describe('kpe up --allow-exec', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('leaves no container process or grandchild behind after %s', async (signal) => {
    const dir = tempDir('kpe-exec-e2e-')
    const pidFile = join(dir, 'grandchild.pid')
    writeFileSync(join(dir, 'pod.yaml'), `apiVersion: v1
kind: Pod
metadata: {name: shell, namespace: default}
spec:
  nodeName: node-a
  containers:
  - name: sh
    image: busybox
    command: [sh, -c, 'sleep 300 & echo $! > ${pidFile}; wait']
`)
    const child = spawn(process.execPath, [join(repoRoot, 'dist/src/cli/main.js'), 'up', '-f', join(dir, 'pod.yaml'), '--allow-exec', '--data-dir', join(dir, 'data'),
      '--port', '0', '--socks-port', '0', '--http-proxy-port', '0', '--metrics-port', '0', '--node-loopback-prefix', `127.${randomInt(20, 250)}.${randomInt(1, 250)}.`],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.resume()
    child.stderr.resume()
    const exited = new Promise((resolve) => child.once('exit', resolve))
    try {
      for (let i = 0; i < 300 && !(existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n')); i++) await sleep(50)
      const grandchild = Number(readFileSync(pidFile, 'utf8').trim())
      // Until the forked child has exec'd sleep it is a copy of the shell, command line and all.
      for (let i = 0; i < 100 && commandOf(grandchild) !== 'sleep'; i++) await sleep(50)
      const shells = processesWith(pidFile)
      expect(alive(grandchild)).toBe(true)
      expect(shells.length).toBe(1)
      child.kill(signal)
      await exited
      for (let i = 0; i < 100 && (alive(grandchild) || shells.some(alive)); i++) await sleep(50)
      expect({ grandchild: alive(grandchild), shell: shells.some(alive) }).toEqual({ grandchild: false, shell: false })
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
  }, 60_000)
})
