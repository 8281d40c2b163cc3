/**
 * OpenAPI v3 stub: an index of group-versions and per-GV documents holding one PATCH operation
 * per kind with x-kubernetes-group-version-kind and a fieldValidation parameter. That is what
 * kubectl's validation probe (cli-runtime queryParamVerifierV3) needs; schemas stay empty.
 */
import { createHash } from 'node:crypto'
import { servedGroupVersions, servedResources } from './resources.js'

function gvPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`
}

export function openApiGroupVersion(group: string, version: string): unknown | undefined {
  const rs = servedResources.filter((r) => r.group === group && r.version === version)
  if (rs.length === 0) return undefined
  const paths: Record<string, unknown> = {}
  for (const r of rs) {
    const prefix = `/${gvPath(group, version)}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.resource}`
    const gvk = { group: r.group, version: r.version, kind: r.kind }
    const params = [{ name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } }]
    paths[`${prefix}/{name}`] = {
      patch: { 'x-kubernetes-group-version-kind': gvk, parameters: params, responses: { '200': { description: 'OK' } } },
      put: { 'x-kubernetes-group-version-kind': gvk, parameters: params, responses: { '200': { description: 'OK' } } },
    }
    paths[prefix] = {
      post: { 'x-kubernetes-group-version-kind': gvk, parameters: params, responses: { '201': { description: 'Created' } } },
    }
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas: {} } }
}

export function openApiIndex(): unknown {
  const paths: Record<string, unknown> = {}
  for (const gv of servedGroupVersions()) {
    const doc = JSON.stringify(openApiGroupVersion(gv.group, gv.version))
    const hash = createHash('sha512').update(doc).digest('hex').slice(0, 32).toUpperCase()
    paths[gvPath(gv.group, gv.version)] = { serverRelativeURL: `/openapi/v3/${gvPath(gv.group, gv.version)}?hash=${hash}` }
  }
  return { paths }
}

export function versionInfo(): unknown {
  return {
    major: '1', minor: '32', gitVersion: 'v1.32.0-kpe', gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: 'go1.23', compiler: 'gc', platform: 'linux/amd64',
  }
}

