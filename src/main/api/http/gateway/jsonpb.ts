// Protobuf messages to and from JSON the way etcd's gateway does it (golang/protobuf's jsonpb with
// OrigName, as grpc-gateway v1 configures it), driven by protobufjs reflection over the project's
// .proto files:
// - names: the .proto field names (snake_case); reading also takes the lowerCamel form;
// - 64-bit integers as decimal strings, bytes as standard base64, enums by name;
// - fields at their default value are left out; a message sent on the wire is written even if
//   empty (`{}`), as Go keeps it;
// - errors on bad input carry Go's text ("json: cannot unmarshal number into Go value of type
//   bool", "unknown value \"X\" for enum etcdserverpb.RangeRequest_SortOrder", ...).
import protobuf from 'protobufjs';
import { goBase64Decode } from './go-base64.js';
import { goQuoteBytes, readWhole, type JsonValue } from './go-json.js';

/** A type mismatch or an unknown enum name: a jsonpb error (the gateway answers InvalidArgument). */
export class JsonpbError extends Error {
  override name = 'JsonpbError';
}

/** 64-bit integers travel to protobufjs's writer as their two 32-bit halves. */
interface LongBits {
  readonly low: number;
  readonly high: number;
  readonly unsigned: boolean;
}

/** A message as protobufjs encodes it: .proto field name → value. */
export interface ProtoObject {
  [field: string]: ProtoValue;
}
type ProtoScalar = string | number | boolean | Buffer | LongBits;
type ProtoValue = ProtoScalar | ProtoObject | readonly (ProtoScalar | ProtoObject)[];

const MESSAGE_GO_TYPE = 'map[string]json.RawMessage';
const REPEATED_GO_TYPE = '[]json.RawMessage';

interface IntType {
  readonly goType: string;
  readonly min: bigint;
  readonly max: bigint;
  readonly long: boolean;
}

const INT_TYPES: Readonly<Record<string, IntType>> = {
  int64: { goType: 'int64', min: -(1n << 63n), max: (1n << 63n) - 1n, long: true },
  sint64: { goType: 'int64', min: -(1n << 63n), max: (1n << 63n) - 1n, long: true },
  sfixed64: { goType: 'int64', min: -(1n << 63n), max: (1n << 63n) - 1n, long: true },
  uint64: { goType: 'uint64', min: 0n, max: (1n << 64n) - 1n, long: true },
  fixed64: { goType: 'uint64', min: 0n, max: (1n << 64n) - 1n, long: true },
  int32: { goType: 'int32', min: -(1n << 31n), max: (1n << 31n) - 1n, long: false },
  sint32: { goType: 'int32', min: -(1n << 31n), max: (1n << 31n) - 1n, long: false },
  sfixed32: { goType: 'int32', min: -(1n << 31n), max: (1n << 31n) - 1n, long: false },
  uint32: { goType: 'uint32', min: 0n, max: (1n << 32n) - 1n, long: false },
  fixed32: { goType: 'uint32', min: 0n, max: (1n << 32n) - 1n, long: false },
};
const UINT8: IntType = { goType: 'uint8', min: 0n, max: 255n, long: false };

// ---------------------------------------------------------------- JSON → message

/** A request message from its JSON (null or nothing: the empty message). */
export function messageFromJson(type: protobuf.Type, value: JsonValue): ProtoObject {
  if (value.kind === 'null') return {};
  if (value.kind !== 'object') throw typeError(value, MESSAGE_GO_TYPE);
  const remaining = new Map(value.fields);
  const out: ProtoObject = {};
  // Go fills the struct's own fields in order, then the members of oneofs.
  for (const pass of [false, true]) {
    for (const field of type.fieldsArray) {
      if ((field.partOf !== null) !== pass) continue;
      const raw = takeField(remaining, field);
      if (raw === undefined) continue;
      const v = fieldFromJson(field, raw);
      if (v !== undefined) out[field.name] = v;
    }
  }
  // Unknown fields are ignored, as etcd's gateway does.
  return out;
}

/** Takes the field by its .proto name or its JSON (lowerCamel) name, preferring the latter. */
function takeField(fields: Map<string, JsonValue>, field: protobuf.Field): JsonValue | undefined {
  const camel = jsonName(field.name);
  const byCamel = fields.get(camel);
  const byName = fields.get(field.name);
  fields.delete(camel);
  fields.delete(field.name);
  return byCamel ?? byName;
}

