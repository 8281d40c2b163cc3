/**
 * pods/NAME/exec and pods/NAME/attach: query options, the error channel's Status, the SPDY and
 * WebSocket transports, and the backend seam a kubelet fills.
 */
export { parseRemoteCommandOptions, parseQueryBool, resolveContainer, type RemoteCommandKind, type RemoteCommandOptions } from './options.js'
export { exitStatus, internalErrorStatus, type RemoteCommandStatus } from './status.js'
export { runRemoteCommand, ResizeDecoder, type RemoteCommandBackend, type RemoteCommandStreams, type RemoteCommandTarget, type TerminalSize } from './session.js'
export { serveSpdyRemoteCommand } from './spdy-transport.js'
export { serveWebSocketRemoteCommand, channel, clientStreamSetupMs, channelProtocolV4, channelProtocolV5, webSocketChannelProtocols } from './websocket-transport.js'
export { RemoteCommandUpgrader, spdyChannelProtocol, type RemoteCommandRequest } from './upgrade.js'
