/** Test helpers: manifests + config text -> one node's RuleTable, as `kpe rules` builds it. */
import { loadManifestText, parseProxierConfigFile } from '../../src/api/index.js'
import { buildNodeRules, type NodeRulesRequest } from '../../src/proxy/node-rules/index.js'
import { proxierInputFromFile } from '../../src/cli/vector-config.js'

export function rulesFromText(manifests: string, config?: string, extra: Omit<NodeRulesRequest, 'manifests'> = {}) {
  return buildNodeRules({
    manifests: loadManifestText(manifests, 'input.yaml'),
    ...(config === undefined ? {} : proxierInputFromFile(parseProxierConfigFile(config, 'config.yaml'))),
    ...extra,
  })
}
