/**
 * `kpe store check` and `kpe store repair`: a read-only verdict on a data dir's store, and a
 * repair that keeps every WAL record before the first damaged one after backing the log up.
 * Thin shell: the store module inspects and repairs, this file parses flags and words results.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { serverInfoFileName, storeDirOf } from '../cluster/index.js'
import { InputError, NotFoundError, UsageError } from '../errors.js'
import { describeDamage, inspectStore, isStoreError, repairStore, walFileName, type StoreInspection } from '../store/index.js'
import { defaultDataDir } from './up-command.js'

export const storeHelp = `usage: kpe store check [--data-dir DIR]
       kpe store repair [--data-dir DIR]

check   reads DIR/store (default ${defaultDataDir}) and says whether kpe up can start on it:
        ok, a torn tail (the unfinished last write of a crash, dropped on the next start), or
        a corrupt record (byte offset, line, and the records after it). Changes nothing.
        Exit 0 when kpe up can start, 2 when the store is damaged.
repair  copies wal.log to wal.log.corrupt-<time> (mode 0600), then cuts wal.log back to the
        records before the first damaged one, listing the resourceVersions it drops. Refuses
        while a kpe up runs from DIR.
`

export async function runStoreCommand(argv: string[]): Promise<string> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
    allowPositionals: true,
  })
  if (values.help) return storeHelp
  const [action, ...extra] = positionals
  if (extra.length > 0 || (action !== 'check' && action !== 'repair')) {
    throw new UsageError(action === undefined ? 'missing action: check or repair' : `unknown action "${[action, ...extra].join(' ')}": use check or repair`, { hint: "run 'kpe store --help'" })
  }
  const dataDir = values['data-dir'] ?? defaultDataDir
  const dir = storeDirOf(dataDir)
  try {
    if (action === 'check') return renderCheck(dataDir, await inspectStore(dir))
    await refuseWhileRunning(dataDir)
    const repair = await repairStore(dir, new Date())
    return renderRepair(dataDir, repair.inspection, repair.backup)
  } catch (e) {
    if (isStoreError(e, 'NotFound')) throw new NotFoundError(`no store in ${dataDir} (${dir} is missing)`)
    if (isStoreError(e, 'Corrupt')) throw new InputError({}, e.message, { hint: 'the snapshot is written atomically, so kpe cannot cut it back; restore the data dir from a backup' })
    throw e
  }
}

function renderSummary(i: StoreInspection): string[] {
  const snap = i.snapshot ? `snapshot.json: ${i.snapshot.objects} objects at resourceVersion ${i.snapshot.resourceVersion}` : 'snapshot.json: none yet'
  const range = i.records.count === 0 ? '' : ` (resourceVersions ${i.records.first ?? ''}..${i.records.last ?? ''})`
  return [`store ${i.dir}`, `  ${snap}`, `  ${walFileName}: ${i.walBytes} bytes, ${i.records.count} readable records${i.damage ? ' before the damage' : ''}${range}`]
}

function renderCheck(dataDir: string, i: StoreInspection): string {
  const lines = renderSummary(i)
  const walPath = join(i.dir, walFileName)
  if (i.damage?.kind === 'corrupt') {
    throw new InputError({}, describeDamage(walPath, i.damage, i.records.count), {
      hint: `'kpe store repair --data-dir ${dataDir}' keeps the ${i.records.count} records before it, after a backup`,
    })
  }
  if (i.damage?.kind === 'torn-tail') lines.push(`  ${describeDamage(walPath, i.damage, i.records.count)}`, '  kpe up drops this tail when it starts: no acknowledged write is in it')
  else lines.push('  ok')
  return `${lines.join('\n')}\n`
}

function renderRepair(dataDir: string, i: StoreInspection, backup: string | undefined): string {
  const lines = renderSummary(i)
  if (!i.damage || !backup) return `${[...lines, '  nothing to repair'].join('\n')}\n`
  lines.push(`  backed up ${walFileName} to ${backup}`)
  if (i.damage.kind === 'torn-tail') {
    lines.push(`  dropped a torn tail of ${i.damage.discardedBytes} bytes at byte ${i.damage.offset} (line ${i.damage.line})`)
  } else {
    const rvs = i.damage.droppedResourceVersions
    lines.push(`  dropped the corrupt record at byte ${i.damage.offset} (line ${i.damage.line}): ${i.damage.reason}`)
    lines.push(`  dropped ${rvs.length} readable records after it${rvs.length ? `: resourceVersions ${rvs.join(', ')}` : ''}`)
    if (i.damage.unreadableLinesAfter > 0) lines.push(`  dropped ${i.damage.unreadableLinesAfter} unreadable lines after it`)
  }
  lines.push(`  kept ${i.records.count} records; 'kpe up --data-dir ${dataDir}' starts on it again`)
  return `${lines.join('\n')}\n`
}

/** A repair under a running kpe up would race its writes. */
async function refuseWhileRunning(dataDir: string): Promise<void> {
  let pid: unknown
  try {
    pid = (JSON.parse(await readFile(join(dataDir, serverInfoFileName), 'utf8')) as { pid?: unknown }).pid
  } catch {
    return
  }
  if (typeof pid !== 'number' || pid === process.pid || !isAlive(pid)) return
  throw new UsageError(`kpe up (pid ${pid}) is running from ${dataDir}`, { hint: 'stop it first (Ctrl-C or kill), then repair' })
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
