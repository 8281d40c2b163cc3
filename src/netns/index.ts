/**
 * Carrying connections across network namespace boundaries: a small agent per namespace listens
 * and dials there and passes each connected socket to kpe, so kpe's loopback entry points can hand
 * traffic to the kernel of a node or pod namespace.
 */
export { DialError, agentArgv, defaultAgentMain, startNetnsAgent } from './netns-agent.js'
export type { AddressPort, DialRequest, HandedConnection, NetnsAgent, NetnsListener, StartNetnsAgentOptions } from './netns-agent.js'
export { ProtocolError, parseAgentEvent, parseAgentRequest } from './agent-protocol.js'
export type { AgentEvent, AgentRequest, Checked } from './agent-protocol.js'
