/**
 * curl and wget as the toolbox offers them: plain HTTP/1.1 (no TLS), the flags network labs use
 * (curl -s -S -o -w -H -I -v -m -X -d -f; wget -q -O -T), the real tools' exit codes and error
 * lines. Their connections leave as the pod (http-fetch.ts).
 */
import { MemoryFilesystem } from './memory-filesystem.js'
import type { Command, CommandIO, CommandScope } from './context.js'
import { httpFetch, type FetchFailure, type FetchResponse } from './http-fetch.js'

const curlVersion = 'curl/8.5.0'

interface CurlOptions {
  silent: boolean
  showError: boolean
  verbose: boolean
  head: boolean
  fail: boolean
  output: string | undefined
  writeOut: string | undefined
  headers: [string, string][]
  method: string | undefined
  data: string | undefined
  maxTimeMs: number | undefined
  url: string | undefined
}

type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: number; readonly message: string }

/** curl's flags, short ones bundled (-sS, -sv, -so FILE) or separate; unknown flags are refused by name. */
export function parseCurlArgs(args: readonly string[]): Parsed<CurlOptions> {
  const o: CurlOptions = { silent: false, showError: false, verbose: false, head: false, fail: false, output: undefined, writeOut: undefined, headers: [], method: undefined, data: undefined, maxTimeMs: undefined, url: undefined }
  const takesValue = new Map([['o', 'output'], ['w', 'write-out'], ['H', 'header'], ['X', 'request'], ['d', 'data'], ['m', 'max-time']])
  const set = (name: string, value: string | undefined): Parsed<CurlOptions> | undefined => {
    switch (name) {
      case 's': case 'silent': o.silent = true; return
      case 'S': case 'show-error': o.showError = true; return
      case 'v': case 'verbose': o.verbose = true; return
      case 'I': case 'head': o.head = true; return
      case 'f': case 'fail': o.fail = true; return
      case 'L': case 'location': case 'k': case 'insecure': case 'N': case 'no-buffer': return
      case 'o': case 'output': o.output = value; return
      case 'w': case 'write-out': o.writeOut = value; return
      case 'X': case 'request': o.method = value; return
      case 'd': case 'data': case 'data-raw': o.data = value; return
      case 'H': case 'header': {
        const colon = value!.indexOf(':')
        if (colon <= 0) return { ok: false, code: 2, message: `curl: option -H: the kpe toolbox needs "Name: value" headers\n` }
        o.headers.push([value!.slice(0, colon).trim(), value!.slice(colon + 1).trim()])
        return
      }
      case 'm': case 'max-time': case 'connect-timeout': {
        const n = Number(value)
        if (!Number.isFinite(n) || n < 0) return { ok: false, code: 2, message: `curl: option --${name}: expected a proper numerical parameter\n` }
        o.maxTimeMs = Math.round(n * 1000)
        return
      }
      default:
        return { ok: false, code: 2, message: `curl: option ${name.length === 1 ? '-' : '--'}${name}: is unknown to the kpe toolbox (it knows -s -S -v -I -f -o -w -H -X -d -m)\n` }
    }
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a.startsWith('--') && a.length > 2) {
      const [name, inline] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined]
      const needs = [...takesValue.values()].includes(name) || name === 'data-raw' || name === 'connect-timeout'
      const value = needs ? inline ?? args[++i] : undefined
      if (needs && value === undefined) return { ok: false, code: 2, message: `curl: option --${name}: requires parameter\n` }
      const err = set(name, value)
      if (err) return err
    } else if (a.startsWith('-') && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const f = a[k]!
        if (takesValue.has(f)) {
          const value = k + 1 < a.length ? a.slice(k + 1) : args[++i]
          if (value === undefined) return { ok: false, code: 2, message: `curl: option -${f}: requires parameter\n` }
          const err = set(f, value)
          if (err) return err
          break
        }
        const err = set(f, undefined)
        if (err) return err
      }
    } else if (o.url === undefined) o.url = a
    else return { ok: false, code: 2, message: 'curl: the kpe toolbox fetches one URL per call\n' }
  }
  if (o.url === undefined) return { ok: false, code: 2, message: "curl: no URL specified\ncurl: try 'curl --help' for more information\n" }
  return { ok: true, value: o }
}

