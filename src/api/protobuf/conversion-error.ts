/**
 * A protobuf body kpe cannot turn into an object, with the field it stopped at (a RawExtension
 * that is neither JSON nor protobuf, a malformed message, an unregistered kind).
 */
export class ProtobufConversionError extends Error {
  constructor(readonly field: string, message: string) {
    super(field === '' ? message : `${field}: ${message}`)
  }
}
