/** Lesson fixtures: every file in fixtures/, its nodes and IP families, rendered like `kpe rules`. */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadManifestText, type ManifestSet } from '../../src/api/index.js'
import { clusterFamilies } from '../../src/proxy/model/index.js'
import type { IPFamily } from '../../src/net/index.js'
import { buildNodeRules } from '../../src/proxy/node-rules/index.js'
import { repoRoot } from './shared.js'

export const fixturesDir = join(repoRoot, 'fixtures')

export interface FixtureRender {
  readonly fixture: string
  readonly node: string
  readonly family: IPFamily
  /** rules/<fixture>/<node>.iptables (IPv4) or .ip6tables (IPv6) */
  readonly goldenPath: string
}

export function fixtureNames(): string[] {
  return readdirSync(fixturesDir).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -'.yaml'.length)).sort()
}

/** fixtures/static/NAME.yaml when it exists: the lesson with its controllers' pods written out. */
export function staticFixturePath(name: string): string {
  const written = `fixtures/static/${name}.yaml`
  return existsSync(join(repoRoot, written)) ? written : `fixtures/${name}.yaml`
}

export function loadFixture(name: string): ManifestSet {
  const file = staticFixturePath(name)
  return loadManifestText(readFileSync(join(repoRoot, file), 'utf8'), file)
}

export function fixtureRenders(): FixtureRender[] {
  return fixtureNames().flatMap((fixture) => {
    const set = loadFixture(fixture)
    const families = clusterFamilies(set.kubeProxyConfigurations[0]?.object.clusterCIDR)
    return set.nodes.flatMap((n) =>
      families.map((family) => ({
        fixture,
        node: n.object.metadata.name!,
        family,
        goldenPath: join(repoRoot, 'rules', fixture, `${n.object.metadata.name}.${family === 'IPv4' ? 'iptables' : 'ip6tables'}`),
      })),
    )
  })
}

export function renderFixture(r: Pick<FixtureRender, 'fixture' | 'node' | 'family'>) {
  const manifests = loadFixture(r.fixture)
  const kpc = manifests.kubeProxyConfigurations[0]?.object
  return buildNodeRules({
    manifests,
    ...(kpc ? { kubeProxyConfiguration: kpc } : {}),
    nodeName: r.node,
    ipFamily: r.family,
  })
}