/** A URL as curl and wget take it: no scheme means http. */
export function parseFetchUrl(text: string): URL | { readonly scheme: string } | undefined {
  const withScheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(text) ? text : `http://${text}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    return undefined
  }
  if (url.protocol !== 'http:') return { scheme: url.protocol.slice(0, -1) }
  return url
}

function headerLines(r: FetchResponse): string[] {
  const lines = [`HTTP/${r.httpVersion} ${r.statusCode} ${r.statusMessage}`.trimEnd()]
  for (let i = 0; i + 1 < r.rawHeaders.length; i += 2) lines.push(`${r.rawHeaders[i]}: ${r.rawHeaders[i + 1]}`)
  return lines
}

function headerValue(r: FetchResponse, name: string): string {
  for (let i = 0; i + 1 < r.rawHeaders.length; i += 2) if (r.rawHeaders[i]!.toLowerCase() === name) return r.rawHeaders[i + 1]!
  return ''
}

/** curl's -w variables the toolbox knows; others print as curl prints unknown ones (nothing). */
export function renderWriteOut(format: string, v: { httpCode: number; remoteIp: string; remotePort: number; sizeDownload: number; timeTotalS: number; url: string; contentType: string; exitCode: number }): string {
  const vars: Record<string, string> = {
    http_code: String(v.httpCode).padStart(3, '0'), response_code: String(v.httpCode).padStart(3, '0'), remote_ip: v.remoteIp, remote_port: v.remotePort ? String(v.remotePort) : '',
    size_download: String(v.sizeDownload), time_total: v.timeTotalS.toFixed(6), url_effective: v.url, content_type: v.contentType, exitcode: String(v.exitCode),
  }
  return format
    .replace(/%\{([a-z_]+)\}/g, (_m, name: string) => vars[name] ?? '')
    .replace(/\\([nrt\\])/g, (_m, c: string) => ({ n: '\n', r: '\r', t: '\t', '\\': '\\' })[c]!)
}

function curlFailure(f: FetchFailure, host: string): { code: number; message: string } {
  switch (f.stage) {
    case 'resolve': return { code: 6, message: `Could not resolve host: ${f.host}` }
    case 'connect':
      if (f.why === 'timeout') return { code: 28, message: `Failed to connect to ${host} port ${f.port} after ${f.elapsedMs} ms: Timeout was reached` }
      return { code: 7, message: `Failed to connect to ${host} port ${f.port} after ${f.elapsedMs} ms: ${f.why === 'unreachable' ? 'No route to host' : "Couldn't connect to server"}` }
    case 'timeout':
      return f.connected
        ? { code: 28, message: `Operation timed out after ${f.elapsedMs} milliseconds with ${f.receivedBytes} bytes received` }
        : { code: 28, message: `Connection timed out after ${f.elapsedMs} milliseconds` }
    case 'transfer':
      return f.emptyReply ? { code: 52, message: 'Empty reply from server' } : { code: 56, message: `Recv failure: ${f.message}` }
  }
}

export const curl: Command = async (args, io, scope) => {
  const parsed = parseCurlArgs(args)
  if (!parsed.ok) {
    io.stderr(parsed.message)
    return parsed.code
  }
  const o = parsed.value
  const quietErrors = o.silent && !o.showError
  const fail = (code: number, message: string): number => {
    if (!quietErrors) io.stderr(`curl: (${code}) ${message}\n`)
    if (o.writeOut !== undefined) io.stdout(renderWriteOut(o.writeOut, { httpCode: 0, remoteIp: '', remotePort: 0, sizeDownload: 0, timeTotalS: 0, url: o.url!, contentType: '', exitCode: code }))
    return code
  }
  const url = parseFetchUrl(o.url!)
  if (url === undefined) return fail(3, 'URL rejected: Malformed input to a URL function')
  if (!(url instanceof URL)) return fail(1, `Protocol "${url.scheme}" not supported (the kpe toolbox speaks plain http only)`)
  const method = o.method ?? (o.head ? 'HEAD' : o.data !== undefined ? 'POST' : 'GET')
  const headers: [string, string][] = [['User-Agent', curlVersion], ['Accept', '*/*'], ...o.headers]
  if (o.data !== undefined) headers.push(['Content-Length', String(Buffer.byteLength(o.data))], ['Content-Type', 'application/x-www-form-urlencoded'])
  const verbose = (line: string): void => { if (o.verbose) io.stderr(`${line}\n`) }
  const started = scope.ctx.now()
  const result = await httpFetch({ url, method, headers, ...(o.data !== undefined ? { body: Buffer.from(o.data) } : {}), ...(o.maxTimeMs !== undefined ? { timeoutMs: o.maxTimeMs } : {}) }, scope, io.signal, {
    onResolved: (ip, port) => verbose(`*   Trying ${ip.includes(':') ? `[${ip}]` : ip}:${port}...`),
    onConnected: (ip, port) => verbose(`* Connected to ${url.hostname} (${ip}) port ${port}`),
    onRequestHead: (lines) => { for (const l of [...lines, '']) verbose(`> ${l}`.trimEnd()) },
  })
  if (!result.ok) return fail(curlFailure(result.failure, url.hostname).code, curlFailure(result.failure, url.hostname).message)
  const r = result.response
  for (const l of [...headerLines(r), '']) verbose(`< ${l}`.trimEnd())
  if (o.fail && r.statusCode >= 400) return fail(22, `The requested URL returned error: ${r.statusCode}`)
  const out = o.head ? Buffer.from(`${headerLines(r).join('\r\n')}\r\n\r\n`) : r.body
  if (o.output !== undefined && o.output !== '-') {
    if (o.output !== '/dev/null') {
      try {
        scope.ctx.files.write(MemoryFilesystem.normalize(o.output, scope.cwd), out)
      } catch (e) {
        return fail(23, `Failure writing output to destination (${e instanceof Error ? e.message : String(e)})`)
      }
    }
  } else io.stdout(out)
  verbose(`* Connection #0 to host ${url.hostname} left intact`)
  if (o.writeOut !== undefined) {
    io.stdout(renderWriteOut(o.writeOut, { httpCode: r.statusCode, remoteIp: r.ip, remotePort: r.port, sizeDownload: r.body.length, timeTotalS: (scope.ctx.now() - started) / 1000, url: url.href, contentType: headerValue(r, 'content-type'), exitCode: 0 }))
  }
  return 0
}

