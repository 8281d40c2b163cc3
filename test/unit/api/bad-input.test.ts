import { describe, expect, it } from 'vitest'
import { checkDuplicates, emptyManifestSet, loadManifestText, parseProxierConfigFile } from '../../../src/api/index.js'
import { InputError } from '../../../src/errors.js'
import { clusterObjects } from '../../../src/proxy/model/index.js'

const svc = (spec: string, extraMeta = ''): string => `apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default${extraMeta}
spec:
${spec}`

function inputError(fn: () => unknown): InputError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(InputError)
    return err as InputError
  }
  throw new Error('expected an InputError')
}

describe('bad manifests are rejected with file, document, object and field path', () => {
  it.each([
    ['malformed YAML', 'kind: Service\n  bad: [indent', undefined, /malformed YAML at line/],
    ['unknown kind', 'apiVersion: v1\nkind: Servce\nmetadata: {name: x}', 'kind', /unknown kind "Servce"/],
    ['wrong apiVersion', 'apiVersion: v2\nkind: Service\nmetadata: {name: x}\nspec: {ports: [{port: 80}]}', 'apiVersion', /served as v1/],
    ['port out of range', svc('  ports:\n  - port: 70000'), 'spec.ports[0].port', /between 1 and 65535/],
    ['nodePort out of range', svc('  type: NodePort\n  ports:\n  - port: 80\n    nodePort: 0x10000'), 'spec.ports[0].nodePort', /between 1 and 65535/],
    ['invalid clusterIP', svc('  clusterIP: 10.96.0.300\n  ports:\n  - port: 80'), 'spec.clusterIP', /valid IP address/],
    ['invalid externalIP', svc('  externalIPs: [not-an-ip]\n  ports:\n  - port: 80'), 'spec.externalIPs[0]', /valid IP address/],
    ['invalid source range', svc('  type: LoadBalancer\n  loadBalancerSourceRanges: [203.0.113.0/33]\n  ports:\n  - port: 80'), 'spec.loadBalancerSourceRanges[0]', /valid CIDR/],
    ['duplicate port names', svc('  ports:\n  - name: http\n    port: 80\n  - name: http\n    port: 81'), 'spec.ports[1].name', /Duplicate value: "http"/],
    ['missing port name with two ports', svc('  ports:\n  - port: 80\n  - name: b\n    port: 81'), 'spec.ports[0].name', /name is required/],
    ['bad protocol', svc('  ports:\n  - port: 80\n    protocol: ICMP'), 'spec.ports[0].protocol', /Unsupported value: "ICMP"/],
    ['unknown field', svc('  ports:\n  - port: 80\n  clusterIp: 10.96.0.1'), 'spec.clusterIp', /unknown field/],
    ['bad label value', svc('  selector: {app: "no spaces allowed"}\n  ports:\n  - port: 80'), 'spec.selector.app', /valid label/],
    ['affinity timeout', svc('  sessionAffinity: ClientIP\n  sessionAffinityConfig: {clientIP: {timeoutSeconds: 0}}\n  ports:\n  - port: 80'), 'spec.sessionAffinityConfig.clientIP.timeoutSeconds', /greater than 0/],
    ['bad name', 'apiVersion: v1\nkind: Service\nmetadata: {name: Web}\nspec: {ports: [{port: 80}]}', 'metadata.name', /DNS-1035/],
    ['slice address of the wrong family', 'apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s, labels: {kubernetes.io/service-name: web}}\naddressType: IPv4\nendpoints:\n- addresses: ["fd00::1"]', 'endpoints[0].addresses[0]', /IPv4 address/],
    ['pod CIDR', 'apiVersion: v1\nkind: Node\nmetadata: {name: n}\nspec: {podCIDR: 10.244.0.0/99}', 'spec.podCIDR', /valid CIDR/],
    ['list item', 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n  spec: {ports: [{port: 0}]}', 'items[0].spec.ports[0].port', /between 1 and 65535/],
  ])('%s', (_name, text, field, message) => {
    const err = inputError(() => loadManifestText(text, 'bad.yaml'))
    expect(err.code).toBe('KPE_INPUT')
    expect(err.location.file).toBe('bad.yaml')
    expect(err.location.document).toBe(1)
    expect(err.location.field).toBe(field)
    expect(err.message).toMatch(message)
  })

  it('names the document and object in a multi-document file, and keeps what was loaded before', () => {
    const set = loadManifestText(svc('  ports:\n  - port: 80'), 'good.yaml')
    const err = inputError(() => loadManifestText(`${svc('  ports:\n  - port: 80', '')}\n---\n${svc('  ports:\n  - port: -1').replace('name: web', 'name: api')}`, 'two.yaml', set))
    expect(err.location.document).toBe(2)
    expect(err.location.object).toBe('Service default/api')
    expect(err.message).toContain('two.yaml, document 2 (Service default/api): spec.ports[0].port')
    expect(set.services).toHaveLength(1)
  })

  it('rejects the same object defined twice', () => {
    const set = loadManifestText(`${svc('  ports:\n  - port: 80')}\n---\n${svc('  ports:\n  - port: 81')}`, 'dup.yaml', emptyManifestSet())
    const err = inputError(() => checkDuplicates(set))
    expect(err.location.field).toBe('metadata.name')
    expect(err.message).toMatch(/already defined in dup.yaml, document 1/)
  })

  it('rejects a named targetPort that no selected pod defines (selector/port mismatch)', () => {
    const pod = `apiVersion: v1
kind: Pod
metadata: {name: p, labels: {app: web}}
spec:
  containers:
  - name: c
    ports: [{name: web, containerPort: 8080}]
status: {podIP: 10.244.0.2, conditions: [{type: Ready, status: "True"}]}`
    const set = loadManifestText(`${svc('  selector: {app: web}\n  ports:\n  - port: 80\n    targetPort: http')}\n---\n${pod}`, 'mismatch.yaml')
    const err = inputError(() => clusterObjects(set))
    expect(err.location.field).toBe('spec.ports[0].targetPort')
    expect(err.message).toMatch(/"http" matches no container port/)
    expect(err.hint).toMatch(/name the container port/)
  })

  it('rejects an EndpointSlice that does not name its Service', () => {
    const set = loadManifestText('apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: s}\naddressType: IPv4\nendpoints: []', 'slice.yaml')
    const err = inputError(() => clusterObjects(set))
    expect(err.location.field).toBe('metadata.labels["kubernetes.io/service-name"]')
  })

  it('rejects a bad KubeProxyConfiguration with the field path', () => {
    const err = inputError(() => parseProxierConfigFile('apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.0.0.0/40', 'kp.yaml'))
    expect(err.location.field).toBe('clusterCIDR')
    const err2 = inputError(() => parseProxierConfigFile('kubeProxyConfiguration:\n  iptables: {masqueradeBit: 40}', 'cfg.yaml'))
    expect(err2.location.field).toBe('kubeProxyConfiguration.iptables.masqueradeBit')
    const err3 = inputError(() => parseProxierConfigFile('kubeProxyConfiguration: {}\nproxier: {nodeNme: x}', 'cfg.yaml'))
    expect(err3.location.field).toBe('proxier.nodeNme')
  })
})
