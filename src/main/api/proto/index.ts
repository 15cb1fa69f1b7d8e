// tsetcd's protobuf codecs for the etcd v3 API: message types, codecs and the wire primitives.

export { codec, decode, encode, type Decoder, type Encoder, type Init, type MessageCodec, type OneOf } from './codec.js';
export { EMPTY_BYTES, ProtoDecodeError, Reader } from './reader.js';
export { Writer, type WriterOptions } from './writer.js';
export * from './header.js';
export * from './mvcc.js';
export * from './kv.js';
export * from './watch.js';
export * from './lease.js';
export * from './cluster.js';
export * from './maintenance.js';
export * from './auth.js';
export * from './lock.js';
export * from './election.js';
