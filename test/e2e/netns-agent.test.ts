/**
 * The namespace agent without root: two network namespaces in one user namespace joined by a
 * veth, an agent in each (dist/src/netns/netns-agent-main.js). A listener in one and a dial from
 * the other carry bytes both ways with half-close and reset, and handed-over UDP sockets carry
 * datagrams; the kernel's REJECT, DROP and an unreachable route come back as ECONNREFUSED,
 * ETIMEDOUT and EHOSTUNREACH; a DNAT shows the addresses as each namespace saw them; an agent
 * whose kpe dies exits; holders are removed after.
 */
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import type { Socket } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { missingLabPrerequisites, nsenterArgv, rootlessUnavailable, startNetnsHolder, startUserNamespace, type UserNamespaceHolder } from '../../src/lab/index.js'
import { DialError, startNetnsAgent, type HandedConnection, type NetnsAgent } from '../../src/netns/index.js'
import { requireUserNamespace } from '../helpers/root.js'
import { repoRoot } from '../helpers/shared.js'

const agentMain = join(repoRoot, 'dist/src/netns/netns-agent-main.js')
const why = missingLabPrerequisites({ commands: ['ip', 'iptables-nft', 'nsenter', 'unshare'], rootless: true })
  ?? rootlessUnavailable()
  ?? (existsSync(agentMain) ? undefined : `${agentMain} is missing (npx tsc -p tsconfig.build.json)`)

function isLive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '')[0] !== 'Z'
  } catch {
    return false
  }
}

async function gone(pid: number, ms = 5000): Promise<boolean> {
  for (let t = 0; t < ms; t += 20) {
    if (!isLive(pid)) return true
    await sleep(20)
  }
  return false
}

/** Reads a socket to its end (or close), as text. */
function readAll(s: Socket): Promise<string> {
  let text = ''
  s.setEncoding('utf8')
  s.on('data', (d: string) => (text += d))
  return new Promise((resolve, reject) => {
    s.on('end', () => resolve(text))
    s.on('error', reject)
  })
}

