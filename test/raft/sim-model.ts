// The simulated member's state machine (a KV register map with per-client de-duplication)
// and the encoding of the entries the simulation proposes.
import type { ConfChangeType, ConfState, NodeId } from '../../src/main/raft/types.js';

export interface KvValue {
  value: string;
  /** Log index of the write that set it. */
  index: number;
}

export interface StateMachine {
  applied: number;
  appliedTerm: number;
  kv: Map<string, KvValue>;
  /** Highest sequence number applied per client: a re-delivered proposal is applied once. */
  lastSeq: Map<number, number>;
  conf: ConfState;
}

export function newStateMachine(conf: ConfState): StateMachine {
  return { applied: 0, appliedTerm: 0, kv: new Map(), lastSeq: new Map(), conf: copyConf(conf) };
}

export function copyStateMachine(sm: StateMachine): StateMachine {
  return {
    applied: sm.applied,
    appliedTerm: sm.appliedTerm,
    kv: new Map(sm.kv),
    lastSeq: new Map(sm.lastSeq),
    conf: copyConf(sm.conf),
  };
}

export function copyConf(c: ConfState): ConfState {
  return { voters: c.voters.slice(), learners: c.learners.slice() };
}

export function sameStateMachine(a: StateMachine, b: StateMachine): boolean {
  if (a.applied !== b.applied || a.kv.size !== b.kv.size) return false;
  for (const [k, v] of a.kv) {
    const w = b.kv.get(k);
    if (w === undefined || w.value !== v.value || w.index !== v.index) return false;
  }
  return true;
}

export interface WriteOp {
  client: number;
  seq: number;
  key: string;
  value: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeWrite(op: WriteOp): Uint8Array {
  return encoder.encode(`w|${op.client}|${op.seq}|${op.key}|${op.value}`);
}

export function decodeWrite(data: Uint8Array): WriteOp | undefined {
  const s = decoder.decode(data);
  if (!s.startsWith('w|')) return undefined;
  const [, client, seq, key, value] = s.split('|');
  return { client: Number(client), seq: Number(seq), key: key!, value: value! };
}

export function encodeConf(type: ConfChangeType, nodeId: NodeId): Uint8Array {
  return encoder.encode(`c|${type}|${nodeId}`);
}

export function decodeConf(data: Uint8Array): { type: ConfChangeType; nodeId: NodeId } {
  const [, type, id] = decoder.decode(data).split('|');
  return { type: Number(type) as ConfChangeType, nodeId: BigInt(id!) };
}

/** A short identity of an entry's content, for comparing entries across nodes. */
export function entryKey(type: number, data: Uint8Array): string {
  return `${type}:${decoder.decode(data)}`;
}
