/** DATA_DIR/kernel.json as kpe node exec reads it, and how `kpe node exec` picks its target. */
import { describe, expect, it } from 'vitest'
import { parseKernelState } from '../../../src/kernel/index.js'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execTarget, parseNodeExec, runNodeExec } from '../../../src/cli/node-exec-command.js'

const good = { version: 1 as const, pid: 4242, userNs: 'user:[4026533244]', nodes: { 'node-a': 101 }, pods: { 'default/client': 202 } }

describe('parseKernelState', () => {
  it('reads a state file kpe up wrote', () => {
    expect(parseKernelState(JSON.stringify(good), 'k.json')).toEqual(good)
    // a node named __proto__ is kept as a node, not dropped into the prototype
    const odd = parseKernelState('{"version":1,"pid":4242,"userNs":"user:[1]","nodes":{"__proto__":101},"pods":{}}', 'k.json')
    expect(Object.keys(odd.nodes)).toEqual(['__proto__'])
  })

  it('names the file and field of every bad value', () => {
    expect(() => parseKernelState('{', 'k.json')).toThrow(/k\.json.*not JSON/)
    expect(() => parseKernelState(JSON.stringify({ ...good, version: 2 }), 'k.json')).toThrow(/version: unsupported version 2/)
    expect(() => parseKernelState(JSON.stringify({ ...good, userNs: 'net:[1]' }), 'k.json')).toThrow(/userNs: not a user namespace/)
    expect(() => parseKernelState(JSON.stringify({ ...good, nodes: { 'node-a': 1 } }), 'k.json')).toThrow(/nodes\.node-a: not a PID: 1/)
    expect(() => parseKernelState(JSON.stringify({ ...good, pods: { x: '7' } }), 'k.json')).toThrow(/pods\.x: not a PID/)
    expect(() => parseKernelState(JSON.stringify({ ...good, pods: [] }), 'k.json')).toThrow(/pods: must be an object/)
  })
})

describe('kpe node exec arguments', () => {
  it('takes NODE or --pod before --, and the command after it verbatim', () => {
    expect(parseNodeExec(['node-a', '--', 'iptables-save', '-t', 'nat'])).toEqual({ node: 'node-a', command: ['iptables-save', '-t', 'nat'], help: false })
    expect(parseNodeExec(['--pod', 'default/client', '--data-dir', '/d', '--', 'ip', '--help'])).toEqual({ pod: 'default/client', dataDir: '/d', command: ['ip', '--help'], help: false })
  })

  it('refuses a missing command, two targets, none, or a malformed pod name', () => {
    expect(() => parseNodeExec(['node-a'])).toThrow(/no command after --/)
    expect(() => parseNodeExec(['node-a', '--pod', 'default/x', '--', 'id'])).toThrow(/exclude each other/)
    expect(() => parseNodeExec(['--', 'id'])).toThrow(/exactly one NODE/)
    expect(() => parseNodeExec(['a', 'b', '--', 'id'])).toThrow(/exactly one NODE/)
    expect(() => parseNodeExec(['--pod', '../etc', '--', 'id'])).toThrow(/--pod "..\/etc": not NAMESPACE\/NAME/)
  })

  it('resolves the target to its holder, and names what is known when it is not there', () => {
    expect(execTarget(good, { node: 'node-a' })).toEqual({ pid: 101, what: 'node node-a' })
    expect(execTarget(good, { pod: 'default/client' })).toEqual({ pid: 202, what: 'pod default/client' })
    expect(() => execTarget(good, { node: 'node-z' })).toThrow(/node "node-z" has no network namespace/)
    expect(() => execTarget(good, { pod: 'default/web' })).toThrow(/pod default\/web has no network namespace/)
    // inherited names are not nodes
    expect(() => execTarget(good, { node: 'toString' })).toThrow(/node "toString" has no network namespace/)
    expect(() => execTarget(good, { node: 'constructor' })).toThrow(/node "constructor" has no network namespace/)
  })
})

describe('kpe node exec against a data dir', () => {
  it('refuses a holder that no longer lives in the recorded user namespace, and a data dir without kernel.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kpe-node-exec-'))
    try {
      await expect(runNodeExec(['node-a', '--data-dir', dir, '--', 'true'])).rejects.toThrow(/no kernel dataplane in .*kernel\.json is missing/)
      // This test's own PID is alive but not in that user namespace: never entered.
      writeFileSync(join(dir, 'kernel.json'), JSON.stringify({ ...good, nodes: { 'node-a': process.pid } }))
      await expect(runNodeExec(['node-a', '--data-dir', dir, '--', 'true'])).rejects.toThrow(/namespace of node node-a is not kpe's/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

