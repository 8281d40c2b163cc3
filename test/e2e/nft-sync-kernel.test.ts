/**
 * The kernel judges kpe's nftables sync transactions: in a throwaway user+network namespace
 * (`unshare -rn`, gone when the process exits; nothing touches the root namespace) the table a
 * node held, plus the transaction of a partial and of a full sync, must equal the table after.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { loadManifestText, parseProxierConfigFile } from '../../src/api/index.js'
import { proxierInputFromFile } from '../../src/cli/vector-config.js'
import { renderNftablesTransaction, renderNftSyncTransaction } from '../../src/proxy/nftables/index.js'
import { buildNodeNftSync } from '../../src/proxy/node-rules/index.js'
import { goldenNftDir, hasShared, nftVectorCases } from '../helpers/shared.js'
import { isCI } from '../helpers/root.js'
import { replaySyncRepeated } from '../helpers/nft-replay.js'
import { applyInKernel, nftNamespaceProblem } from '../helpers/nft-kernel.js'

const problem = hasShared(goldenNftDir) ? nftNamespaceProblem() : 'no vectors'
if (problem !== undefined && problem !== 'no vectors' && !isCI) console.warn(`[nft-sync-kernel] skipped: ${problem}`)

describe.runIf(problem === undefined || (isCI && problem !== 'no vectors'))('nftables sync transactions in the kernel', () => {
  it('needs unshare -rn and nft when CI is set', () => {
    expect(problem).toBeUndefined()
  })

  const read = (...p: string[]): string => readFileSync(join(goldenNftDir, ...p), 'utf8')
  const stepped = nftVectorCases().filter((n) => (parse(read(n, 'config.yaml')) as { sync?: { after?: string } }).sync?.after !== undefined)
  it.each(stepped)('%s: held table + partial / full sync transaction = the table after', (name) => {
    const after = (parse(read(name, 'config.yaml')) as { sync: { after: string } }).sync.after
    const config = proxierInputFromFile(parseProxierConfigFile(read(name, 'config.yaml'), 'config.yaml'))
    const req = { manifests: loadManifestText(read(name, 'input.yaml'), 'input.yaml'), ...config }
    const before = loadManifestText(read(after, 'input.yaml'), 'input.yaml')
    for (const full of [false, true]) {
      const sync = buildNodeNftSync(req, before, { full })
      const [want] = applyInKernel(sync.after.family, [renderNftablesTransaction(sync.after)])
      const [got] = applyInKernel(sync.after.family, [renderNftablesTransaction(sync.before), renderNftSyncTransaction(sync)])
      expect(got, `${full ? 'full' : 'partial'} sync`).toEqual(want)
    }
  }, 30_000)

  it('the live loop: every transaction of the TestSyncProxyRulesRepeated replay, applied in turn, gives its table', () => {
    const steps = replaySyncRepeated()
    const listed = applyInKernel('ip', steps.map((st) => st.sync.text), steps.map((_, i) => i))
    expect(listed).toHaveLength(steps.length)
    steps.forEach((st, i) => expect(listed[i], st.name).toEqual(applyInKernel('ip', [renderNftablesTransaction(st.sync.ruleset)])[0]))
  }, 60_000)
})
