import { describe, expect, it } from 'vitest'
import { assignPodIP, podCidrGateway } from '../../../src/net/index.js'

describe('pod IP assignment', () => {
  it.each([
    { name: 'the first pod gets .2 (.0 is the network, .1 the gateway)', cidr: '10.244.1.0/24', inUse: [], preferred: undefined, want: '10.244.1.2' },
    { name: 'skips addresses in use', cidr: '10.244.1.0/24', inUse: ['10.244.1.2', '10.244.1.3'], preferred: undefined, want: '10.244.1.4' },
    { name: 'keeps a free preferred address from the pod status', cidr: '10.244.0.0/24', inUse: ['10.244.0.2'], preferred: '10.244.0.10', want: '10.244.0.10' },
    { name: 'ignores a preferred address outside the CIDR', cidr: '10.244.0.0/24', inUse: [], preferred: '10.244.9.10', want: '10.244.0.2' },
    { name: 'never hands out the gateway, even when preferred', cidr: '10.244.0.0/24', inUse: [], preferred: '10.244.0.1', want: '10.244.0.2' },
    { name: 'never hands out the broadcast address', cidr: '10.244.0.0/30', inUse: ['10.244.0.2'], preferred: '10.244.0.3', want: undefined },
    { name: 'a full CIDR gives nothing', cidr: '10.244.0.0/29', inUse: ['10.244.0.2', '10.244.0.3', '10.244.0.4', '10.244.0.5', '10.244.0.6'], preferred: undefined, want: undefined },
    { name: 'IPv6 pod CIDRs work the same way', cidr: 'fd00:10:244:1::/64', inUse: [], preferred: undefined, want: 'fd00:10:244:1::2' },
  ])('$name', ({ cidr, inUse, preferred, want }) => {
    expect(assignPodIP(cidr, new Set(inUse), preferred)).toBe(want)
  })

  it('the gateway is the CIDR\'s first address', () => {
    expect(podCidrGateway('10.244.2.0/24')).toBe('10.244.2.1')
  })
})
