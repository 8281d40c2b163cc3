/**
 * The lab's state file: what `kpe lab up` created (namespaces, processes by PID) and what it
 * loaded, written before each thing is created so that `down` can remove exactly that, also
 * after `up` was killed. Lives in <stateRoot>/<prefix>/state.json; written atomically.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { NotFoundError } from '../errors.js'
import type { LabPlan } from './lab-plan.js'
import { assertLabPrefix } from './lab-plan.js'
import type { IptablesBackend } from './netns.js'
import type { IPFamily } from '../net/index.js'

/** The KubeProxyConfiguration mode a lab loads: iptables-restore or nft -f. */
export type LabProxyMode = 'iptables' | 'nftables'

export interface LabProcess {
  readonly pid: number
  readonly netns: string
  readonly pod: string
  /** A path every one of the lab's processes has on its command line; checked before a kill. */
  readonly marker: string
}

export interface LabState {
  readonly version: 1
  readonly prefix: string
  readonly backend: IptablesBackend
  /** kube-proxy's mode the nodes run (absent in states written before nftables labs: iptables). */
  readonly mode?: LabProxyMode
  readonly families: readonly IPFamily[]
  readonly stateDir: string
  /** Namespaces that exist or are about to (recorded first). */
  namespaces: string[]
  processes: LabProcess[]
  plan: LabPlan | undefined
  /** Manifest files and config the rules came from, for `kpe lab sync`. */
  manifestFiles: string[]
  configFile: string | undefined
  /** Set once `up` finished. */
  complete: boolean
  /**
   * A rootless lab (userns-holders.ts): its namespaces live in one user namespace and are held
   * by processes, recorded here as they start. Absent: named namespaces (`ip netns`, root).
   */
  rootless?: LabRootless
}

export interface LabRootless {
  /** `/proc/PID/ns/user` of the lab's user namespace. */
  userNs: string
  /** Holder PID of each network namespace; the first namespace's holder created the user namespace. */
  holders: Record<string, number>
}

export function labStateDir(stateRoot: string, prefix: string): string {
  assertLabPrefix(prefix)
  return join(stateRoot, prefix)
}

export function stateFilePath(stateDir: string): string {
  return join(stateDir, 'state.json')
}

export function writeLabState(state: LabState): void {
  mkdirSync(state.stateDir, { recursive: true, mode: 0o700 })
  const file = stateFilePath(state.stateDir)
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + '\n')
  renameSync(`${file}.tmp`, file)
}

export function hasLabState(stateDir: string): boolean {
  return existsSync(stateFilePath(stateDir))
}

export function readLabState(stateDir: string): LabState {
  const file = stateFilePath(stateDir)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    throw new NotFoundError(`no lab state at ${file}`, { hint: 'start one with `kpe lab up -f FILE`, or pass the lab name with --name' })
  }
  return JSON.parse(text) as LabState
}

export function removeLabStateDir(stateDir: string): void {
  rmSync(stateDir, { recursive: true, force: true })
}
