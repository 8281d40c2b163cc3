/**
 * `kpe trace --rules DUMP --config VECTOR/config.yaml`: the config's tracer.localIPs count as
 * --local-ip (issue 10, item 8), so upstream's TestTracePacket rows whose source or destination
 * is a node address answer as upstream's tracer does, from the command line.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runKpe } from '../helpers/cli.js'
import { loadFlowCase } from '../helpers/flows.js'
import { hasShared } from '../helpers/shared.js'
import { tempDir } from '../helpers/temp-dirs.js'

describe.runIf(hasShared())('kpe trace --rules with a vector config', () => {
  const c = hasShared() ? loadFlowCase('trace-packet') : undefined
  const dump = c ? join(c.dir, 'input.iptables') : ''
  const config = c ? join(c.dir, 'config.yaml') : ''

  it.each(c?.rows.map((r) => [r.name, r] as const) ?? [])('%s', async (_name, row) => {
    const res = await runKpe(['trace', '--rules', dump, '--config', config, '--from', row.sourceIP, '--to', `${row.destIP}:${row.destPort}/${row.protocol.toLowerCase()}`, '-o', 'json'])
    expect(res.stderr).toBe('')
    const out = JSON.parse(res.stdout) as { output: string; masq: boolean }
    expect({ output: out.output, masq: out.masq }).toEqual({ output: row.output, masq: row.masq })
  })

  it('refuses a tracer.localIPs entry that is not an IP with exit 2, naming the field', async () => {
    const dir = tempDir('kpe-trace-cfg-')
    const bad = join(dir, 'config.yaml')
    writeFileSync(bad, 'tracer:\n  localIPs: ["127.0.0.1", "not-an-ip"]\n')
    const res = await runKpe(['trace', '--rules', dump, '--config', bad, '--from', '10.0.0.2', '--to', '172.30.0.41:80'])
    expect(res.code).toBe(2)
    expect(res.stderr).toContain('tracer.localIPs[1]')
  })
})
