import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { splitTcpdump } from '../../../src/kernel/packet-capture.js'

describe('splitTcpdump', () => {
  it('takes the interface out of option clusters, long options and anywhere among the filter words', () => {
    expect(splitTcpdump(['tcpdump', '-ni', 'eth0', 'tcp', 'port', '80'])).toEqual({ iface: 'eth0', readerArgs: ['-r', '-', '-n', 'tcp', 'port', '80'] })
    expect(splitTcpdump(['tcpdump', '-nnieth1', '-c', '5'])).toEqual({ iface: 'eth1', readerArgs: ['-r', '-', '-nn', '-c', '5'] })
    expect(splitTcpdump(['/usr/sbin/tcpdump', '--interface=veth-x', '-vc3', 'icmp'])).toEqual({ iface: 'veth-x', readerArgs: ['-r', '-', '-v', '-c', '3', 'icmp'] })
    expect(splitTcpdump(['tcpdump', 'udp', '--interface', 'lo', '-n'])).toEqual({ iface: 'lo', readerArgs: ['-r', '-', 'udp', '-n'] })
    expect(splitTcpdump(['tcpdump', '-w', 'out.pcap'])).toEqual({ iface: 'any', readerArgs: ['-r', '-', '-w', 'out.pcap'] })
  })

  it('leaves commands that are not a capture alone', () => {
    for (const argv of [['iptables-save'], ['tcpdump', '-r', 'x.pcap'], ['tcpdump', '-D'], ['tcpdump', '--version'], ['tcpdump', '-nh'], []]) {
      expect(splitTcpdump(argv), argv.join(' ')).toBeUndefined()
    }
  })

  it('never passes -i on to the reader and keeps every filter word in order', () => {
    const word = fc.constantFrom('tcp', 'port', '80', 'and', 'host', '10.0.0.1', 'or', 'udp')
    const opt = fc.oneof(fc.constantFrom(['-n'], ['-nn'], ['-v'], ['-e'], ['-c', '4'], ['-s', '96'], ['-A']), fc.constantFrom('eth0', 'any', 'lo').map((i) => ['-i', i]))
    fc.assert(fc.property(fc.array(fc.oneof(opt, word.map((w) => [w])), { maxLength: 12 }), (parts) => {
      const split = splitTcpdump(['tcpdump', ...parts.flat()])!
      expect(split.readerArgs.slice(0, 2)).toEqual(['-r', '-'])
      expect(split.readerArgs).not.toContain('-i')
      const words = parts.filter((p) => p.length === 1 && !p[0]!.startsWith('-')).flat()
      expect(split.readerArgs.filter((a, k) => !a.startsWith('-') && !/^-[cs]$/.test(split.readerArgs[k - 1] ?? ''))).toEqual(words)
      const ifaces = parts.filter((p) => p[0] === '-i').map((p) => p[1])
      expect(split.iface).toBe(ifaces.at(-1) ?? 'any')
    }), { seed: 16, numRuns: 300 })
  })
})
