/**
 * Golden: request bodies captured from the real kubectl decode to the objects kubectl meant.
 * Captured once with kubectl v1.32.4 (the 1.33 body for `create deployment` is byte-identical):
 * `kubectl --kubeconfig=/dev/null --server=http://127.0.0.1:PORT create … --dry-run=server`
 * against a throwaway Node HTTP server on 127.0.0.1 port 0 that saved each POST body verbatim
 * (Content-Type application/vnd.kubernetes.protobuf) into kubectl-protobuf/*.pb. The ingress,
 * poddisruptionbudget and priorityclass bodies were captured the same way with kubectl v1.32.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { decodeProtobufObject, encodeProtobufObject, schemaKindFor } from '../../../src/api/index.js'
import { decodeStructured } from '../../../src/api/schema/structural-decode.js'
import { repoRoot } from '../../helpers/shared.js'

const fixture = (name: string): Buffer => readFileSync(join(repoRoot, 'test/unit/api/kubectl-protobuf', name))

// Go writes every non-pointer field, set or not; kpe reads "" and the descriptor's zeroIsUnset zeros
// as unset, so each body decodes to what kubectl's JSON for the same object says.
const golden: readonly (readonly [string, Record<string, unknown>])[] = [
  ['create-deployment-nginx.pb', {
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name: 'nginx', labels: { app: 'nginx' } },
    spec: {
      replicas: 1, selector: { matchLabels: { app: 'nginx' } },
      template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx', resources: {} }] } },
      strategy: {},
    },
    status: {},
  }],
  ['create-namespace-team-a.pb', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' }, spec: {}, status: {} }],
  ['create-configmap-settings.pb', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { level: '3', mode: 'fast' } }],
  // --from-literal=a=b: Secret data is bytes, base64 in JSON
  ['create-secret-generic-s.pb', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { a: 'Yg==' } }],
  ['create-service-nodeport-web.pb', {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', labels: { app: 'web' } },
    spec: { ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }], selector: { app: 'web' }, type: 'NodePort' },
    status: { loadBalancer: {} },
  }],
  // --tcp=8080:http: a named target port is the string side of IntOrString
  ['create-service-clusterip-api.pb', {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', labels: { app: 'api' } },
    spec: { ports: [{ name: '8080-http', protocol: 'TCP', port: 8080, targetPort: 'http' }], selector: { app: 'api' }, type: 'ClusterIP' },
    status: { loadBalancer: {} },
  }],
  // --default-backend=web:http: a port by name; Go also writes the unset port number 0, which JSON leaves out
  ['create-ingress-web.pb', {
    apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web' },
    spec: {
      defaultBackend: { service: { name: 'web', port: { name: 'http' } } },
      rules: [{ host: 'web.localtest.me', http: { paths: [{ path: '/', pathType: 'Exact', backend: { service: { name: 'web', port: { number: 80 } } } }] } }],
    },
    status: { loadBalancer: {} },
  }],
  // globalDefault is a plain bool with omitempty: Go writes false on the wire, its JSON leaves it out
  // --min-available=0 is an IntOrString 0 and stays; status.observedGeneration (int64, omitempty) is unset
  ['create-poddisruptionbudget-web.pb', {
    apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web' },
    spec: { minAvailable: 0, selector: { matchLabels: { app: 'web' } } },
    status: { currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0, expectedPods: 0 },
  }],
  ['create-priorityclass-urgent.pb', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'urgent' }, value: 1000, description: 'kpe', preemptionPolicy: 'PreemptLowerPriority' }],
]

describe('protobuf bodies captured from kubectl create', () => {
  it.each(golden)('%s decodes to the object kubectl sent', (file, expected) => {
    expect(decodeProtobufObject(fixture(file))).toEqual(expected)
  })

  it.each(golden)('%s is in the JSON form kpe\'s JSON decoder reads unchanged', (file) => {
    const object = decodeProtobufObject(fixture(file))
    const k = schemaKindFor(String(object['apiVersion']), String(object['kind']))!
    const r = decodeStructured(k.message, object)
    expect({ typeErrors: r.typeErrors, unknownFields: r.unknownFields, value: r.value }).toEqual({ typeErrors: [], unknownFields: [], value: object })
  })

  it.each(golden)('%s re-encodes to a body that decodes the same', (file) => {
    const object = decodeProtobufObject(fixture(file))
    expect(decodeProtobufObject(encodeProtobufObject(object)!)).toEqual(object)
  })

  it('a body without the k8s magic, or with a kind that has no message, is refused naming why', () => {
    expect(() => decodeProtobufObject(Buffer.from('{"kind":"ConfigMap"}'))).toThrow(/does not appear to be a protobuf message/)
    const body = fixture('create-configmap-settings.pb')
    // The kind string "ConfigMap" sits inside the envelope's typeMeta; rename it to an unknown kind of the same length.
    const renamed = Buffer.from(body.toString('latin1').replace('ConfigMap', 'NoSuchKnd'), 'latin1')
    expect(() => decodeProtobufObject(renamed)).toThrow('no kind "NoSuchKnd" is registered for version "v1"')
    expect(() => decodeProtobufObject(body.subarray(0, body.length - 5))).toThrow(/cannot decode/)
  })
})

describe('pointer strings whose "" means something', () => {
  it('an EndpointSlice port named "" (an unnamed Service port) keeps its name through protobuf', () => {
    const slice = {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'light-x', namespace: 'default' },
      addressType: 'IPv4', endpoints: [{ addresses: ['10.244.3.3'] }], ports: [{ name: '', port: 8080, protocol: 'TCP' }],
    }
    const decoded = decodeProtobufObject(encodeProtobufObject(slice)!) as { ports: { name?: string }[] }
    expect(decoded.ports[0]).toEqual({ name: '', port: 8080, protocol: 'TCP' })
  })
})