/** busybox wget: -q, -O FILE (- for stdout), -T SECONDS, -S (print the response headers). */
export const wget: Command = async (args, io, scope) => {
  let quiet = false
  let output: string | undefined
  let timeoutMs: number | undefined
  let serverResponse = false
  let target: string | undefined
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a.startsWith('-') && a.length > 1 && !a.startsWith('--')) {
      for (let k = 1; k < a.length; k++) {
        const f = a[k]!
        if (f === 'q') quiet = true
        else if (f === 'S') serverResponse = true
        else if (f === 'O' || f === 'T') {
          const v = k + 1 < a.length ? a.slice(k + 1) : args[++i]
          if (v === undefined) { io.stderr(`wget: option requires an argument -- '${f}'\n`); return 1 }
          if (f === 'O') output = v
          else timeoutMs = Number(v) * 1000
          break
        } else { io.stderr(`wget: invalid option -- '${f}' (the kpe toolbox knows -q -O -T -S)\n`); return 1 }
      }
    } else if (a.startsWith('--')) {
      const [name, v] = a.slice(2).split(/=(.*)/s, 2)
      if (name === 'quiet') quiet = true
      else if (name === 'output-document' && v !== undefined) output = v
      else if (name === 'timeout' && v !== undefined) timeoutMs = Number(v) * 1000
      else { io.stderr(`wget: unrecognized option '${a}' (the kpe toolbox knows -q -O -T -S)\n`); return 1 }
    } else target = a
  }
  if (target === undefined) { io.stderr('wget: missing URL\n'); return 1 }
  const url = parseFetchUrl(target)
  if (url === undefined) { io.stderr(`wget: bad address '${target}'\n`); return 1 }
  if (!(url instanceof URL)) { io.stderr(`wget: not an http or ftp url: ${target} (the kpe toolbox speaks plain http only)\n`); return 1 }
  const dest = output ?? (url.pathname.split('/').pop() || 'index.html')
  const result = await httpFetch({ url, method: 'GET', headers: [['User-Agent', 'Wget'], ['Connection', 'close']], ...(timeoutMs !== undefined && Number.isFinite(timeoutMs) ? { timeoutMs } : {}) }, scope, io.signal, {
    onResolved: (ip, port) => { if (!quiet) io.stderr(`Connecting to ${url.host} (${ip}:${port})\n`) },
  })
  if (!result.ok) {
    const f = result.failure
    if (f.stage === 'resolve') io.stderr(`wget: bad address '${url.hostname}'\n`)
    else if (f.stage === 'connect') io.stderr(`wget: can't connect to remote host (${f.ip}): ${f.why === 'unreachable' ? 'No route to host' : f.why === 'timeout' ? 'Connection timed out' : 'Connection refused'}\n`)
    else if (f.stage === 'timeout') io.stderr('wget: download timed out\n')
    else io.stderr(`wget: error getting response: ${f.message}\n`)
    return 1
  }
  const r = result.response
  if (serverResponse) for (const l of headerLines(r)) io.stderr(`  ${l}\n`)
  if (r.statusCode >= 400) {
    io.stderr(`wget: server returned error: HTTP/${r.httpVersion} ${r.statusCode} ${r.statusMessage}\n`)
    return 1
  }
  if (dest === '-') {
    if (!quiet) io.stderr('writing to stdout\n')
    io.stdout(r.body)
    if (!quiet) io.stderr('written to stdout\n')
    return 0
  }
  return saveTo(dest, r.body, quiet, io, scope)
}

function saveTo(dest: string, body: Buffer, quiet: boolean, io: CommandIO, scope: CommandScope): number {
  try {
    scope.ctx.files.write(MemoryFilesystem.normalize(dest, scope.cwd), body)
  } catch (e) {
    io.stderr(`wget: can't open '${dest}': ${e instanceof Error ? e.message : String(e)}\n`)
    return 1
  }
  if (!quiet) io.stderr(`saving to '${dest}'\n'${dest}' saved\n`)
  return 0
}
