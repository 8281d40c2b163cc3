/**
 * Real connections from one lab namespace: runs the prober script with `ip netns exec` and
 * returns what it observed (which pods answered, the client address each saw, refused and
 * timed-out attempts). The external host's source address picks the node it goes through.
 */
import { join } from 'node:path'
import { probeFile, labRunner, resolveTarget } from './lab-executor.js'
import type { LabState } from './lab-state.js'

export interface ProbeRequest {
  /** `pod/NS/NAME`, `node/NAME` or `external`. */
  readonly from: string
  /** Source address to bind (the external host has several). */
  readonly src?: string
  readonly dst: string
  readonly port: number
  readonly proto: 'tcp' | 'udp'
  readonly min: number
  readonly max: number
  readonly parallel: number
  readonly timeoutMs: number
  /** Keep going (up to max) until each of these was seen: pod names, 'refused', 'timeout'. */
  readonly expect?: readonly string[]
}

export interface ProbeResult {
  /** `<pod-name> <client-ip-it-saw>` -> count */
  readonly answers: Readonly<Record<string, number>>
  readonly refused: number
  readonly timeout: number
  readonly other: Readonly<Record<string, number>>
  readonly attempts: number
}

export async function labProbe(state: LabState, req: ProbeRequest): Promise<ProbeResult> {
  return (await labProbeBatch(state, req.from, [req]))[0]!
}

/** Several probes from one namespace, one after another, in a single prober process. */
export async function labProbeBatch(state: LabState, from: string, reqs: readonly Omit<ProbeRequest, 'from'>[]): Promise<ProbeResult[]> {
  const run = labRunner(state, resolveTarget(state, from))
  const args = reqs.map((req) => ({ dst: req.dst, port: req.port, proto: req.proto, src: req.src, min: req.min, max: req.max, parallel: req.parallel, timeoutMs: req.timeoutMs, expect: req.expect ?? [] }))
  const res = await run([process.execPath, join(state.stateDir, probeFile), JSON.stringify(args)], { timeoutMs: 120_000 })
  return JSON.parse(res.stdout) as ProbeResult[]
}

/** Forgets every `-m recent` entry (session affinity) in a lab namespace. */
export async function flushRecentLists(state: LabState, netns: string): Promise<void> {
  await labRunner(state, netns)(['sh', '-c', 'for f in /proc/net/xt_recent/*; do [ -e "$f" ] && echo / > "$f"; done; true'])
}

/** Forgets every conntrack entry in a lab namespace (between unrelated experiments). */
export async function flushConntrack(state: LabState, netns: string): Promise<void> {
  await labRunner(state, netns)(['conntrack', '-F'], { onNonZeroExit: 'return' })
}
