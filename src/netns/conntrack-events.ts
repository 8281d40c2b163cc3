/**
 * Follows one node's new TCP conntrack entries from one source address (`conntrack -E -e NEW`),
 * so the hand-in hop can name the endpoint of each connection without reading the whole table:
 * the NEW event already carries the reply tuple the DNAT chose. One long-lived process per node,
 * started to die with kpe and stopped by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { parseConntrackLine, type ConntrackEntry, type ConntrackTuple } from './conntrack-entries.js'

/** Events kept for lookups that have not come yet (a connection whose dial is still resolving). */
const maxUnclaimed = 4096

function keyOf(t: ConntrackTuple): string {
  return `${t.src} ${t.sport} ${t.dst} ${t.dport}`
}

export class ConntrackNewEvents {
  readonly #unclaimed = new Map<string, ConntrackEntry>()
  readonly #waiting = new Map<string, (e: ConntrackEntry | undefined) => void>()
  readonly #child: ChildProcess
  #isRunning = true

  /** `argv` runs `conntrack -E -e NEW -p tcp ...` inside the node's namespace. */
  constructor(argv: readonly string[], log: (line: string) => void) {
    // setpriv --pdeathsig: a kpe killed outright takes the follower with it (kept across nsenter's exec).
    const [file, ...args] = ['setpriv', '--pdeathsig', 'KILL', ...argv]
    this.#child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.#child.on('error', (e) => log(`conntrack events: ${e.message}`))
    this.#child.on('exit', () => this.#end())
    this.#child.stderr!.on('data', () => {})
    createInterface({ input: this.#child.stdout! }).on('line', (line) => this.#onLine(line))
  }

  get isRunning(): boolean {
    return this.#isRunning
  }

  /** The NEW entry whose original tuple is `t`, waiting up to waitMs for its event. */
  find(t: ConntrackTuple, waitMs: number): Promise<ConntrackEntry | undefined> {
    const key = keyOf(t)
    const seen = this.#unclaimed.get(key)
    if (seen !== undefined) {
      this.#unclaimed.delete(key)
      return Promise.resolve(seen)
    }
    if (!this.#isRunning) return Promise.resolve(undefined)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(key)
        resolve(undefined)
      }, waitMs)
      this.#waiting.set(key, (e) => {
        clearTimeout(timer)
        this.#waiting.delete(key)
        resolve(e)
      })
    })
  }

  stop(): void {
    this.#end()
    if (this.#child.exitCode === null && this.#child.signalCode === null && this.#child.pid !== undefined) {
      try {
        process.kill(this.#child.pid, 'SIGTERM')
      } catch {
        // already gone
      }
    }
  }

  #onLine(line: string): void {
    const e = parseConntrackLine(line)
    if (e === undefined || e.proto !== 'tcp') return
    const key = keyOf(e.original)
    const waiter = this.#waiting.get(key)
    if (waiter) return waiter(e)
    this.#unclaimed.set(key, e)
    if (this.#unclaimed.size > maxUnclaimed) this.#unclaimed.delete(this.#unclaimed.keys().next().value!)
  }

  #end(): void {
    this.#isRunning = false
    for (const w of [...this.#waiting.values()]) w(undefined)
  }
}
