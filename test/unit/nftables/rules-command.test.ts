import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runRulesCommand } from '../../../src/cli/rules-command.js'
import { repoRoot } from '../../helpers/shared.js'

const demo = join(repoRoot, 'fixtures/static/demo.yaml')

describe('kpe rules --mode', () => {
  it('--mode nftables prints the golden nftables transaction', async () => {
    const out = await runRulesCommand(['-f', demo, '--node', 'node-a', '--mode', 'nftables'])
    expect(out).toBe(readFileSync(join(repoRoot, 'rules/demo/node-a.nft'), 'utf8'))
  })

  it('defaults to the config mode, else iptables', async () => {
    const out = await runRulesCommand(['-f', demo, '--node', 'node-a'])
    expect(out).toBe(readFileSync(join(repoRoot, 'rules/demo/node-a.iptables'), 'utf8'))
  })

  it('--ip-family 6 renders the ip6 table', async () => {
    const out = await runRulesCommand(['-f', join(repoRoot, 'fixtures/dual-stack.yaml'), '--node', 'node-a', '--mode', 'nftables', '--ip-family', '6'])
    expect(out).toBe(readFileSync(join(repoRoot, 'rules/dual-stack/node-a.nft6'), 'utf8'))
  })

  it('refuses an unknown mode', async () => {
    await expect(runRulesCommand(['-f', demo, '--mode', 'ipvs'])).rejects.toMatchObject({ code: 'KPE_USAGE' })
  })

  it('--as-saved prints the table as nft list table does (issue 15; the kernel check is test/e2e/nft-saved-kernel.test.ts)', async () => {
    const out = await runRulesCommand(['-f', demo, '--node', 'node-a', '--mode', 'nftables', '--as-saved'])
    expect(out).toMatch(/^table ip kube-proxy \{\n\tcomment "rules for kube-proxy"\n\tset cluster-ips \{\n/)
    expect(out).toContain('\t\ttype filter hook prerouting priority dstnat - 10; policy accept;\n')
    expect(out).toContain('\t\tmeta mark set meta mark | 0x00004000\n')
  })
})
