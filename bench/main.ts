/**
 * `npm run bench -- [--quick] [--json FILE] [--only render,interp,peers,api,kernel,etcd,scale,netprog] [--profile DIR]`:
 * runs every benchmark, prints a table of figures with their same-run baselines and ratios, and
 * optionally writes them as JSON. `--profile` runs kpe's child processes under --cpu-prof into
 * DIR. Every process it starts is stopped by PID, also on failure and on Ctrl-C.
 */
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { apiBenchmarks } from './api.js'
import { etcdBenchmarks } from './etcd.js'
import { formatTable, type Figure } from './figures.js'
import { interpBenchmarks } from './interp.js'
import { kernelBenchmarks } from './kernel.js'
import { netprogBenchmarks } from './netprog.js'
import { peerBenchmarks } from './peers.js'
import { killAllNow, stopAll } from './procs.js'
import { renderBenchmarks } from './render.js'
import { scaleBenchmarks } from './scale.js'

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, json: { type: 'string' }, rounds: { type: 'string' }, only: { type: 'string' }, profile: { type: 'string' } } })
const quick = values.quick === true
const rounds = values.rounds ? Number(values.rounds) : quick ? 3 : 7
const groups = ['render', 'interp', 'peers', 'api', 'kernel', 'etcd', 'scale', 'netprog'] as const
const profileDir = values.profile
const only = new Set(values.only ? values.only.split(',') : groups)

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    process.stderr.write(`kpe bench: ${sig}, stopping the processes it started\n`)
    void stopAll().finally(() => process.exit(130))
  })
}
process.on('exit', killAllNow)

const figures: Figure[] = []
const started = Date.now()
process.stderr.write(`kpe bench: ${quick ? 'quick' : 'full'} run, ${rounds} rounds, node ${process.version}, ${new Date().toISOString()}\n`)
try {
  for (const g of groups) {
    if (!only.has(g)) continue
    // Each group starts from a collected heap: garbage a group leaves behind would otherwise be
    // collected during the next group's measurement, by GC threads running on any core.
    globalThis.gc?.()
    const t = Date.now()
    switch (g) {
      case 'render': figures.push(...(await renderBenchmarks({ rounds, quick }))); break
      case 'interp': figures.push(...interpBenchmarks({ rounds, quick })); break
      case 'peers': figures.push(...(await peerBenchmarks({ rounds, quick, ...(profileDir ? { profileDir } : {}) }))); break
      case 'api': figures.push(...(await apiBenchmarks({ rounds, quick, ...(profileDir ? { profileDir } : {}) }))); break
      case 'kernel': figures.push(...(await kernelBenchmarks({ rounds, quick }))); break
      case 'etcd': figures.push(...(await etcdBenchmarks({ quick }))); break
      case 'scale': figures.push(...(await scaleBenchmarks({ quick, ...(profileDir ? { profileDir } : {}) }))); break
      case 'netprog': figures.push(...(await netprogBenchmarks({ quick, ...(profileDir ? { profileDir } : {}) }))); break
    }
    process.stderr.write(`kpe bench: ${g} done in ${((Date.now() - t) / 1000).toFixed(1)} s\n`)
  }
} finally {
  await stopAll()
}
process.stdout.write(formatTable(figures))
process.stderr.write(`kpe bench: total ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
if (values.json) writeFileSync(values.json, JSON.stringify(figures.map(({ name, value, unit, baseline, ratio }) => ({ name, value, unit, baseline, ratio })), null, 2) + '\n')
