/**
 * Rootless tcpdump for `kpe node exec`: tcpdump as uid 0 of an unprivileged user namespace dies
 * dropping privileges (setgroups is denied there), so the capture is split in two. A small Python
 * capture reads an AF_PACKET socket inside the namespace (allowed to that uid 0) and writes pcap
 * to a pipe; the real `tcpdump -r -` outside, as the invoking user, filters and prints it.
 */

/** tcpdump's short options that take a value (tcpdump 4.99's getopt string). */
const withValue = new Set('BcCEFGijmMQrsTVwWyzZ'.split(''))

/** Options after which tcpdump captures nothing: run such a command as it is. */
const noCapture = new Set(['r', 'D', 'h', 'L'])
const noCaptureLong = ['--help', '--version', '--list-interfaces', '--list-time-stamp-types']

export interface TcpdumpSplit {
  /** The interface to capture on inside the namespace (tcpdump's `-i`; `any` when none is given). */
  readonly iface: string
  /** tcpdump's argv without its interface, to run with `-r -` on the capture. */
  readonly readerArgs: readonly string[]
}

/**
 * Splits `tcpdump ARGS` into the interface to capture on and the arguments for the reader; undefined
 * when the command is not tcpdump or captures nothing (`-r`, `-D`, `--version`, ...). Option
 * clusters (`-nni eth0`) and options after the filter words are read as tcpdump's getopt does.
 */
export function splitTcpdump(command: readonly string[]): TcpdumpSplit | undefined {
  const [file, ...args] = command
  if (file === undefined || file.split('/').pop() !== 'tcpdump') return undefined
  let iface = 'any'
  const reader: string[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === '--') {
      reader.push(...args.slice(i))
      break
    }
    if (arg.startsWith('--')) {
      if (noCaptureLong.some((o) => arg === o || arg.startsWith(`${o}=`))) return undefined
      if (arg === '--interface') iface = args[++i] ?? iface
      else if (arg.startsWith('--interface=')) iface = arg.slice('--interface='.length)
      else reader.push(arg)
      continue
    }
    if (!arg.startsWith('-') || arg === '-') {
      reader.push(arg)
      continue
    }
    let kept = '-'
    for (let j = 1; j < arg.length; j++) {
      const c = arg[j]!
      if (noCapture.has(c)) return undefined
      if (!withValue.has(c)) {
        kept += c
        continue
      }
      // The rest of the token, or the next argument, is the option's value.
      const value = j + 1 < arg.length ? arg.slice(j + 1) : args[++i]
      if (c === 'i') {
        if (value !== undefined) iface = value
      } else {
        if (kept.length > 1) reader.push(kept)
        kept = '-'
        reader.push(`-${c}`)
        if (value !== undefined) reader.push(value)
      }
      break
    }
    if (kept.length > 1) reader.push(kept)
  }
  return { iface, readerArgs: ['-r', '-', ...reader] }
}

/**
 * The capture, run with `python3 -c` inside the namespace; argv[1] is the interface. A named
 * Ethernet or loopback interface is read whole (pcap link type EN10MB); `any` and other link types
 * are read without their link header and given a Linux cooked header (LINUX_SLL), as libpcap does.
 */
export const packetCaptureScript = String.raw`
import os, signal, socket, struct, sys, time
signal.signal(signal.SIGPIPE, signal.SIG_DFL)
signal.signal(signal.SIGINT, lambda *_: os._exit(0))
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
iface = sys.argv[1]
ETH_P_ALL = 3
try:
    # Unbound, a packet socket sees every interface: that is 'any'.
    cooked = iface == 'any'
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM if cooked else socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    if not cooked:
        s.bind((iface, 0))
        if s.getsockname()[3] not in (1, 772):
            s.close()
            cooked = True
            s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
            s.bind((iface, 0))
except OSError as e:
    sys.stderr.write('kpe capture: %s: %s\n' % (iface, e.strerror or e))
    sys.exit(1)
out = sys.stdout.buffer
out.write(struct.pack('=IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, 113 if cooked else 1))
out.flush()
while True:
    data, addr = s.recvfrom(262144)
    if cooked:
        hw = addr[4][:8]
        data = struct.pack('!HHH8sH', addr[2], addr[3], len(addr[4]), hw.ljust(8, b'\0'), addr[1]) + data
    now = time.time()
    out.write(struct.pack('=IIII', int(now), int((now % 1) * 1e6), len(data), len(data)) + data)
    out.flush()
`
