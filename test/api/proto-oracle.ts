// Test support: the project's .proto files loaded with protobufjs, an implementation independent
// of tsetcd's codecs, plus a seeded generator of random messages driven by that reflection.

import { createHash } from 'node:crypto';
import path from 'node:path';
import protobuf from 'protobufjs';
import { REPO_ROOT } from '../helpers/processes.js';

export const PROTO_DIR = path.join(REPO_ROOT, 'proto');
export const PROTO_FILES = [
  'etcdserverpb/rpc.proto',
  'v3lockpb/v3lock.proto',
  'v3electionpb/v3election.proto',
] as const;

export function loadProtoRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
  root.loadSync([...PROTO_FILES]);
  root.resolveAll();
  return root;
}

/** 64-bit fields tsetcd represents as bigint (IDs); every other 64-bit field is a number. */
const ID_FIELD_NAMES = new Set(['ID', 'lease', 'clusterId', 'memberId', 'memberID', 'leader', 'targetID']);

export function is64(field: protobuf.Field): boolean {
  return field.type === 'int64' || field.type === 'uint64';
}

export function isIdField(field: protobuf.Field): boolean {
  return is64(field) && ID_FIELD_NAMES.has(field.name);
}

/** Deterministic PRNG (mulberry32) so a failing seed can be replayed. */
export class Rng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  /** A random 64-bit pattern as unsigned bigint. */
  u64(): bigint {
    return (BigInt(this.int(2 ** 32)) << 32n) | BigInt(this.int(2 ** 32));
  }
}

/**
 * A message in a neutral form: 64-bit integers as bigint, bytes as Buffer, oneofs as the one set
 * member field, absent fields absent.
 */
export type Abstract = { [field: string]: AbstractValue };
export type AbstractValue = bigint | number | string | boolean | Buffer | Abstract | AbstractValue[];

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const EDGE_U64 = [0n, 1n, 127n, 128n, 16383n, 16384n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];
const EDGE_I64 = [0n, 1n, -1n, 127n, 128n, -128n, 2n ** 31n, -(2n ** 31n), 2n ** 53n - 1n, -(2n ** 53n - 1n), 2n ** 63n - 1n, -(2n ** 63n)];
const STRINGS = ['', 'a', 'http://127.0.0.1:2380', 'ünïcödé', '日本語のキー', '🔑🗝️', 'x'.repeat(42), 'y'.repeat(43), 'z'.repeat(200), '\u0000nul'];

function random64(rng: Rng, field: protobuf.Field): bigint {
  const unsigned = field.type === 'uint64';
  if (isIdField(field)) {
    if (rng.chance(0.4)) return rng.pick(unsigned ? EDGE_U64 : EDGE_I64);
    const v = rng.u64();
    return unsigned ? v : BigInt.asIntN(64, v);
  }
  // Numbers: stay within the exact range of a double.
  const edges = (unsigned ? EDGE_U64 : EDGE_I64).filter((v) => v <= MAX_SAFE && v >= -MAX_SAFE);
  if (rng.chance(0.4)) return rng.pick(edges);
  const v = BigInt(rng.int(2 ** 21)) * BigInt(2 ** 32) + BigInt(rng.int(2 ** 32));
  return unsigned || rng.chance(0.7) ? v : -v;
}

function randomScalar(rng: Rng, field: protobuf.Field): AbstractValue {
  if (is64(field)) return random64(rng, field);
  switch (field.type) {
    case 'bool':
      return rng.chance(0.5);
    case 'string':
      return rng.chance(0.7) ? rng.pick(STRINGS) : rng.bytes(rng.int(30)).toString('latin1');
    case 'bytes': {
      const n = rng.pick([0, 1, 2, 16, 127, 128, 255, 300, 16383, 16384, rng.int(64)]);
      return rng.bytes(n);
    }
    case 'uint32':
      return rng.pick([0, 1, 127, 128, 2 ** 31, 2 ** 32 - 1, rng.int(2 ** 32)]);
    case 'int32':
      return rng.pick([0, 1, -1, 2 ** 31 - 1, -(2 ** 31), rng.int(1000)]);
    default: {
      const enumType = field.resolvedType;
      if (enumType instanceof protobuf.Enum) {
        const values = Object.values(enumType.values);
        // Proto3 keeps unknown enum values: include some, negative ones too.
        return rng.chance(0.85) ? rng.pick(values) : rng.pick([7, 99, -1, 2 ** 31 - 1]);
      }
      throw new Error(`generator: unsupported field type ${field.type}`);
    }
  }
}

