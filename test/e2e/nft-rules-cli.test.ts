/**
 * The built CLI reproduces upstream's nftables vectors: `kpe rules -f input.yaml --config
 * config.yaml --mode nftables` as a child process, compared after upstream's normalisation, and
 * bad input answered with the object and field.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { sortNftablesDump } from '../../src/proxy/nftables/index.js'
import { runKpe } from '../helpers/cli.js'
import { goldenNftDir, hasShared, nftVectorCases } from '../helpers/shared.js'

describe.runIf(hasShared(goldenNftDir))('kpe rules --mode nftables (built CLI) on the upstream vectors', () => {
  it('matches all fifteen', async () => {
    const names = nftVectorCases()
    const results = await Promise.all(names.map((n) => runKpe(['rules', '-f', join(goldenNftDir, n, 'input.yaml'), '--config', join(goldenNftDir, n, 'config.yaml'), '--mode', 'nftables'])))
    const failing = names.filter((n, i) => results[i]!.code !== 0 || sortNftablesDump(results[i]!.stdout) !== sortNftablesDump(readFileSync(join(goldenNftDir, n, 'expected.nft'), 'utf8')))
    expect(failing).toEqual([])
  }, 60_000)

  it('names the ServiceCIDR and field of a bad CIDR', async () => {
    const bad = 'apiVersion: networking.k8s.io/v1\nkind: ServiceCIDR\nmetadata: {name: kubernetes}\nspec: {cidrs: ["10.96.0.0/40"]}\n---\napiVersion: v1\nkind: Node\nmetadata: {name: n1}\n'
    const r = await runKpe(['rules', '-f', '-', '--mode', 'nftables'], { input: bad })
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/ServiceCIDR kubernetes.*spec\.cidrs\[0\]/)
  })
})
