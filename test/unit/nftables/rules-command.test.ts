import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runRulesCommand } from '../../../src/cli/rules-command.js'
import { repoRoot } from '../../helpers/shared.js'

const demo = join(repoRoot, 'fixtures/demo.yaml')

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

  it('refuses an unknown mode and iptables-only flags', async () => {
    await expect(runRulesCommand(['-f', demo, '--mode', 'ipvs'])).rejects.toMatchObject({ code: 'KPE_USAGE' })
    await expect(runRulesCommand(['-f', demo, '--mode', 'nftables', '--as-saved'])).rejects.toMatchObject({ code: 'KPE_USAGE' })
  })
})
