#!/usr/bin/env node
/**
 * Generates src/api/schema/api-schema.json from upstream's generated.proto files (k8s.io/api and
 * apimachinery, laid out by import path under ../shared/k8s-api-proto): every message with its
 * fields' names, numbers and types, and where a field's JSON form differs (inline, renamed).
 * Names, numbers and types only: no comments or prose.
 * Usage: npm run schema:generate [-- PROTO_ROOT [OUT_FILE]]
 */
import { readdirSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const defaultProtoRoot = resolve(repoRoot, '..', 'shared', 'k8s-api-proto')
export const defaultOutFile = join(repoRoot, 'src', 'api', 'schema', 'api-schema.json')

/** Every generated.proto under root, as import paths ("k8s.io/api/core/v1/generated.proto"), sorted. */
export function protoFiles(root) {
  const out = []
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith('.proto')) out.push(relative(root, p).split(sep).join('/'))
    }
  }
  walk(root)
  return out.sort()
}

function allTypes(ns, into = []) {
  for (const child of ns.nestedArray) {
    if (child instanceof protobuf.Type) into.push(child)
    if (child instanceof protobuf.Namespace) allTypes(child, into)
  }
  return into
}

const strip = (fullName) => fullName.replace(/^\./, '')

/**
 * Where the JSON form differs from the proto field (facts from k8s.io/api's Go types, which the
 * .proto files do not carry): embedded structs whose fields sit inline in the parent's JSON
 * (`json:""`), and the fields whose JSON name is not the proto name.
 */
const inlineFields = new Set([
  'k8s.io.api.core.v1.Volume.volumeSource',
  'k8s.io.api.core.v1.PersistentVolumeSpec.persistentVolumeSource',
  'k8s.io.api.core.v1.SecretProjection.localObjectReference',
  'k8s.io.api.core.v1.ConfigMapVolumeSource.localObjectReference',
  'k8s.io.api.core.v1.ConfigMapProjection.localObjectReference',
  'k8s.io.api.core.v1.ConfigMapKeySelector.localObjectReference',
  'k8s.io.api.core.v1.SecretKeySelector.localObjectReference',
  'k8s.io.api.core.v1.ConfigMapEnvSource.localObjectReference',
  'k8s.io.api.core.v1.SecretEnvSource.localObjectReference',
  'k8s.io.api.core.v1.Probe.handler',
  'k8s.io.api.core.v1.EphemeralContainer.ephemeralContainerCommon',
  'k8s.io.api.networking.v1.IngressRule.ingressRuleValue',
])
const jsonNames = new Map([
  ['k8s.io.api.authentication.v1.BoundObjectReference.uID', 'uid'],
  ['k8s.io.api.networking.v1.IngressClassParametersReference.aPIGroup', 'apiGroup'],
])

/**
 * Non-pointer numbers and booleans whose JSON tag has omitempty (facts from the Go types): Go's
 * protobuf encoder writes them even when unset, its JSON encoder leaves a zero out, so a zero
 * read from protobuf means unset. Only fields typed clients are seen to send; a pointer field
 * (replicas, shareProcessNamespace) must never be listed, its zero is a value.
 */
const zeroIsUnsetFields = new Set([
  'k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.generation',
  'k8s.io.api.core.v1.Container.stdin',
  'k8s.io.api.core.v1.Container.stdinOnce',
  'k8s.io.api.core.v1.Container.tty',
  'k8s.io.api.core.v1.ContainerPort.hostPort',
  'k8s.io.api.core.v1.PodSpec.hostNetwork',
  'k8s.io.api.core.v1.PodSpec.hostPID',
  'k8s.io.api.core.v1.PodSpec.hostIPC',
  'k8s.io.api.core.v1.ServicePort.nodePort',
  'k8s.io.api.core.v1.ServiceSpec.healthCheckNodePort',
  'k8s.io.api.core.v1.ServiceSpec.publishNotReadyAddresses',
  'k8s.io.api.apps.v1.DeploymentSpec.minReadySeconds',
  'k8s.io.api.apps.v1.DeploymentSpec.paused',
  'k8s.io.api.apps.v1.DeploymentStatus.observedGeneration',
  'k8s.io.api.apps.v1.DeploymentStatus.replicas',
  'k8s.io.api.apps.v1.DeploymentStatus.updatedReplicas',
  'k8s.io.api.apps.v1.DeploymentStatus.readyReplicas',
  'k8s.io.api.apps.v1.DeploymentStatus.availableReplicas',
  'k8s.io.api.apps.v1.DeploymentStatus.unavailableReplicas',
  'k8s.io.api.batch.v1.JobStatus.active',
  'k8s.io.api.batch.v1.JobStatus.succeeded',
  'k8s.io.api.batch.v1.JobStatus.failed',
  'k8s.io.api.networking.v1.ServiceBackendPort.number',
  'k8s.io.api.scheduling.v1.PriorityClass.globalDefault',
  'k8s.io.api.policy.v1.PodDisruptionBudgetStatus.observedGeneration',
])

function describeField(message, f) {
  const type = f.resolvedType ? strip(f.resolvedType.fullName) : f.type
  const key = `${message}.${f.name}`
  const out = { name: f.name, number: f.id, type }
  if (f.map) out.keyType = f.keyType
  else if (f.repeated) out.repeated = true
  if (inlineFields.has(key)) out.inline = true
  if (jsonNames.has(key)) out.jsonName = jsonNames.get(key)
  if (zeroIsUnsetFields.has(key)) out.zeroIsUnset = true
  return out
}

/** Fails when a listed JSON difference names a field the .proto files no longer have. */
function checkJsonFacts(messages) {
  const known = new Set(messages.flatMap(([name, fields]) => fields.map((f) => `${name}.${f.name}`)))
  for (const key of [...inlineFields, ...jsonNames.keys(), ...zeroIsUnsetFields]) {
    if (!known.has(key)) throw new Error(`gen-api-schema: ${key} is listed as a JSON difference but is not in the .proto files`)
  }
}

/** The descriptor as a JSON text (one message a line, so diffs stay readable). */
export function generateApiSchema(protoRoot = defaultProtoRoot) {
  const root = new protobuf.Root()
  root.resolvePath = (_origin, target) => join(protoRoot, target)
  root.loadSync(protoFiles(protoRoot), { keepCase: true })
  root.resolveAll()
  const messages = allTypes(root)
    .map((t) => [strip(t.fullName), t.fieldsArray.map((f) => describeField(strip(t.fullName), f)).sort((a, b) => a.number - b.number)])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  checkJsonFacts(messages)
  const lines = messages.map(([name, fields]) => `    ${JSON.stringify(name)}: ${JSON.stringify(fields)}`)
  return `{\n  "generatedBy": "scripts/gen-api-schema.mjs",\n  "messages": {\n${lines.join(',\n')}\n  }\n}\n`
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [protoRoot = defaultProtoRoot, outFile = defaultOutFile] = process.argv.slice(2)
  const text = generateApiSchema(resolve(protoRoot))
  writeFileSync(outFile, text)
  console.log(`wrote ${relative(process.cwd(), outFile)} (${text.length} bytes)`)
}