/** protoc's JSON name: underscores dropped, the letter after each capitalized. */
function jsonName(name: string): string {
  return name.replace(/_(.)?/g, (_m, c: string | undefined) => (c === undefined ? '' : c.toUpperCase()));
}

function fieldFromJson(field: protobuf.Field, v: JsonValue): ProtoValue | undefined {
  if (!field.repeated) return singleFromJson(field, v);
  if (v.kind === 'null') return undefined;
  if (v.kind !== 'array') throw typeError(v, REPEATED_GO_TYPE);
  return v.items.map((item) => singleFromJson(field, item) ?? zeroOf(field));
}

/** One value of a field; undefined for null (left unset, as Go leaves it). */
function singleFromJson(field: protobuf.Field, v: JsonValue): ProtoScalar | ProtoObject | undefined {
  if (v.kind === 'null') return undefined;
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return messageFromJson(resolved, v);
  if (resolved instanceof protobuf.Enum) return enumFromJson(resolved, v);
  switch (field.type) {
    case 'bytes':
      return bytesFromJson(v);
    case 'string':
      if (v.kind !== 'string') throw typeError(v, 'string');
      return v.bytes.toString('utf8');
    case 'bool':
      if (v.kind !== 'bool') throw typeError(v, 'bool');
      return v.value;
    case 'double':
    case 'float':
      return floatFromJson(v, field.type === 'double' ? 'float64' : 'float32');
  }
  const int = INT_TYPES[field.type];
  if (int === undefined) throw new JsonpbError(`unsupported field type ${field.type}`);
  return intFromJson(v, int);
}

function zeroOf(field: protobuf.Field): ProtoScalar | ProtoObject {
  if (field.resolvedType instanceof protobuf.Type) return {};
  if (field.resolvedType instanceof protobuf.Enum) return 0;
  switch (field.type) {
    case 'bytes':
      return Buffer.alloc(0);
    case 'string':
      return '';
    case 'bool':
      return false;
  }
  return 0;
}

/** Integers: numbers, or numbers in quotes (jsonpb strips the quotes and reads what is inside). */
function intFromJson(v: JsonValue, int: IntType): ProtoScalar | undefined {
  const n = v.kind === 'string' ? readWhole(v.raw) : v;
  if (n.kind === 'null') return undefined;
  if (n.kind !== 'number') throw typeError(n, int.goType);
  const value = parseInteger(n.text, int);
  if (!int.long) return Number(value);
  const bits = BigInt.asUintN(64, value);
  return { low: Number(bits & 0xffffffffn) | 0, high: Number(bits >> 32n) | 0, unsigned: int.min === 0n };
}

/** Go's strconv.ParseInt / ParseUint plus the target's range. */
function parseInteger(text: string, int: IntType): bigint {
  if (!/^-?\d+$/.test(text) || (int.min === 0n && text.startsWith('-'))) throw numberError(text, int.goType);
  const value = BigInt(text);
  if (value < int.min || value > int.max) throw numberError(text, int.goType);
  return value;
}

function floatFromJson(v: JsonValue, goType: string): number | undefined {
  const n = v.kind === 'string' ? readWhole(v.raw) : v;
  if (n.kind === 'null') return undefined;
  if (n.kind !== 'number') throw typeError(n, goType);
  return Number(n.text);
}

function enumFromJson(e: protobuf.Enum, v: JsonValue): number | undefined {
  if (v.kind === 'string') {
    // Go looks the name up as written, escapes and all.
    const value = e.values[v.raw.toString('utf8')];
    if (value === undefined) throw new JsonpbError(`unknown value ${goQuoteBytes(v.raw)} for enum ${goEnumName(e)}`);
    return value;
  }
  if (v.kind !== 'number') throw typeError(v, goEnumName(e));
  return Number(parseInteger(v.text, { ...INT_TYPES['int32']!, goType: goEnumName(e) }));
}

/** []byte: a base64 string, or (as Go's encoding/json also takes) an array of numbers 0-255. */
function bytesFromJson(v: JsonValue): Buffer {
  if (v.kind === 'string') return goBase64Decode(v.bytes);
  if (v.kind !== 'array') throw typeError(v, '[]uint8');
  return Buffer.from(
    v.items.map((item) => {
      if (item.kind === 'null') return 0;
      if (item.kind !== 'number') throw typeError(item, UINT8.goType);
      return Number(parseInteger(item.text, UINT8));
    }),
  );
}

