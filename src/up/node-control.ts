/**
 * The agents endpoint's node control (`kpe node stop|start NODE`): POST /nodes/NAME/stop crashes
 * one node's kubelet and kube-proxy, POST /nodes/NAME/start brings them back; GET /nodes lists
 * each node's state. Answers are plain text for the CLI, 404 naming the known nodes.
 */
import type { NodeAgents } from '../node/index.js'

export interface NodeControlAnswer {
  readonly code: number
  readonly type: string
  readonly body: string
}

/** The answer for a /nodes request, or undefined when the path is not one of node control. */
export async function nodeControl(agents: NodeAgents, method: string, path: string): Promise<NodeControlAnswer | undefined> {
  const text = (code: number, body: string): NodeControlAnswer => ({ code, type: 'text/plain', body })
  if (path === '/nodes') {
    if (method !== 'GET') return text(405, 'only GET\n')
    const stopped = new Set(agents.stoppedNodes())
    const nodes = [...agents.kubelets.keys()].sort().map((name) => ({ name, state: stopped.has(name) ? 'stopped' : 'running' }))
    return { code: 200, type: 'application/json', body: `${JSON.stringify(nodes, null, 2)}\n` }
  }
  const m = /^\/nodes\/([^/]+)\/(stop|start)$/.exec(path)
  if (!m) return undefined
  if (method !== 'POST') return text(405, 'only POST\n')
  let name: string
  try {
    name = decodeURIComponent(m[1] ?? '')
  } catch {
    return text(400, `node name ${JSON.stringify(m[1])} in ${JSON.stringify(path)}: malformed percent-encoding\n`)
  }
  if (!agents.kubelets.has(name)) return text(404, `no such node "${name}"; nodes: ${[...agents.kubelets.keys()].sort().join(', ')}\n`)
  const op = m[2] === 'stop' ? 'stop' : 'start'
  return oneAtATime(agents, async () => {
    const wasStopped = agents.stoppedNodes().includes(name)
    if (op === 'stop') {
      await agents.stopNode(name)
      return text(200, wasStopped ? `node ${name} was already stopped\n` : `node ${name} stopped: kubelet and kube-proxy no longer run (as after a crash)\n`)
    }
    await agents.startNode(name)
    return text(200, wasStopped ? `node ${name} started: kubelet and kube-proxy run again\n` : `node ${name} was already running\n`)
  })
}

/** The stop or start in flight per set of agents: the next one waits for it to end. */
const inFlight = new WeakMap<NodeAgents, Promise<unknown>>()

/**
 * Runs node stops and starts one after another. Overlapping, a start would register a node's new
 * kubelet while the stop still awaited the old one's end, and the stop would then end the new one:
 * the node listed as running with no kubelet.
 */
function oneAtATime<T>(agents: NodeAgents, op: () => Promise<T>): Promise<T> {
  const run = (inFlight.get(agents) ?? Promise.resolve()).catch(() => {}).then(op)
  inFlight.set(agents, run)
  return run
}
