/**
 * The skeleton both modes' many-node rule caches share (iptables/cluster-rules.ts,
 * nftables/cluster-rules.ts): one NodeLocality per cluster model, each service port's built part
 * kept in a ClassPortCache, one class per settled config and zone built on first use, and the
 * ports' text joined once into columns that a node slices around its own ports. Pure.
 */
import { ClassPortCache, NodeLocality, nodeClassConfig, nodeClassKey } from './node-locality.js'
import type { ProxierConfig } from './proxier-config.js'
import type { ProxyState } from './proxy-state.js'

/**
 * The classes of nodes of one cluster model. `build` makes a class's common rules from the
 * class config (no node's name or IP); a model built with the previous one's NodeClasses keeps
 * the parts of unchanged ports.
 */
export class NodeClasses<Part, Class> {
  readonly locality: NodeLocality
  readonly parts: ClassPortCache<Part>
  readonly #classes = new Map<string, Class>()
  readonly #build: (classConfig: ProxierConfig) => Class

  constructor(state: ProxyState, previous: NodeClasses<Part, unknown> | undefined, build: (classConfig: ProxierConfig) => Class) {
    this.locality = new NodeLocality(state)
    this.parts = new ClassPortCache(previous?.parts)
    this.#build = build
  }

  /** The class of the node this config settles, built on first use. */
  classFor(config: ProxierConfig): Class {
    const key = nodeClassKey(config)
    let cls = this.#classes.get(key)
    if (cls === undefined) this.#classes.set(key, (cls = this.#build(nodeClassConfig(config))))
    return cls
  }
}

/** One kind of text from every service port of a class, joined once, with each port's start. */
export interface PortColumn {
  readonly text: string
  /** offsets[i]: where port i's text starts; offsets[ports] is the end. */
  readonly offsets: Int32Array
}

/** The column of `ports` texts; `textOf(i)` is port i's. */
export function portColumn(ports: number, textOf: (i: number) => string): PortColumn {
  const offsets = new Int32Array(ports + 1)
  const pieces: string[] = []
  let length = 0
  for (let i = 0; i < ports; i++) {
    offsets[i] = length
    const t = textOf(i)
    pieces.push(t)
    length += t.length
  }
  offsets[ports] = length
  const text = pieces.join('')
  // Flattened once (reading a character does it), so the nodes' slices of it stay views.
  if (text.length > 0) text.charCodeAt(0)
  return { text, offsets }
}

/**
 * A node's text of one column: the class's text with the deviating ports' own text (`own(i)`,
 * ascending `deviating`) in their places. A missing column is every port writing nothing.
 */
export function spliceColumn(column: PortColumn | undefined, ports: number, deviating: readonly number[], own: (i: number) => string): string {
  let out = ''
  let from = 0
  for (const i of deviating) {
    if (column) out += column.text.slice(column.offsets[from], column.offsets[i])
    out += own(i)
    from = i + 1
  }
  if (column) out += column.text.slice(column.offsets[from], column.offsets[ports])
  return out
}
