import { describe, expect, it } from 'vitest'
import { containerPlan, httpReply, udpReply, type PodIdentity } from '../../../src/kubelet/index.js'

const pod: PodIdentity = { namespace: 'default', name: 'web-1', podIP: '10.244.0.2', node: 'node-a' }
const seen = { address: '192.168.77.10', port: 40000 }

describe('container behaviour from image and args', () => {
  it('agnhost netexec serves HTTP and UDP on its flags\' ports', () => {
    const plan = containerPlan({ name: 'a', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['netexec', '--http-port=8080', '--udp-port=8081'] }, { allowExec: false })
    expect(plan).toEqual({ behaviour: { kind: 'netexec' }, ports: [{ port: 8080, proto: 'tcp' }, { port: 8081, proto: 'udp' }] })
  })

  it('http-echo takes -text and -listen', () => {
    const plan = containerPlan({ name: 'e', image: 'hashicorp/http-echo:1.0', args: ['-listen=:5678', '-text=hello'] }, { allowExec: false })
    expect(plan).toEqual({ behaviour: { kind: 'http-echo', text: 'hello' }, ports: [{ port: 5678, proto: 'tcp' }] })
  })

  it('an unknown image with a command runs only with allowExec', () => {
    const c = { name: 'x', image: 'busybox', command: ['nc', '-l'], ports: [{ containerPort: 9000 }] }
    expect(containerPlan(c, { allowExec: false }).behaviour).toEqual({ kind: 'echo' })
    expect(containerPlan(c, { allowExec: true }).behaviour).toEqual({ kind: 'exec', argv: ['nc', '-l'] })
  })

  it('agnhost pause listens nowhere', () => {
    expect(containerPlan({ name: 'p', image: 'registry.k8s.io/e2e-test-images/agnhost:2.53', args: ['pause'] }, { allowExec: false }).ports).toEqual([])
  })
})

describe('built-in replies', () => {
  it.each([
    ['/hostname', 'web-1'],
    ['/clientip', '192.168.77.10:40000'],
    ['/echo?msg=hi%20there', 'hi there'],
  ])('netexec %s', (url, body) => {
    expect(httpReply({ kind: 'netexec' }, { method: 'GET', url, seen }, pod).body).toBe(body)
  })

  it('the default echo names the pod and the client it saw', () => {
    expect(httpReply({ kind: 'echo' }, { method: 'GET', url: '/x', seen }, pod).body).toContain('client 192.168.77.10:40000')
  })

  it('netexec UDP answers hostname, echo and clientip', () => {
    expect(udpReply({ kind: 'netexec' }, 'hostname', seen, pod)).toBe('web-1')
    expect(udpReply({ kind: 'netexec' }, 'echo abc', seen, pod)).toBe('abc')
    expect(udpReply({ kind: 'netexec' }, 'clientip', seen, pod)).toBe('192.168.77.10:40000')
  })
})
