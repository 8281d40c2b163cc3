/**
 * A rootless lab through the built CLI (dist/src/cli/main.js), run as a non-root user: as root
 * this test drops to uid/gid 65534 with `setpriv`; as non-root it runs as itself. `up` builds
 * the cluster in one user namespace (asking for iptables-legacy falls back to iptables-nft with
 * the kernel's reason), real curls through the kernel's DNAT spread over the pods, `rules` and
 * conntrack read the node, and `down` leaves no process behind: every PID the state recorded
 * (holders and pod servers) is gone, and nothing lives in the lab's user namespace any more.
 */
import { execFile } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { LabState } from '../../src/lab/index.js'
import { rootlessUnavailable } from '../../src/lab/index.js'
import { requireUserNamespace } from '../helpers/root.js'
import { isLiveProcess, liveInUserNamespace } from '../helpers/user-netns.js'
import { repoRoot } from '../helpers/shared.js'

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
const stateRoot = mkdtempSync(join(tmpdir(), 'kpe-rootless-'))
// The non-root user must be able to write its lab state here.
chmodSync(stateRoot, 0o777)
const prefix = `r${process.pid % 100000}`.slice(0, 8)

/** `kpe ARGS` as a non-root user. */
function kpe(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const cli = [process.execPath, join(repoRoot, 'dist/src/cli/main.js'), ...args]
  const argv = isRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...cli] : cli
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { cwd: repoRoot, env: { ...process.env, KPE_LAB_STATE_DIR: stateRoot }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr })
    })
  })
}

const setprivMissing = isRoot && !readdirSync('/usr/bin').includes('setpriv') ? 'setpriv is not installed (apt-get install util-linux)' : undefined

if (requireUserNamespace('lab-rootless', setprivMissing ?? rootlessUnavailable())) {
  describe('kpe lab as a non-root user', () => {
    afterAll(() => {
      rmSync(stateRoot, { recursive: true, force: true })
    })

    it('up, traffic through the kernel, rules, conntrack, and a down that leaves no process', async () => {
      const up = await kpe(['lab', 'up', '-f', 'fixtures/clusterip-basic.yaml', '--name', prefix, '--backend', 'legacy'])
      const state = (): LabState => JSON.parse(readFileSync(join(stateRoot, prefix, 'state.json'), 'utf8')) as LabState
      try {
        expect(up.code, up.stderr).toBe(0)
        expect(up.stderr).toContain('iptables-legacy does not work in a user namespace')
        expect(up.stdout).toContain('iptables-nft, rootless')
        const s = state()
        expect(s.rootless?.userNs).toMatch(/^user:\[\d+\]$/)
        expect(Object.keys(s.rootless!.holders).sort()).toEqual([...s.namespaces].sort())
        // The holders run as the non-root user, not as root.
        const holder = Object.values(s.rootless!.holders)[0]!
        expect(readFileSync(`/proc/${holder}/status`, 'utf8')).toMatch(isRoot ? /^Uid:\s+65534\b/m : /^Uid:/m)

        const client = 'pod/kpe-lab/client-node-a'
        const seen = new Set<string>()
        for (let i = 0; i < 20 && seen.size < 2; i++) {
          const r = await kpe(['lab', 'exec', client, '--name', prefix, '--', 'curl', '-s', '-m', '5', 'http://10.96.0.11/'])
          expect(r.code, r.stderr).toBe(0)
          seen.add(r.stdout.split(' ')[0]!)
        }
        expect(seen.size).toBeGreaterThanOrEqual(2)
        const rules = await kpe(['lab', 'rules', 'node-a', '--name', prefix])
        expect(rules.stdout).toContain('-A KUBE-SERVICES')
        const ct = await kpe(['lab', 'exec', 'node/node-a', '--name', prefix, '--', 'conntrack', '-L', '-d', '10.96.0.11'])
        expect(ct.stdout).toMatch(/dst=10\.96\.0\.11 .*dport=80 .*src=10\.244\./)
      } finally {
        const recorded = (() => {
          try {
            const s = state()
            return { pids: [...Object.values(s.rootless?.holders ?? {}), ...s.processes.map((p) => p.pid)], userNs: s.rootless?.userNs }
          } catch {
            return { pids: [], userNs: undefined }
          }
        })()
        const down = await kpe(['lab', 'down', '--name', prefix])
        expect(down.code, down.stderr).toBe(0)
        expect(recorded.pids.length).toBeGreaterThan(5)
        expect(recorded.pids.filter(isLiveProcess)).toEqual([])
        if (recorded.userNs) expect(liveInUserNamespace(recorded.userNs)).toEqual([])
      }
    }, 180_000)
  })
}
