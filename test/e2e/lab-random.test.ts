/**
 * Random clusters (fast-check) on one fixed lab: each cluster is loaded by the nodes' proxier
 * loops as a partial sync from the previous one, conntrack and `recent` lists are cleared, and every row's kernel
 * answer must equal the interpreter's answer on that cluster's full rules. KPE_LAB_CLUSTERS
 * sets the count (default 50; the long local run uses 200), KPE_LAB_SEED the seed.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { buildLabRules, flushConntrack, flushRecentLists, iptablesCommand, listNetns, syncLabProxiers } from '../../src/lab/index.js'
import { clusterObjects } from '../../src/proxy/model/index.js'
import { labClusterArb, loadLabCluster } from '../helpers/lab-cluster-arbitrary.js'
import { Oracle, oracleRows, runOracleRows } from '../helpers/lab-oracle.js'
import { configOf, testLabPrefix, withLab } from '../helpers/lab-session.js'
import { requireLab } from '../helpers/root.js'

const count = Number(process.env['KPE_LAB_CLUSTERS'] ?? 50)
const seed = Number(process.env['KPE_LAB_SEED'] ?? 20240917)
const prefix = testLabPrefix('r')

if (requireLab('lab-random', [iptablesCommand('IPv4', 'nft', 'iptables'), iptablesCommand('IPv4', 'nft', 'restore'), 'sysctl', 'node', 'conntrack'])) {
  describe('random clusters: the kernel and the interpreter agree', () => {
    it(`${count} clusters (seed ${seed}), zero disagreements`, async () => {
      const clusters = fc.sample(labClusterArb(), { seed, numRuns: count })
      const first = loadLabCluster(clusters[0]!)
      const problems: string[] = []
      let rowsRun = 0
      await withLab(first, { prefix, backend: 'nft' }, async (lab) => {
        let previous = first
        for (const [i, text] of clusters.entries()) {
          const manifests = loadLabCluster(text)
          const config = configOf(manifests)
          // The proxier loop of each node writes the change as a partial sync.
          if (i > 0) await syncLabProxiers(lab.state, { manifests, config, before: previous })
          previous = manifests
          await Promise.all(lab.plan.nodes.map(async (n) => {
            await flushConntrack(lab.state, n.netns)
            await flushRecentLists(lab.state, n.netns)
          }))
          const rules = buildLabRules(manifests, config)
          const objects = clusterObjects(manifests)
          const rows = oracleRows(lab.plan, objects.services, objects.endpointSlices, { localhostNodePorts: rules.some((r) => r.input.config.localhostNodePorts) })
          const verdicts = await runOracleRows(lab.state, new Oracle(lab.plan, rules), rows, { concurrency: 8 })
          rowsRun += verdicts.length
          for (const v of verdicts) for (const p of v.problems) problems.push(`cluster ${i} (seed ${seed}): ${p}`)
          if (problems.length > 0) {
            problems.push(`cluster ${i} manifests:\n${text}`)
            break
          }
        }
      })
      expect(problems).toEqual([])
      expect(rowsRun).toBeGreaterThan(count)
    }, 600_000)

    it('leaves no namespace behind', async () => {
      expect((await listNetns()).filter((n) => n.startsWith(`${prefix}-`))).toEqual([])
    })
  })
}
