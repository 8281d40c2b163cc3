/**
 * When an emulated container ends by itself, and with which exit code: the few commands a Job's
 * manifest uses to end (`true`, `false`, `sleep N`, `sh -c 'exit N'`, `sh -c 'sleep N; exit M'`).
 * Anything else runs until deleted. A stand-in the pod toolbox can replace with real shell
 * semantics; only Pods whose restartPolicy lets them finish (Never, OnFailure) end. Pure.
 */
import type { Container } from '../api/index.js'

export interface ContainerExit {
  readonly afterMs: number
  readonly exitCode: number
}

const shells = new Set(['sh', '/bin/sh', 'bash', '/bin/bash', 'ash', '/bin/ash'])

/** One shell statement of the small language: sleep N, exit N, true, false. */
function statement(s: string): ContainerExit | undefined {
  const w = s.trim().split(/\s+/)
  if (w.length === 1 && w[0] === 'true') return { afterMs: 0, exitCode: 0 }
  if (w.length === 1 && w[0] === 'false') return { afterMs: 0, exitCode: 1 }
  if (w[0] === 'exit' && w.length <= 2) {
    const code = w.length === 1 ? 0 : Number(w[1])
    return Number.isInteger(code) && code >= 0 && code <= 255 ? { afterMs: 0, exitCode: code } : undefined
  }
  if (w[0] === 'sleep' && w.length === 2) {
    const secs = Number(w[1])
    return Number.isFinite(secs) && secs >= 0 && secs <= 86_400 ? { afterMs: Math.round(secs * 1000), exitCode: 0 } : undefined
  }
  return undefined
}

function script(text: string): ContainerExit | undefined {
  let afterMs = 0
  let exitCode = 0
  for (const part of text.split(/;|&&|\n/).filter((p) => p.trim() !== '')) {
    const s = statement(part)
    if (!s) return undefined
    afterMs += s.afterMs
    exitCode = s.exitCode
    // `exit` ends the script; `false &&` would too, but a lone `false` only sets the status
    if (part.trim().startsWith('exit')) break
  }
  return { afterMs, exitCode }
}

export function containerExit(c: Container): ContainerExit | undefined {
  const argv = [...(c.command ?? []), ...(c.args ?? [])]
  if (argv.length === 0) return undefined
  if (shells.has(argv[0]!) && argv[1] === '-c' && argv.length >= 3) return script(argv[2]!)
  return script(argv.join(' '))
}

/** The whole Pod's end: when its last container has exited, Succeeded if all exited 0. */
export function podExit(containers: readonly Container[], restartPolicy: string | undefined): { afterMs: number; exits: readonly ContainerExit[] } | undefined {
  if (restartPolicy !== 'Never' && restartPolicy !== 'OnFailure') return undefined
  const exits = containers.map(containerExit)
  if (exits.length === 0 || exits.some((e) => e === undefined)) return undefined
  const all = exits as ContainerExit[]
  return { afterMs: Math.max(...all.map((e) => e.afterMs)), exits: all }
}
