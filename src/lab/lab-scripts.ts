/**
 * The two small Node.js programs the lab runs inside its namespaces, as source text written to
 * the lab's state directory: the pod server (answers `<pod> <client-ip>:<client-port>` on each
 * TCP port, also as HTTP, and echoes the same on each UDP port) and the prober (opens N
 * connections and reports which pod answered, what it saw, and refused / timed-out counts).
 * Plain ESM with no imports beyond node:*, so `node FILE` runs them anywhere.
 */

export const podServerScript = `// kpe lab pod server: node pod-server.mjs POD_NAME tcp/8080 udp/53 ...
import net from 'node:net'
import dgram from 'node:dgram'
const [name, ...specs] = process.argv.slice(2)
const clean = (a) => (a && a.startsWith('::ffff:') ? a.slice(7) : a)
let pending = specs.length
const ready = () => { if (--pending === 0) process.stdout.write('ready ' + process.pid + '\\n') }
for (const spec of specs) {
  const [proto, portText] = spec.split('/')
  const port = Number(portText)
  if (proto === 'tcp') {
    const server = net.createServer((sock) => {
      const line = name + ' ' + clean(sock.remoteAddress) + ':' + sock.remotePort
      sock.on('error', () => {})
      let done = false
      const answer = (http) => {
        if (done) return
        done = true
        if (http) sock.end('HTTP/1.1 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: ' + (line.length + 1) + '\\r\\nConnection: close\\r\\n\\r\\n' + line + '\\n')
        else sock.end(line + '\\n')
      }
      sock.once('data', (d) => answer(/^[A-Z]+ \\S+ HTTP\\//.test(d.toString('latin1'))))
      setTimeout(() => answer(false), 500).unref()
    })
    server.on('error', (e) => { process.stderr.write(spec + ': ' + e.message + '\\n'); process.exit(1) })
    server.listen({ port, host: '0.0.0.0' }, ready)
  } else if (proto === 'udp') {
    const sock = dgram.createSocket('udp4')
    sock.on('message', (_msg, r) => sock.send(name + ' ' + r.address + ':' + r.port + '\\n', r.port, r.address))
    sock.on('error', (e) => { process.stderr.write(spec + ': ' + e.message + '\\n'); process.exit(1) })
    sock.bind(port, '0.0.0.0', ready)
  } else ready()
}
if (specs.length === 0) process.stdout.write('ready ' + process.pid + '\\n')
process.on('SIGTERM', () => process.exit(0))
`

export const probeScript = `// kpe lab prober: node probe.mjs JSON (one request or an array, run in order); prints one JSON line.
import net from 'node:net'
import dgram from 'node:dgram'
const input = JSON.parse(process.argv[2])
const results = []
for (const o of Array.isArray(input) ? input : [input]) results.push(await probe(o))
process.stdout.write(JSON.stringify(Array.isArray(input) ? results : results[0]) + '\\n')

async function probe(o) {
const result = { answers: {}, refused: 0, timeout: 0, other: {}, attempts: 0 }
const pods = new Set()
function one() {
  return new Promise((resolve) => {
    let settled = false
    const finish = (kind, text) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve({ kind, text })
    }
    const timer = setTimeout(() => { finish('timeout'); cleanup() }, o.timeoutMs)
    let cleanup = () => {}
    if (o.proto === 'udp') {
      const s = dgram.createSocket('udp4')
      cleanup = () => s.close()
      s.on('error', (e) => { finish(e.code === 'ECONNREFUSED' ? 'refused' : 'other', e.code); cleanup() })
      s.on('message', (m) => { finish('answer', m.toString()); cleanup() })
      s.bind({ port: 0, ...(o.src ? { address: o.src } : {}) }, () => {
        s.connect(o.port, o.dst, (err) => {
          if (err) { finish('other', err.code); cleanup(); return }
          s.send('x\\n')
        })
      })
    } else {
      const c = net.connect({ host: o.dst, port: o.port, ...(o.src ? { localAddress: o.src } : {}) })
      cleanup = () => c.destroy()
      let buf = ''
      c.on('connect', () => c.write('x\\n'))
      c.on('data', (d) => { buf += d })
      c.on('end', () => { finish('answer', buf); cleanup() })
      c.on('error', (e) => { finish(e.code === 'ECONNREFUSED' ? 'refused' : 'other', e.code); cleanup() })
    }
  })
}
function record(r) {
  result.attempts++
  if (r.kind === 'answer') {
    const [pod, seen] = r.text.trim().split(' ')
    const key = pod + ' ' + (seen || '').replace(/:\\d+$/, '')
    result.answers[key] = (result.answers[key] || 0) + 1
    pods.add(pod)
  } else if (r.kind === 'refused') result.refused++
  else if (r.kind === 'timeout') result.timeout++
  else result.other[r.text] = (result.other[r.text] || 0) + 1
}
const expected = new Set(o.expect || [])
const covered = () => [...expected].every((k) => pods.has(k) || (k === 'refused' && result.refused > 0) || (k === 'timeout' && result.timeout > 0))
// The first connection alone: with session affinity it decides the pinning for the rest.
record(await one())
while (result.attempts < o.max && (result.attempts < o.min || !covered())) {
  // After a timeout, run the rest of the minimum at once rather than waiting batch by batch.
  const width = result.timeout > 0 ? Math.max(o.parallel, o.min - result.attempts) : o.parallel
  const n = Math.min(width, o.max - result.attempts)
  for (const r of await Promise.all(Array.from({ length: n }, one))) record(r)
}
return result
}
`
