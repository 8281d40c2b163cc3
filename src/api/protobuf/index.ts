/** Kubernetes protobuf encoding of API objects, driven by kpe's API descriptor (see envelope.ts). */
export { ProtobufConversionError } from './conversion-error.js'
export { decodeProtobufObject, decodeWatchEvent, encodeEnvelope, encodeMessage, encodeProtobufObject, encodeWatchFrame, protobufMessageOf } from './envelope.js'
export { messageForKind } from './message-for-kind.js'
export { jsonToProto, protobufMagic, protoToJson } from './proto-json.js'
export { protoType } from './proto-types.js'
