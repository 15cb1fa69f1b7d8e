// The WebSocket API's messages and their encoding, for both ends (server: session.ts, client:
// client.ts). Every frame is one binary WebSocket message holding one MessagePack map (plain
// msgpack: any msgpack library can speak it).
//
//   client → server   { id, op, req }            id: a number the client picks, unique among its
//                                                requests in flight; op: see WsOps; req: the etcd
//                                                request message's fields (lowerCamel names as in
//                                                etcd's proto, bytes as bin, 64-bit ids as int64)
//   server → client   { id, res }                the etcd response message (header included)
//                     { id, err: {code,message} } etcd's gRPC status code and message
//                     { watch }                  a WatchResponse for a watch created on this
//                                                connection (events, progress, cancel)
//
// A request whose fields have the wrong types gets an error reply (InvalidArgument); a frame that
// is not msgpack, not a map, or has no usable id closes the connection (see session.ts).
import { Packr } from 'msgpackr';
import { GrpcCode } from '../../errors.js';
import type * as pb from '../proto/index.js';
import type { Init } from '../proto/index.js';

/** The operations, with their etcd request (as decoded on the server) and response messages. */
export interface WsOps {
  put: { req: pb.PutRequest; res: pb.PutResponse };
  range: { req: pb.RangeRequest; res: pb.RangeResponse };
  deleteRange: { req: pb.DeleteRangeRequest; res: pb.DeleteRangeResponse };
  txn: { req: pb.TxnRequest; res: pb.TxnResponse };
  compact: { req: pb.CompactionRequest; res: pb.CompactionResponse };
  leaseGrant: { req: pb.LeaseGrantRequest; res: pb.LeaseGrantResponse };
  leaseRevoke: { req: pb.LeaseRevokeRequest; res: pb.LeaseRevokeResponse };
  leaseKeepAlive: { req: pb.LeaseKeepAliveRequest; res: pb.LeaseKeepAliveResponse };
  leaseTimeToLive: { req: pb.LeaseTimeToLiveRequest; res: pb.LeaseTimeToLiveResponse };
  /** Answered with the WatchResponse that says the watch was created (its watchId). */
  watchCreate: { req: pb.WatchCreateRequest; res: pb.WatchResponse };
  /** Answered at once (an empty map); the watch's cancel notice follows as a `watch` frame. */
  watchCancel: { req: pb.WatchCancelRequest; res: Record<string, never> };
}

export type WsOp = keyof WsOps;

/** A request as the server hands it to the operation. */
export type WsRequest = { [O in WsOp]: { readonly id: number; readonly op: O; readonly req: WsOps[O]['req'] } }[WsOp];

/** What a client sends: any field may be left out (it is then etcd's default). */
export type WsRequestInit<O extends WsOp> = Init<WsOps[O]['req']>;

export interface WsStatus {
  readonly code: number;
  readonly message: string;
}

export type ServerFrame =
  | { readonly id: number; readonly res: unknown; readonly err?: undefined; readonly watch?: undefined }
  | { readonly id: number; readonly err: WsStatus; readonly res?: undefined; readonly watch?: undefined }
  | { readonly watch: Init<pb.WatchResponse>; readonly id?: undefined; readonly res?: undefined; readonly err?: undefined };

/** int64 arrives as bigint (undefined fields travel as msgpack's undefined extension). */
const packr = new Packr({ useRecords: false, int64AsType: 'bigint' });

export function encodeFrame(frame: object): Buffer {
  return packr.pack(frame);
}

/** The peer broke the protocol: the connection is closed with this reason. */
export class WsProtocolError extends Error {
  override name = 'WsProtocolError';
}

