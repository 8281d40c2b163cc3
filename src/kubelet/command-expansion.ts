/**
 * $(VAR) references in a container's command and args, expanded from its environment as kubelet
 * does before it starts the container (so `-text=hello from $(POD_NAME)` names the replica).
 * Pure; references to unknown variables stay as written, `$$` is a literal `$`.
 */
import type { Container } from '../api/index.js'
import { expandReferences } from './toolbox/service-env.js'

export function expandContainerCommand(c: Container, env: ReadonlyMap<string, string>): Container {
  const expand = (words: readonly string[] | undefined): string[] | undefined => words?.map((w) => expandReferences(w, env))
  const command = expand(c.command)
  const args = expand(c.args)
  return { ...c, ...(command ? { command } : {}), ...(args ? { args } : {}) }
}
