/** The API server sets status.qosClass when a pod is created, as upstream's pod strategy does. */
import { describe, expect, it } from 'vitest'
import { apiServerPerTest, callJson } from '../../helpers/api-server.js'

const api = apiServerPerTest()

describe('qosClass on create', () => {
  it('is computed from the containers\' requests and limits before any kubelet reports', async () => {
    const url = await api.start()
    const pod = (name: string, resources: object) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'nginx', resources }] } })
    const created = await Promise.all([
      callJson(`${url}/api/v1/namespaces/default/pods`, 'POST', pod('g', { limits: { cpu: '1', memory: '1Gi' } })),
      callJson(`${url}/api/v1/namespaces/default/pods`, 'POST', pod('b', { requests: { memory: '1Gi' } })),
      callJson(`${url}/api/v1/namespaces/default/pods`, 'POST', pod('e', {})),
    ])
    expect(created.map((r) => [r.status, (r.json['status'] as { qosClass?: string } | undefined)?.qosClass])).toEqual([[201, 'Guaranteed'], [201, 'Burstable'], [201, 'BestEffort']])
  })
})
