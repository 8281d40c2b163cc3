/**
 * kpe on etcd: the API benchmark's 32-client ConfigMap POST load against a control plane whose
 * store is a fresh single-member etcd (kpe up --store), beside raw etcd puts of the same values
 * through the same client library at the same concurrency. Skipped, with the reason printed,
 * when /usr/bin/etcd is missing.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { Agent } from 'node:http'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { Etcd3 } from 'etcd3'
import { encodeStoredValue, type KubeObject } from '../src/store/index.js'
import { configMap, createNamespace, startApi, writeRound } from './api.js'
import { etcdBinary, etcdMemberArgs, waitEtcdHealthy } from './etcd-member.js'
import { figure, median, type Figure } from './figures.js'
import { freePort, spawnTracked, stopProcess } from './procs.js'

const clients = 32

/** Puts of `value` under distinct keys from `clients` concurrent loops for `ms`; puts/s. */
async function rawPutRound(client: Etcd3, round: number, value: Buffer, ms: number): Promise<number> {
  let ok = 0
  const end = Date.now() + ms
  const t = process.hrtime.bigint()
  await Promise.all(Array.from({ length: clients }, async (_, w) => {
    for (let i = 0; Date.now() < end; i++) {
      await client.put(`/bench/raw/${round}-${w}-${i}`).value(value)
      ok++
    }
  }))
  return ok / (Number(process.hrtime.bigint() - t) / 1e9)
}

export async function etcdBenchmarks(opts: { quick: boolean }): Promise<Figure[]> {
  if (!existsSync(etcdBinary)) {
    process.stderr.write(`kpe bench: store.etcd.writes.per_s skipped: ${etcdBinary} is missing (apt-get install etcd-server)\n`)
    return []
  }
  const dir = mkdtempSync(join(tmpdir(), 'kpe-bench-etcd-'))
  const n = cpus().length
  let etcd: ChildProcess | undefined
  let api: ChildProcess | undefined
  let client: Etcd3 | undefined
  try {
    const member = { name: 'bench', clientPort: await freePort(), peerPort: await freePort(), dataDir: join(dir, 'etcd') }
    const started = spawnTracked(etcdBinary, etcdMemberArgs(member, [member], `kpe-bench-${process.pid}`))
    etcd = started
    const endpoint = `127.0.0.1:${member.clientPort}`
    await waitEtcdHealthy(endpoint, () => started.exitCode === null && started.signalCode === null)
    const kpe = await startApi(join(dir, 'data'), n >= 2 ? String(n - 1) : undefined, undefined, `etcd://${endpoint}`)
    api = kpe.child
    await createNamespace(kpe.url, 'bench-w')
    client = new Etcd3({ hosts: `http://${endpoint}` })
    const value = encodeStoredValue({ ...(configMap('raw-value') as KubeObject), metadata: { name: 'raw-value', namespace: 'bench-w', labels: { bench: 'kpe' } } }).bytes
    const agent = new Agent({ keepAlive: true, maxSockets: clients })
    await writeRound(kpe.url, -1, clients, 500, agent) // warm up
    await rawPutRound(client, -1, value, 500)
    const rounds = opts.quick ? 2 : 3
    const ms = opts.quick ? 1500 : 3000
    const kpeRates: number[] = []
    const rawRates: number[] = []
    let failed = 0
    for (let r = 0; r < rounds; r++) {
      const w = await writeRound(kpe.url, r, clients, ms, agent)
      kpeRates.push(w.rate)
      failed += w.failed
      rawRates.push(await rawPutRound(client, r, value, ms))
    }
    agent.destroy()
    return [figure('store.etcd.writes.per_s', median(kpeRates), 'creates/s', median(rawRates), {
      note: `kpe on a single-member etcd 3.4 (${clients} keep-alive clients, ConfigMap POST); baseline: raw etcd puts of the same ${value.length}-byte value from ${clients} concurrent loops through the same client (etcd3)${failed ? `; ${failed} failed` : ''}`,
    })]
  } finally {
    client?.close()
    if (api) await stopProcess(api)
    if (etcd) await stopProcess(etcd)
    rmSync(dir, { recursive: true, force: true })
  }
}