/** The Go type name jsonpb reports for an enum: package, then the nesting joined with "_". */
function goEnumName(e: protobuf.Enum): string {
  const names = [e.name];
  let parent = e.parent;
  while (parent instanceof protobuf.Type) {
    names.unshift(parent.name);
    parent = parent.parent;
  }
  const pkg = parent?.fullName.replace(/^\./, '') ?? '';
  return (pkg === '' ? '' : pkg + '.') + names.join('_');
}

function typeError(v: JsonValue, goType: string): JsonpbError {
  return new JsonpbError(`json: cannot unmarshal ${v.kind} into Go value of type ${goType}`);
}

function numberError(text: string, goType: string): JsonpbError {
  return new JsonpbError(`json: cannot unmarshal number ${text} into Go value of type ${goType}`);
}

// ---------------------------------------------------------------- message → JSON

/** A decoded protobufjs message (fields set from the wire are own properties). */
export type DecodedMessage = Readonly<Record<string, unknown>>;

/** A response message as etcd's gateway writes it. */
export function messageToJson(type: protobuf.Type, m: DecodedMessage): string {
  let out = '{';
  for (const field of type.fieldsArray) {
    const v = m[field.name];
    if (!isSet(field, m, v)) continue;
    if (out.length > 1) out += ',';
    out += goJsonString(field.name) + ':' + valueToJson(field, v);
  }
  return out + '}';
}

function isSet(field: protobuf.Field, m: DecodedMessage, v: unknown): boolean {
  if (v === null || v === undefined) return false;
  // A oneof member that was sent is written even at its default value.
  if (field.partOf !== null) return Object.hasOwn(m, field.name);
  if (field.repeated) return Array.isArray(v) && v.length > 0;
  if (field.resolvedType instanceof protobuf.Type) return true;
  if (v instanceof Uint8Array) return v.length > 0 || Object.hasOwn(m, field.name);
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v !== '';
  return longToBigInt(v) !== 0n;
}

function valueToJson(field: protobuf.Field, v: unknown): string {
  if (field.repeated && Array.isArray(v)) return '[' + v.map((item: unknown) => singleToJson(field, item)).join(',') + ']';
  return singleToJson(field, v);
}

function singleToJson(field: protobuf.Field, v: unknown): string {
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return messageToJson(resolved, (v ?? {}) as DecodedMessage);
  if (resolved instanceof protobuf.Enum) {
    const n = typeof v === 'number' ? v : 0;
    return goJsonString(resolved.valuesById[n] ?? String(n));
  }
  switch (field.type) {
    case 'bytes':
      return '"' + Buffer.from((v ?? new Uint8Array(0)) as Uint8Array).toString('base64') + '"';
    case 'string':
      return goJsonString(typeof v === 'string' ? v : '');
    case 'bool':
      return v === true ? 'true' : 'false';
    case 'double':
    case 'float':
      return String(v);
  }
  const int = INT_TYPES[field.type];
  if (int?.long === true) return '"' + longToBigInt(v, int.min === 0n).toString() + '"';
  return String(typeof v === 'number' ? v : 0);
}

/** A protobufjs 64-bit value (a Long, or a number when small) as a bigint. */
function longToBigInt(v: unknown, unsigned = false): bigint {
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'object' && v !== null && 'low' in v && 'high' in v) {
    const { low, high } = v as { low: number; high: number; unsigned?: boolean };
    const bits = (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
    return unsigned || (v as { unsigned?: boolean }).unsigned === true ? bits : BigInt.asIntN(64, bits);
  }
  return 0n;
}

/** Go's json.Marshal of a string: HTML-safe escapes, U+2028/9 escaped, lone surrogates as U+FFFD. */
export function goJsonString(s: string): string {
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c < 0x20 || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) {
      esc = SHORT_ESCAPES[c] ?? '\\u' + c.toString(16).padStart(4, '0');
    } else if (c >= 0xd800 && c < 0xe000) {
      const next = s.charCodeAt(i + 1);
      if (c < 0xdc00 && next >= 0xdc00 && next < 0xe000) {
        i++;
        continue;
      }
      esc = '\\ufffd';
    }
    if (esc === undefined) continue;
    out += s.slice(from, i) + esc;
    from = i + 1;
  }
  return out + s.slice(from) + '"';
}

const SHORT_ESCAPES: Readonly<Record<number, string>> = { 0x22: '\\"', 0x5c: '\\\\', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t' };
