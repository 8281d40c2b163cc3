/**
 * pods/exec and pods/attach through the ApiServer (memory store, port 0) over WebSocket with a
 * `ws` client and an injected backend: channel framing, the v5 close channel ending stdin, the
 * error channel's Status for exit codes, and the refusals before the handshake. (kubectl's SPDY
 * transport is exercised end to end in test/e2e/kubectl-exec.test.ts.)
 */
import { randomUUID } from 'node:crypto'
import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { ApiServer, type RemoteCommandBackend } from '../../../src/apiserver/index.js'
import { clientStreamSetupMs, parseRemoteCommandOptions } from '../../../src/apiserver/remote-command/index.js'
import { openMemoryStore, type VersionedStore } from '../../../src/store/index.js'
import type { Pod } from '../../../src/api/index.js'

let server: ApiServer | undefined
let store: VersionedStore | undefined
afterEach(async () => {
  await server?.close()
  await store?.close()
  server = store = undefined
})

const pod = (containers = ['c']): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: randomUUID() },
  spec: { nodeName: 'node-a', containers: containers.map((name) => ({ name })) }, status: { phase: 'Running', podIP: '10.244.0.7' },
}) as Pod

/** Echoes stdin to stdout upper-cased, writes argv to stderr, exits with argv[1]. */
const backend: RemoteCommandBackend = {
  async exec(_t, command, streams) {
    streams.stderr?.write(command.join(' '))
    if (streams.stdin) for await (const c of streams.stdin) streams.stdout?.write(String(c).toUpperCase())
    return Number(command[1] ?? 0)
  },
  async attach(t, streams) {
    streams.stdout?.write(`attached to ${t.container}`)
  },
}

async function start(withBackend = true): Promise<string> {
  store = await openMemoryStore()
  await store.create('pods', pod() as never)
  server = await ApiServer.start({ store, port: 0, ...(withBackend ? { remoteCommand: backend } : {}) })
  return server.url.replace('http', 'ws')
}

interface Session { readonly channels: Map<number, string>; readonly protocol: string; readonly closeCode: number }

function session(url: string, protocol: string, send: (ws: WebSocket) => void = () => {}): Promise<Session> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocol)
    const channels = new Map<number, string>()
    ws.on('open', () => send(ws))
    ws.on('message', (d: Buffer) => channels.set(d[0]!, (channels.get(d[0]!) ?? '') + d.subarray(1).toString()))
    ws.on('close', (code) => resolve({ channels, protocol: ws.protocol, closeCode: code }))
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => reject(Object.assign(new Error(body), { status: res.statusCode, body: JSON.parse(body) as unknown })))
    })
    ws.on('error', () => {})
  })
}

const execPath = (q: string): string => `/api/v1/namespaces/default/pods/p/exec?${q}`

