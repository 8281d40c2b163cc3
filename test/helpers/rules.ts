/** Test helpers: manifests + config text -> one node's RuleTable, as `kpe rules` builds it. */
import { loadManifestText, parseProxierConfigFile } from '../../src/api/index.js'
import { buildNodeRules, type NodeRulesRequest } from '../../src/proxy/node-rules.js'

export function rulesFromText(manifests: string, config?: string, extra: Omit<NodeRulesRequest, 'manifests' | 'configFile'> = {}) {
  return buildNodeRules({
    manifests: loadManifestText(manifests, 'input.yaml'),
    ...(config === undefined ? {} : { configFile: parseProxierConfigFile(config, 'config.yaml') }),
    ...extra,
  })
}