export function randomMessage(rng: Rng, type: protobuf.Type, depth = 0): Abstract {
  const out: Abstract = {};
  for (const oneof of type.oneofsArray) {
    if (rng.chance(0.25) || (depth > 2 && oneof.fieldsArray.some((f) => f.resolvedType instanceof protobuf.Type))) continue;
    const field = rng.pick(oneof.fieldsArray);
    out[field.name] = randomValue(rng, field, depth);
  }
  for (const field of type.fieldsArray) {
    if (field.partOf) continue;
    if (field.repeated) {
      if (rng.chance(0.3)) continue;
      const n = depth > 2 ? 0 : rng.int(4);
      const items: AbstractValue[] = [];
      for (let i = 0; i < n; i++) items.push(randomValue(rng, field, depth));
      out[field.name] = items;
    } else if (!rng.chance(0.3)) {
      if (field.resolvedType instanceof protobuf.Type && depth > 3) continue;
      out[field.name] = randomValue(rng, field, depth);
    }
  }
  return out;
}

function randomValue(rng: Rng, field: protobuf.Field, depth: number): AbstractValue {
  const t = field.resolvedType;
  return t instanceof protobuf.Type ? randomMessage(rng, t, depth + 1) : randomScalar(rng, field);
}

/** The form protobufjs's fromObject accepts: 64-bit values as decimal strings. */
export function toProtobufjs(type: protobuf.Type, m: Abstract): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const v = m[field.name];
    if (v === undefined) continue;
    const convert = (x: AbstractValue): unknown => {
      const t = field.resolvedType;
      if (t instanceof protobuf.Type) return toProtobufjs(t, x as Abstract);
      return typeof x === 'bigint' ? x.toString() : x;
    };
    out[field.name] = Array.isArray(v) ? v.map(convert) : convert(v);
  }
  return out;
}

/** The form tsetcd's encoders accept: IDs stay bigint, other 64-bit values become numbers. */
export function toTsetcd(type: protobuf.Type, m: Abstract, rng: Rng): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const v = m[field.name];
    if (v === undefined) continue;
    const convert = (x: AbstractValue): unknown => {
      const t = field.resolvedType;
      if (t instanceof protobuf.Type) return toTsetcd(t, x as Abstract, rng);
      if (typeof x === 'bigint') return isIdField(field) ? x : Number(x);
      // Encoders take any Uint8Array for bytes.
      if (Buffer.isBuffer(x) && rng.chance(0.3)) return new Uint8Array(x);
      return x;
    };
    out[field.name] = Array.isArray(v) ? v.map(convert) : convert(v);
  }
  return out;
}

export type Canonical = { [field: string]: unknown };

/**
 * A comparable form of a decoded message from either implementation: absent scalars become their
 * defaults, 64-bit values decimal strings, bytes hex (or length and digest), absent messages null; oneof members appear
 * only when set. `side` checks tsetcd's own representation rules on the way.
 */
export function canonical(type: protobuf.Type, m: Record<string, unknown>, side: 'tsetcd' | 'other'): Canonical {
  const out: Canonical = {};
  if (side === 'tsetcd') {
    const known = new Set([...type.fieldsArray.map((f) => f.name), ...type.oneofsArray.map((o) => o.name)]);
    for (const k of Object.keys(m)) if (!known.has(k)) throw new Error(`${type.name}: unexpected property ${k}`);
  }
  for (const field of type.fieldsArray) {
    const v = m[field.name];
    if (field.partOf) {
      if (v === undefined || v === null) continue;
      if (side === 'tsetcd' && m[field.partOf.name] !== field.name) {
        throw new Error(`${type.name}: oneof ${field.partOf.name} says ${String(m[field.partOf.name])}, ${field.name} is set`);
      }
      out[field.name] = canonicalValue(field, v, side);
    } else if (field.repeated) {
      out[field.name] = ((v ?? []) as unknown[]).map((x) => canonicalValue(field, x, side));
    } else if (field.resolvedType instanceof protobuf.Type) {
      out[field.name] = v === undefined || v === null ? null : canonicalValue(field, v, side);
    } else {
      out[field.name] = canonicalValue(field, v ?? defaultOf(field), side);
    }
  }
  return out;
}

function defaultOf(field: protobuf.Field): unknown {
  if (is64(field)) return 0n;
  switch (field.type) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
      return Buffer.alloc(0);
    default:
      return 0;
  }
}

function canonicalValue(field: protobuf.Field, v: unknown, side: 'tsetcd' | 'other'): unknown {
  const t = field.resolvedType;
  if (t instanceof protobuf.Type) return canonical(t, v as Record<string, unknown>, side);
  if (is64(field)) {
    if (side === 'tsetcd') {
      const expected = isIdField(field) ? 'bigint' : 'number';
      if (typeof v !== expected && !(v === 0n && expected === 'number')) {
        throw new Error(`${field.parent?.name}.${field.name}: ${typeof v}, expected ${expected}`);
      }
    }
    return BigInt(v as bigint | number | string).toString();
  }
  if (field.type === 'bytes') {
    if (side === 'tsetcd' && !Buffer.isBuffer(v)) throw new Error(`${field.name}: bytes not a Buffer`);
    const b = Buffer.from(v as Uint8Array);
    // Long values as length and digest, so that a failing comparison stays readable.
    return b.length <= 32 ? b.toString('hex') : `${b.length} bytes sha1:${createHash('sha1').update(b).digest('hex')}`;
  }
  return v;
}
