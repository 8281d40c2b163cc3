/** The emulated servers' request lines, written to the container log with the peer the pod saw. */
import { createSocket } from 'node:dgram'
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { httpRequestLine, SeenSourceTable, startPodServer, tcpConnectionLine, udpDatagramLine } from '../../../src/kubelet/index.js'

const pod = { namespace: 'default', name: 'p', podIP: '10.244.0.9', node: 'node-a' }

describe('request log lines', () => {
  it('have one fixed shape per protocol, quoting what the client sent', () => {
    expect(httpRequestLine({ peer: { address: '10.244.1.3', port: 4000 }, method: 'GET', url: '/a"b', httpVersion: '1.1', status: 200, bytes: 7, userAgent: 'curl/8' }))
      .toBe('http 10.244.1.3:4000 "GET /a\\"b HTTP/1.1" 200 7 "curl/8"\n')
    expect(tcpConnectionLine({ address: 'fd00::1', port: 9 })).toBe('tcp [fd00::1]:9 echo\n')
    expect(udpDatagramLine({ address: '10.0.0.1', port: 53 }, 'hi\n')).toBe('udp 10.0.0.1:53 3 "hi\\x0a"\n')
  })

  it('name the source the rules left (the seen-source table), for TCP echo and UDP', async () => {
    const seen = new SeenSourceTable()
    const lines: string[] = []
    const tcp = await startPodServer({ behaviour: { kind: 'echo' }, proto: 'tcp', pod, seen, log: (l) => lines.push(l) })
    const udp = await startPodServer({ behaviour: { kind: 'echo' }, proto: 'udp', pod, seen, log: (l) => lines.push(l) })
    try {
      await new Promise<void>((resolve, reject) => {
        const s = connect(tcp.local.port, tcp.local.address)
        s.on('error', reject)
        s.once('connect', () => { seen.record('127.0.0.1', s.localPort!, { address: '10.244.2.2', port: 5555 }); s.write('raw bytes\n') })
        s.once('data', () => { s.destroy(); resolve() })
      })
      await new Promise<void>((resolve) => {
        const u = createSocket('udp4')
        u.once('message', () => { u.close(); resolve() })
        u.send('ping', udp.local.port, udp.local.address)
      })
      expect(lines[0]).toBe('tcp 10.244.2.2:5555 echo\n')
      expect(lines[1]).toMatch(/^udp 127\.0\.0\.1:\d+ 4 "ping"\n$/)
    } finally {
      await tcp.close()
      await udp.close()
    }
  })
})
