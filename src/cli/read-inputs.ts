/** Reads manifest and config files named on the command line into typed inputs. */
import { readFileSync } from 'node:fs'
import { checkDuplicates, emptyManifestSet, loadManifestText, parseProxierConfigFile, type ManifestSet, type ProxierConfigFile } from '../api/index.js'
import { InputError, UsageError } from '../errors.js'
import type { ClusterInputs } from './attach-cluster.js'

export function readText(file: string): string {
  try {
    return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8')
  } catch (err) {
    throw new InputError({ file }, `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  }
}

export function readManifests(files: readonly string[]): ManifestSet {
  if (files.length === 0) throw new UsageError('no manifests given', { hint: 'pass one or more files with -f FILE (or -f - for stdin)' })
  const set = emptyManifestSet()
  for (const f of files) loadManifestText(readText(f), f, set)
  checkDuplicates(set)
  return set
}

/** --config FILE, else the first KubeProxyConfiguration found among the manifests. */
export function readConfig(file: string | undefined, manifests: ManifestSet): ProxierConfigFile | undefined {
  if (file !== undefined) return parseProxierConfigFile(readText(file), file)
  const inline = manifests.kubeProxyConfigurations[0]
  return inline ? { kubeProxyConfiguration: inline.object, proxier: {}, sync: undefined, tracerLocalIPs: undefined, isVectorConfig: false } : undefined
}

/** The manifests and configuration of -f/--config, or of attach mode's cluster (--config still wins there). */
export function ruleInputs(files: readonly string[] | undefined, configFlag: string | undefined, attached?: ClusterInputs): { manifests: ManifestSet; configFile: ProxierConfigFile | undefined } {
  const manifests = attached?.manifests ?? readManifests(files ?? [])
  return { manifests, configFile: attached !== undefined && configFlag === undefined ? attached.config : readConfig(configFlag, manifests) }
}
