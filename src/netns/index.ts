/**
 * Carrying connections across network namespace boundaries: a small agent per namespace listens
 * and dials there and passes each connected socket to kpe, so kpe's loopback entry points can hand
 * traffic to the kernel of a node or pod namespace.
 */
export { DialError, agentArgv, defaultAgentMain, startNetnsAgent } from './netns-agent.js'
export type { AddressPort, DialRequest, HandedConnection, HandedUdpSocket, NetnsAgent, NetnsListener, StartNetnsAgentOptions } from './netns-agent.js'
export { ProtocolError, parseAgentEvent, parseAgentRequest } from './agent-protocol.js'
export type { AgentEvent, AgentRequest, Checked } from './agent-protocol.js'
export { findByOriginal, isDestinationNATed, parseConntrackLine, parseConntrackTable } from './conntrack-entries.js'
export type { ConntrackEntry, ConntrackTuple } from './conntrack-entries.js'
export { handInFailure, handInSources, kernelHandInOver, readNodeConntrack, startKernelHandIn } from './kernel-hand-in.js'
export type { ConntrackFollower, HandInOptions, HandInRequest, HandInResult, HandInTopology, KernelHandIn } from './kernel-hand-in.js'
export { ConntrackNewEvents } from './conntrack-events.js'
