/**
 * `--allow-exec` containers and their own children (issue 10, item 8): a shell that starts a
 * grandchild (`sh -c 'sleep 300 & wait'`) leaves nothing behind on pod stop, nor when the
 * process running it is told to stop (SIGTERM, SIGINT) or exits. Checked by PID in /proc.
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { startExecContainer } from '../../../src/kubelet/exec-container.js'
import { repoRoot } from '../../helpers/shared.js'
import { tempDir } from '../../helpers/temp-dirs.js'

const pod = { namespace: 'default', name: 'p', podIP: '10.244.0.9', node: 'node-a' }

/** Alive and not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0] !== 'Z'
  } catch {
    return false
  }
}

async function until(cond: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms
  while (!cond() && Date.now() < deadline) await sleep(20)
  return cond()
}

/** The grandchild's PID, written by the shell once it has started it. */
async function grandchildOf(file: string): Promise<number> {
  expect(await until(() => existsSync(file) && readFileSync(file, 'utf8').endsWith('\n'))).toBe(true)
  return Number(readFileSync(file, 'utf8').trim())
}

const script = (file: string): string[] => ['sh', '-c', `sleep 300 & echo $! > ${file}; wait`]

describe('exec containers stop with everything they started', () => {
  it('pod stop kills the shell and its grandchild', async () => {
    const file = join(tempDir('kpe-exec-'), 'pid')
    const h = startExecContainer(script(file), pod, {})
    const grandchild = await grandchildOf(file)
    expect(alive(h.pid!)).toBe(true)
    expect(alive(grandchild)).toBe(true)
    await h.stop(2000)
    expect(await until(() => !alive(h.pid!) && !alive(grandchild))).toBe(true)
  })

  it('a grandchild that ignores SIGTERM is killed after the grace period', async () => {
    const file = join(tempDir('kpe-exec-'), 'pid')
    const h = startExecContainer(['sh', '-c', `sh -c 'trap "" TERM; sleep 300' & echo $! > ${file}; wait`], pod, {})
    const grandchild = await grandchildOf(file)
    await h.stop(200)
    expect(await until(() => !alive(grandchild))).toBe(true)
  })

  it.each(['SIGTERM', 'SIGINT'] as const)('nothing is left when the process running the container exits on %s', async (signal) => {
    const file = join(tempDir('kpe-exec-'), 'pid')
    // A process that exits on the signal without stopping its pods, as an interrupted kpe would.
    const code = `const { startExecContainer } = await import(${JSON.stringify(join(repoRoot, 'dist/src/kubelet/exec-container.js'))})
const h = startExecContainer(${JSON.stringify(script(file))}, ${JSON.stringify(pod)}, {})
process.on('${signal}', () => process.exit(0))
process.stdout.write(String(h.pid) + '\\n')
setInterval(() => {}, 1000)`
    const runner = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    runner.stdout.on('data', (d: Buffer) => (out += d.toString()))
    const grandchild = await grandchildOf(file)
    expect(await until(() => out.endsWith('\n'))).toBe(true)
    const shell = Number(out.trim())
    expect(alive(shell) && alive(grandchild)).toBe(true)
    const exited = new Promise((resolve) => runner.once('exit', resolve))
    runner.kill(signal)
    await exited
    expect(await until(() => !alive(shell) && !alive(grandchild))).toBe(true)
  })
})
