/**
 * `kpe lab down` removes exactly what `up` created: no namespace, link or process of the lab is
 * left, after a normal `up` and after the process running `up` was killed with SIGKILL midway
 * (the built CLI module from dist/, as `npm test` builds it before vitest).
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { iptablesCommand, labStateDir, listNetns, runCommand, stateFilePath, type LabState } from '../../src/lab/index.js'
import { labTestStateRoot, removeEmptyStateRoot, testLabPrefix } from '../helpers/lab-session.js'
import { repoRoot } from '../helpers/shared.js'
import { requireLab } from '../helpers/root.js'

const labCommandJs = join(repoRoot, 'dist/src/cli/lab-command.js')

/** Runs `kpe lab ARGS` through the built module in a child process. */
function spawnLab(args: readonly string[]) {
  const code = `const m = await import(${JSON.stringify(labCommandJs)}); process.stdout.write(await m.runLabCommand(process.argv.slice(1)))`
  return spawn(process.execPath, ['--input-type=module', '-e', code, '--', ...args], {
    cwd: repoRoot,
    env: { ...process.env, KPE_LAB_STATE_DIR: labTestStateRoot },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

async function runLab(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnLab(args)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  return { code, stdout, stderr }
}

function readState(prefix: string): LabState | undefined {
  try {
    return JSON.parse(readFileSync(stateFilePath(labStateDir(labTestStateRoot, prefix)), 'utf8')) as LabState
  } catch {
    return undefined
  }
}

/** Live (non-zombie) processes whose command line mentions the lab's state directory. */
function labProcesses(prefix: string): number[] {
  const dir = labStateDir(labTestStateRoot, prefix)
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')
        return stat[0] !== 'Z' && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)
      } catch {
        return false
      }
    })
    .map(Number)
}

async function leftovers(prefix: string): Promise<string[]> {
  const out = (await listNetns()).filter((n) => n.startsWith(`${prefix}-`)).map((n) => `namespace ${n}`)
  const links = (await runCommand(['ip', '-o', 'link', 'show'])).stdout.split('\n').filter((l) => l.includes(`${prefix}-`))
  out.push(...links.map((l) => `root-namespace link ${l}`))
  out.push(...labProcesses(prefix).map((p) => `process ${p}`))
  if (existsSync(labStateDir(labTestStateRoot, prefix))) out.push('state directory')
  return out
}

if (requireLab('lab-down', [iptablesCommand('IPv4', 'nft', 'iptables'), iptablesCommand('IPv4', 'nft', 'restore'), 'sysctl', 'node'])) {
  describe('kpe lab down', () => {
    it('is built (dist/) for the child-process checks', () => {
      expect(existsSync(labCommandJs), `${labCommandJs} is missing: run npm run build (npm test does)`).toBe(true)
    })

    it('removes everything after a normal up, and up never touched the root namespace', async () => {
      const prefix = testLabPrefix('d')
      const rootLinksBefore = (await runCommand(['ip', '-o', 'link', 'show'])).stdout.split('\n').length
      try {
        const up = await runLab(['up', '-f', 'fixtures/static/demo.yaml', '--name', prefix])
        expect(up.code, up.stderr).toBe(0)
        expect((await listNetns()).filter((n) => n.startsWith(`${prefix}-`)).length).toBeGreaterThan(5)
        expect(labProcesses(prefix).length).toBeGreaterThan(0)
        expect((await runCommand(['ip', '-o', 'link', 'show'])).stdout.split('\n').length).toBe(rootLinksBefore)
        const exec = await runLab(['exec', 'pod/kpe-lab/client-node-a', '--name', prefix, '--', 'curl', '-s', '-m', '2', 'http://10.96.0.100/'])
        expect(exec.stdout).toMatch(/^web-\S+ 10\.244\.0\.\d+:\d+\n$/)
      } finally {
        const down = await runLab(['down', '--name', prefix])
        expect(down.code, down.stderr).toBe(0)
      }
      expect(await leftovers(prefix)).toEqual([])
    }, 60_000)

    it.each([
      ['while creating namespaces', 'k', (s: LabState | undefined) => (s?.namespaces.length ?? 0) > 0],
      ['after starting the first pod server', 'm', (s: LabState | undefined) => (s?.processes.length ?? 0) > 0],
    ] as const)('removes everything after up was SIGKILLed %s', async (_when, tag, ready) => {
      const prefix = testLabPrefix(tag)
      const child = spawnLab(['up', '-f', 'fixtures/static/demo.yaml', '--name', prefix])
      try {
        const deadline = Date.now() + 30_000
        while (!ready(readState(prefix)) && Date.now() < deadline && child.exitCode === null) await sleep(2)
        child.kill('SIGKILL')
        await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.on('close', resolve)))
        expect(readState(prefix), 'up wrote its state before creating anything').toBeDefined()
      } finally {
        const down = await runLab(['down', '--name', prefix])
        expect(down.code, down.stderr).toBe(0)
      }
      expect(await leftovers(prefix)).toEqual([])
      removeEmptyStateRoot()
    }, 60_000)
  })
}
