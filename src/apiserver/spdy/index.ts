/**
 * SPDY/3.1 as Kubernetes' httpstream speaks it (kubectl port-forward): frames, header blocks
 * and their zlib contexts, and a server-side connection whose streams are Node Duplexes.
 * npm spdy-transport is not used: it rejects SYN_STREAMs without `:method`/`:path` (docs/dependencies.md).
 */
export { spdy3Dictionary } from './dictionary.js'
export {
  encodeFrame, decodeFrame, SpdyFrameParser, SpdyProtocolError, frameType, flagFin, flagUnidirectional, rstStatus, goawayStatus,
  spdyVersion, maxFrameLength, type SpdyFrame, type SettingsEntry,
} from './frames.js'
export { encodeHeaderBlock, decodeHeaderBlock, headerValue, type SpdyHeaders } from './header-block.js'
export { HeaderBlockInflater, StoredHeaderCompressor, maxInflatedHeaderBlock } from './header-compression.js'
export { SpdyServerConnection, SpdyStream, defaultMaxStreams, type SpdyConnectionOptions } from './spdy-connection.js'