describe('exec and attach over WebSocket', () => {
  it('v5: stdin until the close channel, stdout and stderr channels, Success on the error channel', async () => {
    const base = await start()
    const s = await session(`${base}${execPath('command=run&command=0&stdin=true&stdout=true&stderr=true')}`, 'v5.channel.k8s.io', (ws) => {
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('hello')]))
      ws.send(Buffer.from([255, 0]))
    })
    expect(s.protocol).toBe('v5.channel.k8s.io')
    expect(s.channels.get(1)).toBe('HELLO')
    expect(s.channels.get(2)).toBe('run 0')
    expect(JSON.parse(s.channels.get(3)!)).toEqual({ metadata: {}, status: 'Success' })
    expect(s.closeCode).toBe(1000)
  })

  it('survives stdin sent after the v5 close and garbage frames', async () => {
    const base = await start()
    const s = await session(`${base}${execPath('command=run&command=0&stdin=true&stdout=true')}`, 'v5.channel.k8s.io', (ws) => {
      ws.send(Buffer.from([0, 0x61]))
      ws.send(Buffer.from([255, 0]))
      ws.send(Buffer.from([0, 0x62]))
      ws.send(Buffer.from([4, 0x7b, 0x7b]))
      ws.send(Buffer.from([9, 1, 2]))
      ws.send('text frame')
    })
    expect(s.channels.get(1)).toBe('A')
    expect(JSON.parse(s.channels.get(3)!)).toEqual({ metadata: {}, status: 'Success' })
  })

  it('v4 (the Python client): a non-zero exit is NonZeroExitCode with an ExitCode cause', async () => {
    const base = await start()
    const s = await session(`${base}${execPath('command=sh&command=3&stdout=True&stderr=True')}`, 'v4.channel.k8s.io')
    expect(JSON.parse(s.channels.get(3)!)).toEqual({
      metadata: {}, status: 'Failure', reason: 'NonZeroExitCode',
      message: 'command terminated with non-zero exit code: error executing command [sh 3], exit code 3',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    })
  })

  it('attach runs the backend attach for the only container', async () => {
    const base = await start()
    const s = await session(`${base}/api/v1/namespaces/default/pods/p/attach?stdout=true`, 'v5.channel.k8s.io')
    expect(s.channels.get(1)).toBe('attached to c')
  })

  it('sends nothing until the client can have registered its streams, and runs nothing for a client gone before then', async () => {
    // client-go drops frames read before its stream goroutine registered their channel and fails
    // the session on an early close ("closed all streams"): the command waits clientStreamSetupMs.
    const base = await start()
    let opened = 0
    let firstFrame = 0
    const quiet = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${base}${execPath('command=run&command=0&stdout=true&stderr=true')}`, 'v5.channel.k8s.io')
      ws.on('open', () => { opened = performance.now() })
      ws.on('message', () => { if (firstFrame === 0) firstFrame = performance.now() })
      ws.on('close', () => resolve(firstFrame - opened))
    })
    // the server's timer starts before the client reads the 101, so allow the handshake's own time
    expect(quiet).toBeGreaterThanOrEqual(clientStreamSetupMs - 10)
    let ran = 0
    const counting: RemoteCommandBackend = { ...backend, exec: async () => { ran++; return 0 } }
    await server!.close()
    server = await ApiServer.start({ store: store!, port: 0, remoteCommand: counting })
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(`${server!.url.replace('http', 'ws')}${execPath('command=run&stdout=true')}`, 'v5.channel.k8s.io')
      ws.on('open', () => ws.terminate())
      ws.on('close', () => resolve())
    })
    await new Promise((r) => setTimeout(r, clientStreamSetupMs * 2))
    expect(ran).toBe(0)
  })

  it('refuses before the handshake with Status bodies', async () => {
    const base = await start()
    await expect(session(`${base}${execPath('stdout=true')}`, 'v5.channel.k8s.io')).rejects.toMatchObject({ status: 400, body: { reason: 'BadRequest', message: 'you must specify at least 1 command' } })
    await expect(session(`${base}${execPath('command=x')}`, 'v5.channel.k8s.io')).rejects.toMatchObject({ status: 400, body: { message: 'you must specify at least 1 of stdin, stdout, stderr' } })
    await expect(session(`${base}${execPath('command=x&stdout=yes')}`, 'v5.channel.k8s.io')).rejects.toMatchObject({ status: 400 })
    await expect(session(`${base}${execPath('command=x&stdout=1&container=nope')}`, 'v5.channel.k8s.io')).rejects.toMatchObject({ body: { message: 'container nope is not valid for pod p' } })
    await expect(session(`${base}${execPath('command=x&stdout=1')}`, 'base64.channel.k8s.io')).rejects.toMatchObject({ status: 400 })
    await expect(session(`${base}/api/v1/namespaces/default/pods/q/exec?command=x&stdout=1`, 'v5.channel.k8s.io')).rejects.toMatchObject({ status: 404, body: { reason: 'NotFound' } })
  })

  it('answers 503 without node agents, and 400 to a plain request', async () => {
    const base = await start(false)
    await expect(session(`${base}${execPath('command=x&stdout=1')}`, 'v5.channel.k8s.io')).rejects.toMatchObject({ status: 503 })
    const status = await new Promise<number>((resolve) => request(`${server!.url}${execPath('command=x&stdout=1')}`, { method: 'POST' }, (res) => { res.resume(); resolve(res.statusCode ?? 0) }).end())
    expect(status).toBe(400)
  })
})

describe('exec options', () => {
  it('drops stderr under a terminal and asks for a container name when there are several', () => {
    expect(parseRemoteCommandOptions('exec', new URLSearchParams('command=sh&stdout=true&stderr=true&tty=true'), pod())).toMatchObject({ stderr: false, tty: true, container: 'c' })
    expect(() => parseRemoteCommandOptions('exec', new URLSearchParams('command=sh&stdout=1'), pod(['a', 'b']))).toThrow('a container name must be specified for pod p, choose one of: [a b]')
  })
})

describe('the resize channel', () => {
  it('decodes sizes split across chunks and glued together, skipping what is not a size', async () => {
    const { ResizeDecoder } = await import('../../../src/apiserver/remote-command/index.js')
    const d = new ResizeDecoder()
    expect(d.push('{"Width":80,')).toEqual([])
    expect(d.push('"Height":24}{"Width":120,"Height":40}{"x":1}')).toEqual([{ width: 80, height: 24 }, { width: 120, height: 40 }])
    expect(d.push('not json}')).toEqual([])
    expect(d.push('{"Width":1,"Height":2}')).toEqual([{ width: 1, height: 2 }])
  })
})