/** A request that cannot run (unknown op, fields of the wrong type): answered with `code`. */
export class WsBadRequest extends Error {
  override name = 'WsBadRequest';
  constructor(
    readonly id: number,
    readonly code: GrpcCode,
    message: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------- server side

/** Decodes and checks a client frame; throws WsProtocolError or WsBadRequest. */
export function decodeRequest(data: Uint8Array): WsRequest {
  let frame: unknown;
  try {
    frame = packr.unpack(data);
  } catch (e) {
    throw new WsProtocolError(`not msgpack (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isMap(frame)) throw new WsProtocolError('a frame must be a map');
  const id = frame['id'];
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new WsProtocolError('a request needs a numeric id');
  const op = frame['op'];
  const reader = typeof op === 'string' && Object.hasOwn(REQUEST_READERS, op) ? REQUEST_READERS[op as WsOp] : undefined;
  if (reader === undefined) throw new WsBadRequest(id, GrpcCode.Unimplemented, `ws: unknown op ${JSON.stringify(op)}`);
  const req = frame['req'] ?? {};
  if (!isMap(req)) throw new WsBadRequest(id, GrpcCode.InvalidArgument, 'ws: req must be a map');
  try {
    return { id, op, req: reader(new Fields(req, '')) } as WsRequest;
  } catch (e) {
    if (e instanceof FieldError) throw new WsBadRequest(id, GrpcCode.InvalidArgument, `ws: ${e.message}`);
    throw e;
  }
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

class FieldError extends Error {}

const EMPTY = Buffer.alloc(0);

/** Typed reads of a request's fields, with etcd's defaults for absent ones. */
class Fields {
  constructor(
    private readonly m: Record<string, unknown>,
    private readonly where: string,
  ) {}

  private fail(name: string, want: string): never {
    throw new FieldError(`${this.where}${name} must be ${want}`);
  }

  has(name: string): boolean {
    return this.m[name] !== undefined && this.m[name] !== null;
  }

  /** Bytes: bin (a string is taken as its UTF-8). */
  bytes(name: string): Buffer {
    const v = this.m[name];
    if (v === undefined || v === null) return EMPTY;
    if (Buffer.isBuffer(v)) return v;
    if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    if (typeof v === 'string') return Buffer.from(v, 'utf8');
    return this.fail(name, 'bytes');
  }

  int(name: string): number {
    const v = this.m[name];
    if (v === undefined || v === null) return 0;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
    if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
    return this.fail(name, 'an integer');
  }

  id(name: string): bigint {
    const v = this.m[name];
    if (v === undefined || v === null) return 0n;
    if (typeof v === 'bigint' && BigInt.asIntN(64, v) === v) return v;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
    return this.fail(name, 'a 64-bit integer');
  }

  bool(name: string): boolean {
    const v = this.m[name];
    if (v === undefined || v === null) return false;
    if (typeof v === 'boolean') return v;
    return this.fail(name, 'a boolean');
  }

  list<T>(name: string, read: (f: Fields) => T): T[] {
    const v = this.m[name];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) return this.fail(name, 'an array');
    return v.map((item: unknown, i) => {
      if (!isMap(item)) return this.fail(`${name}[${i}]`, 'a map');
      return read(new Fields(item, `${this.where}${name}[${i}].`));
    });
  }

  ints(name: string): number[] {
    const v = this.m[name];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) return this.fail(name, 'an array');
    return v.map((x: unknown, i) => (typeof x === 'number' && Number.isSafeInteger(x) ? x : this.fail(`${name}[${i}]`, 'an integer')));
  }

  sub<T>(name: string, read: (f: Fields) => T): T {
    const v = this.m[name];
    if (!isMap(v)) return this.fail(name, 'a map');
    return read(new Fields(v, `${this.where}${name}.`));
  }
}

const readRange = (f: Fields): pb.RangeRequest => ({
  key: f.bytes('key'),
  rangeEnd: f.bytes('rangeEnd'),
  limit: f.int('limit'),
  revision: f.int('revision'),
  sortOrder: f.int('sortOrder'),
  sortTarget: f.int('sortTarget'),
  serializable: f.bool('serializable'),
  keysOnly: f.bool('keysOnly'),
  countOnly: f.bool('countOnly'),
  minModRevision: f.int('minModRevision'),
  maxModRevision: f.int('maxModRevision'),
  minCreateRevision: f.int('minCreateRevision'),
  maxCreateRevision: f.int('maxCreateRevision'),
});

const readPut = (f: Fields): pb.PutRequest => ({
  key: f.bytes('key'),
  value: f.bytes('value'),
  lease: f.id('lease'),
  prevKv: f.bool('prevKv'),
  ignoreValue: f.bool('ignoreValue'),
  ignoreLease: f.bool('ignoreLease'),
});

const readDeleteRange = (f: Fields): pb.DeleteRangeRequest => ({ key: f.bytes('key'), rangeEnd: f.bytes('rangeEnd'), prevKv: f.bool('prevKv') });

/** A txn op: exactly the member that is present (etcd rejects an op with none). */
function readRequestOp(f: Fields): pb.RequestOp {
  if (f.has('requestRange')) return { request: 'requestRange', requestRange: f.sub('requestRange', readRange) };
  if (f.has('requestPut')) return { request: 'requestPut', requestPut: f.sub('requestPut', readPut) };
  if (f.has('requestDeleteRange')) return { request: 'requestDeleteRange', requestDeleteRange: f.sub('requestDeleteRange', readDeleteRange) };
  if (f.has('requestTxn')) return { request: 'requestTxn', requestTxn: f.sub('requestTxn', readTxn) };
  return {};
}

function readCompare(f: Fields): pb.Compare {
  const base = { result: f.int('result'), target: f.int('target'), key: f.bytes('key'), rangeEnd: f.bytes('rangeEnd') };
  if (f.has('version')) return { ...base, targetUnion: 'version', version: f.int('version') };
  if (f.has('createRevision')) return { ...base, targetUnion: 'createRevision', createRevision: f.int('createRevision') };
  if (f.has('modRevision')) return { ...base, targetUnion: 'modRevision', modRevision: f.int('modRevision') };
  if (f.has('value')) return { ...base, targetUnion: 'value', value: f.bytes('value') };
  if (f.has('lease')) return { ...base, targetUnion: 'lease', lease: f.id('lease') };
  return base;
}

function readTxn(f: Fields): pb.TxnRequest {
  return { compare: f.list('compare', readCompare), success: f.list('success', readRequestOp), failure: f.list('failure', readRequestOp) };
}

const REQUEST_READERS: { readonly [O in WsOp]: (f: Fields) => WsOps[O]['req'] } = {
  put: readPut,
  range: readRange,
  deleteRange: readDeleteRange,
  txn: readTxn,
  compact: (f) => ({ revision: f.int('revision'), physical: f.bool('physical') }),
  leaseGrant: (f) => ({ TTL: f.int('TTL'), ID: f.id('ID') }),
  leaseRevoke: (f) => ({ ID: f.id('ID') }),
  leaseKeepAlive: (f) => ({ ID: f.id('ID') }),
  leaseTimeToLive: (f) => ({ ID: f.id('ID'), keys: f.bool('keys') }),
  watchCreate: (f) => ({
    key: f.bytes('key'),
    rangeEnd: f.bytes('rangeEnd'),
    startRevision: f.int('startRevision'),
    progressNotify: f.bool('progressNotify'),
    filters: f.ints('filters'),
    prevKv: f.bool('prevKv'),
    watchId: f.int('watchId'),
    fragment: f.bool('fragment'),
  }),
  watchCancel: (f) => ({ watchId: f.int('watchId') }),
};

// ---------------------------------------------------------------- client side

export function encodeRequest<O extends WsOp>(id: number, op: O, req: WsRequestInit<O>): Buffer {
  return packr.pack({ id, op, req });
}

/** Decodes a server frame (trusted: the server built it). */
export function decodeServerFrame(data: Uint8Array): ServerFrame {
  const frame: unknown = packr.unpack(data);
  if (!isMap(frame)) throw new WsProtocolError('a frame must be a map');
  return frame as ServerFrame;
}