if (requireUserNamespace('netns-agent', why)) {
  describe('namespace agent (rootless)', () => {
    let user: UserNamespaceHolder
    let holderB: number
    let a: NetnsAgent
    let b: NetnsAgent
    const run = (pid: number, argv: string[]): string => execFileSync(nsenterArgv(pid, argv)[0]!, nsenterArgv(pid, argv).slice(1), { encoding: 'utf8' })

    beforeAll(async () => {
      user = await startUserNamespace()
      holderB = await startNetnsHolder(user)
      // a = 10.9.0.1 (the user namespace's first network namespace), b = 10.9.0.2, one veth between.
      run(user.pid, ['ip', 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', String(holderB)])
      for (const [pid, dev, addr] of [[user.pid, 'va', '10.9.0.1/24'], [holderB, 'vb', '10.9.0.2/24']] as const) {
        run(pid, ['ip', 'addr', 'add', addr, 'dev', dev])
        run(pid, ['ip', 'link', 'set', dev, 'up'])
        run(pid, ['ip', 'link', 'set', 'lo', 'up'])
      }
      run(holderB, ['ip', 'route', 'add', 'unreachable', '10.77.0.0/16'])
      run(user.pid, ['iptables-nft', '-A', 'INPUT', '-p', 'tcp', '--dport', '7001', '-j', 'REJECT'])
      run(user.pid, ['iptables-nft', '-A', 'INPUT', '-p', 'tcp', '--dport', '7002', '-j', 'DROP'])
      a = await startNetnsAgent({ holderPid: user.pid, rootless: true, agentMain })
      b = await startNetnsAgent({ holderPid: holderB, rootless: true, agentMain })
    }, 20_000)

    afterAll(async () => {
      await a?.stop()
      await b?.stop()
      for (const pid of [holderB, user?.pid]) if (pid !== undefined && isLive(pid)) process.kill(pid, 'SIGKILL')
      for (const pid of [holderB, user?.pid]) if (pid !== undefined) expect(await gone(pid)).toBe(true)
    })

    it('runs each agent inside its own namespace', () => {
      const net = (pid: number): string => execFileSync('readlink', [`/proc/${pid}/ns/net`], { encoding: 'utf8' }).trim()
      expect(net(a.pid)).toBe(net(user.pid))
      expect(net(b.pid)).toBe(net(holderB))
      expect(net(a.pid)).not.toBe(net(process.pid))
    })

    it.skipIf(process.getuid?.() !== 0)('as root, joins only the network namespace when not rootless', async () => {
      const c = await startNetnsAgent({ holderPid: holderB, rootless: false, agentMain })
      try {
        const ns = (pid: number, kind: string): string => execFileSync('readlink', [`/proc/${pid}/ns/${kind}`], { encoding: 'utf8' }).trim()
        expect(ns(c.pid, 'net')).toBe(ns(holderB, 'net'))
        expect(ns(c.pid, 'user')).toBe(ns(process.pid, 'user'))
        const conn = await c.dial({ host: '10.9.0.1', port: 7001, timeoutMs: 2000 }).catch((e: unknown) => e)
        expect(conn).toMatchObject({ code: 'ECONNREFUSED' })
      } finally {
        await c.stop()
      }
    })

    it('carries bytes both ways across the veth, with half-close in each direction', async () => {
      const accepted: HandedConnection[] = []
      const listener = await a.listen({ address: '10.9.0.1', port: 0 }, (c) => {
        accepted.push(c)
        // An echo that answers only after the client half-closed: the bytes after FIN must still arrive.
        let got = ''
        c.socket.setEncoding('utf8')
        c.socket.on('data', (d: string) => (got += d))
        c.socket.on('end', () => c.socket.end(`echo ${got.length}:${got}`))
      })
      try {
        expect(listener.local).toEqual({ address: '10.9.0.1', port: expect.any(Number) })
        const big = 'x'.repeat(300_000)
        const c = await b.dial({ host: '10.9.0.1', port: listener.local.port })
        expect(c.local.address).toBe('10.9.0.2')
        expect(c.remote).toEqual({ address: '10.9.0.1', port: listener.local.port })
        const answer = readAll(c.socket)
        c.socket.end(big)
        expect(await answer).toBe(`echo ${big.length}:${big}`)
        // The server saw the client as the namespace did.
        expect(accepted[0]!.remote).toEqual(c.local)
      } finally {
        await listener.close()
      }
      // Closed: the port refuses now.
      await expect(b.dial({ host: '10.9.0.1', port: listener.local.port })).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    })

    it('propagates a reset to the other namespace', async () => {
      const listener = await a.listen({ address: '10.9.0.1', port: 0 }, (c) => c.socket.resetAndDestroy())
      try {
        // The reset can overtake the agent's report of the connect: then the dial itself fails
        // with ECONNRESET. Either way the dialling side sees the reset.
        const code = await b.dial({ host: '10.9.0.1', port: listener.local.port }).then(
          async (c) => ((await once(c.socket, 'error')) as [NodeJS.ErrnoException])[0].code,
          (e: unknown) => (e instanceof DialError ? e.code : `not a DialError: ${String(e)}`),
        )
        expect(code).toBe('ECONNRESET')
      } finally {
        await listener.close()
      }
    })

    it('reports what the kernel decided: REJECT, DROP, unreachable route', async () => {
      const code = (p: Promise<unknown>): Promise<string> => p.then(() => 'connected', (e: unknown) => (e instanceof DialError ? e.code : `not a DialError: ${String(e)}`))
      expect(await code(b.dial({ host: '10.9.0.1', port: 7001 }))).toBe('ECONNREFUSED')
      const t0 = Date.now()
      expect(await code(b.dial({ host: '10.9.0.1', port: 7002, timeoutMs: 400 }))).toBe('ETIMEDOUT')
      expect(Date.now() - t0).toBeGreaterThanOrEqual(350)
      expect(await code(b.dial({ host: '10.77.0.1', port: 80 }))).toBe('EHOSTUNREACH')
      // A bad request is refused at the boundary, naming the field.
      await expect(b.dial({ host: 'web.default', port: 80 })).rejects.toMatchObject({ code: 'EINVAL', message: expect.stringContaining('to.address') })
      // The agent is still there afterwards.
      expect(isLive(b.pid)).toBe(true)
    })

    it('dials from a chosen local address and port, and a DNAT shows as each side saw it', async () => {
      // The route is looked up before OUTPUT's DNAT, as for a ClusterIP on a node: it needs one.
      run(holderB, ['ip', 'route', 'add', '10.96.0.0/12', 'dev', 'vb'])
      run(holderB, ['iptables-nft', '-t', 'nat', '-A', 'OUTPUT', '-d', '10.96.0.10', '-p', 'tcp', '--dport', '80', '-j', 'DNAT', '--to-destination', '10.9.0.1:7080'])
      const seen: HandedConnection[] = []
      const listener = await a.listen({ address: '0.0.0.0', port: 7080 }, (c) => {
        seen.push(c)
        c.socket.end('hi')
      })
      try {
        const c = await b.dial({ host: '10.96.0.10', port: 80, localAddress: '10.9.0.2', localPort: 40123 })
        expect(await readAll(c.socket)).toBe('hi')
        await expect(a.listen({ address: '10.9.0.1', port: 7080 }, () => {})).rejects.toMatchObject({ code: 'EADDRINUSE' })
        // Closing the listener does not wait for connections already handed over (this one is half-open).
        await listener.close()
        c.socket.end()
        // The client's socket names the ClusterIP-like address it dialled; the server saw the endpoint.
        expect(c.remote).toEqual({ address: '10.96.0.10', port: 80 })
        expect(c.local).toEqual({ address: '10.9.0.2', port: 40123 })
        expect(seen[0]!.local).toEqual({ address: '10.9.0.1', port: 7080 })
        expect(seen[0]!.remote).toEqual({ address: '10.9.0.2', port: 40123 })
      } finally {
        await listener.close()
      }
    })

    it('exits when the kpe that started it dies', async () => {
      // A separate kpe-like process starts an agent in b's namespace and is then killed outright.
      const script = `import { startNetnsAgent } from ${JSON.stringify(join(repoRoot, 'dist/src/netns/index.js'))}
const agent = await startNetnsAgent({ holderPid: ${holderB}, rootless: true })
await agent.listen({ address: '0.0.0.0', port: 7090 }, () => {})
console.log(agent.pid)
setInterval(() => {}, 1000)`
      const kpe = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
      const [line] = (await once(kpe.stdout!, 'data')) as [Buffer]
      const agentPid = Number(line.toString().trim())
      expect(isLive(agentPid)).toBe(true)
      kpe.kill('SIGKILL')
      expect(await gone(agentPid)).toBe(true)
      // Its listener went with it.
      await expect(a.dial({ host: '10.9.0.2', port: 7090 })).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    })

    it('hands over UDP sockets bound in each namespace: datagrams both ways, none lost to the agent', async () => {
      const server = await a.bindUdp({ address: '10.9.0.1', port: 0 })
      const client = await b.bindUdp({ address: '0.0.0.0', port: 0 })
      try {
        expect(server.local).toEqual({ address: '10.9.0.1', port: expect.any(Number) })
        const seenBy: string[] = []
        server.socket.on('message', (msg, r) => {
          seenBy.push(`${r.address}`)
          server.socket.send(Buffer.concat([Buffer.from('echo '), msg]), r.port, r.address)
        })
        const replies: string[] = []
        const all = new Promise<void>((resolve) => client.socket.on('message', (msg, r) => {
          replies.push(`${r.address}:${r.port} ${msg.toString()}`)
          if (replies.length === 20) resolve()
        }))
        for (let i = 0; i < 20; i++) client.socket.send(`d${i}`, server.local.port, '10.9.0.1')
        await all
        expect(replies.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `10.9.0.1:${server.local.port} echo d${i}`).sort())
        // The server saw the client's address in b's namespace.
        expect(new Set(seenBy)).toEqual(new Set(['10.9.0.2']))
        // A port in use is the kernel's EADDRINUSE.
        await expect(a.bindUdp({ address: '10.9.0.1', port: server.local.port })).rejects.toMatchObject({ code: 'EADDRINUSE' })
      } finally {
        server.socket.close()
        client.socket.close()
      }
    })

    it('kpe survives an agent that talks nonsense and then dies', async () => {
      // A stand-in agent (run inside b's namespace like the real one) that sends malformed events.
      const dir = mkdtempSync(join(tmpdir(), 'kpe-fake-agent-'))
      const fake = join(dir, 'fake-agent.mjs')
      writeFileSync(fake, `process.send({ op: 'bogus' }); process.send(42); process.send({ op: 'ready', pid: process.pid })
process.on('message', (m) => {
  if (m.op === 'dial' && m.to.port === 1) {
    process.send({ op: 'dialed', id: m.id, local: 'nowhere' })
    process.send({ op: 'failed', id: m.id, code: 'ECONNREFUSED', message: 'refused by the stand-in' })
  }
})
process.on('disconnect', () => process.exit(0))
`)
      const lines: string[] = []
      const agent = await startNetnsAgent({ holderPid: holderB, rootless: true, agentMain: fake, log: (l) => lines.push(l) })
      try {
        await expect(agent.dial({ host: '10.9.0.1', port: 1 })).rejects.toMatchObject({ code: 'ECONNREFUSED' })
        expect(lines.some((l) => l.includes('ignored a malformed message: local: must be an object'))).toBe(true)
        // It never answers this one; when it is killed the dial fails instead of hanging.
        const pending = agent.dial({ host: '10.9.0.1', port: 2 })
        process.kill(agent.pid, 'SIGKILL')
        await expect(pending).rejects.toMatchObject({ code: 'EPIPE' })
      } finally {
        await agent.stop()
        rmSync(dir, { recursive: true, force: true })
      }
    })

    it('stop() ends the agent by PID and later calls fail with EPIPE', async () => {
      const c = await startNetnsAgent({ holderPid: holderB, rootless: true, agentMain })
      await c.stop()
      expect(await gone(c.pid)).toBe(true)
      await expect(c.dial({ host: '10.9.0.1', port: 80 })).rejects.toMatchObject({ code: 'EPIPE' })
    })
  })
}

describe('namespace agent input checks', () => {
  it.skipIf(!existsSync(agentMain))('keeps answering through random messages (fast-check, seeded)', async () => {
    const child = spawn(process.execPath, [agentMain], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
    child.stderr!.on('data', () => {})
    const answered = new Set<number>()
    child.on('message', (m) => {
      const id = (m as { id?: unknown }).id
      if (typeof id === 'number') answered.add(id)
    })
    try {
      await once(child, 'message')
      let nextId = 1_000_000
      const junk = fc.anything({ maxDepth: 3, withBoxedValues: false }).filter((v) => v !== undefined)
      await fc.assert(fc.asyncProperty(fc.array(junk, { maxLength: 8 }), async (messages) => {
        for (const m of messages) child.send(m as never)
        // After any junk, a valid request still gets its answer.
        const id = nextId++
        child.send({ op: 'unlisten', id })
        for (let i = 0; i < 200 && !answered.has(id); i++) await sleep(5)
        expect(answered.has(id)).toBe(true)
        expect(child.exitCode).toBe(null)
      }), { seed: 1616, numRuns: 60, interruptAfterTimeLimit: 15_000 })
    } finally {
      child.disconnect()
      await once(child, 'exit')
    }
  }, 30_000)

  it.skipIf(!existsSync(agentMain))('survives malformed requests and still answers valid ones', async () => {
    // No namespace needed: the agent's boundary is its IPC channel.
    const child = spawn(process.execPath, [agentMain], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
    const messages: unknown[] = []
    child.on('message', (m) => messages.push(m))
    try {
      await once(child, 'message')
      for (const junk of [null, 42, 'dial', { op: 'dial' }, { op: 'dial', id: 5, to: { address: '1.2.3.4', port: 'x' } }, { op: 'listen', id: 6, at: { address: '::1', port: 99999 } }, { op: 'rm', id: 7 }, [1, 2]]) child.send(junk as never)
      child.send({ op: 'listen', id: 8, at: { address: '127.0.0.1', port: 0 } })
      for (let i = 0; i < 100 && !messages.some((m) => (m as { id?: number }).id === 8); i++) await sleep(20)
      expect(messages).toContainEqual(expect.objectContaining({ op: 'failed', id: 5, code: 'EINVAL', message: expect.stringContaining('to.port') }))
      expect(messages).toContainEqual(expect.objectContaining({ op: 'failed', id: 6, code: 'EINVAL', message: expect.stringContaining('at.port') }))
      expect(messages).toContainEqual(expect.objectContaining({ op: 'failed', id: 7, code: 'EINVAL', message: expect.stringContaining('op') }))
      expect(messages).toContainEqual(expect.objectContaining({ op: 'listening', id: 8, local: { address: '127.0.0.1', port: expect.any(Number) } }))
      expect(child.exitCode).toBe(null)
    } finally {
      child.disconnect()
      await once(child, 'exit')
    }
  })
})
