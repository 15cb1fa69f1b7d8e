// A register client for fault tests over gRPC (src/main/api/grpc/client.ts and the project's
// codecs): put, linearizable get, compare-and-set through Txn, Status and HashKV, each with a
// deadline. It never retries, so every call is one request, and it tells a request that never
// left (the connection could not be opened: certainly not applied) from one whose fate is
// unknown (timed out, connection lost, server error: maybe applied).
import { GrpcChannel, grpcMethod } from '../../src/main/api/grpc/client.js';
import { KVService, MaintenanceService } from '../../src/main/api/grpc/etcd-services.js';
import { encodeFrame } from '../../src/main/api/grpc/framing.js';
import { CompareResult, CompareTarget, decode, type Compare, type Init } from '../../src/main/api/proto/index.js';

const PUT = grpcMethod(KVService, 'Put');
const RANGE = grpcMethod(KVService, 'Range');
const TXN = grpcMethod(KVService, 'Txn');
const STATUS = grpcMethod(MaintenanceService, 'Status');
const HASH_KV = grpcMethod(MaintenanceService, 'HashKV');

export class CallFailed extends Error {
  constructor(
    message: string,
    /** True when the request certainly had no effect (it was never sent). */
    readonly definite: boolean,
  ) {
    super(message);
    this.name = 'CallFailed';
  }
}

export interface ReadResult {
  /** null: the key does not exist. */
  value: string | null;
  modRevision: number;
  /** The store's revision when read. */
  revision: number;
}

/** What a CAS compares: the value, or (what etcd clients mostly do) the key's mod revision (0 = absent). */
export type CasGuard = { value: string } | { modRevision: number };

export interface MemberStatusInfo {
  memberId: bigint;
  leader: bigint;
  raftTerm: number;
  raftIndex: number;
  raftAppliedIndex: number;
  revision: number;
}

export class KvClient {
  private channel: GrpcChannel | undefined;
  private connecting: Promise<GrpcChannel> | undefined;
  private closed = false;

  constructor(readonly url: string) {}

  /** Resolves with the revision the put created. */
  async put(key: string, value: string, timeoutMs: number): Promise<number> {
    const res = decode(PUT.response, await this.call(PUT, encodeFrame(PUT.request, { key: Buffer.from(key), value: Buffer.from(value) }), timeoutMs));
    return res.header?.revision ?? 0;
  }

  async get(key: string, timeoutMs: number, serializable = false): Promise<ReadResult> {
    const res = decode(RANGE.response, await this.call(RANGE, encodeFrame(RANGE.request, { key: Buffer.from(key), serializable }), timeoutMs));
    const kv = res.kvs[0];
    return { value: kv === undefined ? null : kv.value.toString(), modRevision: kv?.modRevision ?? 0, revision: res.header?.revision ?? 0 };
  }

  /** The value the key had at `revision` (null if none then); for checking acknowledged writes. */
  async getAt(key: string, revision: number, timeoutMs: number): Promise<string | null> {
    const res = decode(RANGE.response, await this.call(RANGE, encodeFrame(RANGE.request, { key: Buffer.from(key), revision }), timeoutMs));
    return res.kvs[0]?.value.toString() ?? null;
  }

  /** Puts `next` if the guard holds; resolves with whether it did and the revision after. */
  async cas(key: string, guard: CasGuard, next: string, timeoutMs: number): Promise<{ succeeded: boolean; revision: number }> {
    const k = Buffer.from(key);
    const compare: Init<Compare> =
      'value' in guard
        ? { key: k, target: CompareTarget.VALUE, result: CompareResult.EQUAL, value: Buffer.from(guard.value) }
        : { key: k, target: CompareTarget.MOD, result: CompareResult.EQUAL, modRevision: guard.modRevision };
    const frame = encodeFrame(TXN.request, { compare: [compare], success: [{ requestPut: { key: k, value: Buffer.from(next) } }] });
    const res = decode(TXN.response, await this.call(TXN, frame, timeoutMs));
    return { succeeded: res.succeeded, revision: res.header?.revision ?? 0 };
  }

  async status(timeoutMs: number): Promise<MemberStatusInfo> {
    const res = decode(STATUS.response, await this.call(STATUS, encodeFrame(STATUS.request, {}), timeoutMs));
    return {
      memberId: res.header?.memberId ?? 0n,
      leader: res.leader,
      raftTerm: res.raftTerm,
      raftIndex: res.raftIndex,
      raftAppliedIndex: res.raftAppliedIndex,
      revision: res.header?.revision ?? 0,
    };
  }

  /** etcd's HashKV at `revision` (0: current): the hash and the revision it covers. */
  async hashKV(revision: number, timeoutMs: number): Promise<{ hash: number; revision: number }> {
    const res = decode(HASH_KV.response, await this.call(HASH_KV, encodeFrame(HASH_KV.request, { revision }), timeoutMs));
    return { hash: res.hash, revision: res.header?.revision ?? 0 };
  }

  close(): void {
    this.closed = true;
    this.channel?.destroy();
    this.channel = undefined;
  }

  private async call(method: Parameters<GrpcChannel['unary']>[0], frame: Buffer, timeoutMs: number): Promise<Buffer> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), timeoutMs)));
    try {
      let channel: GrpcChannel;
      try {
        const opened = await Promise.race([this.open(), expired]);
        if (opened === 'expired') throw new Error(`no connection within ${timeoutMs} ms`);
        channel = opened;
      } catch (e) {
        throw new CallFailed(`connect ${this.url}: ${(e as Error).message}`, true);
      }
      const answer: Buffer | Error | 'expired' = await Promise.race([channel.unary(method, frame), expired]).catch((e: Error) => e);
      if (Buffer.isBuffer(answer)) return answer;
      // Calls are one at a time per client: dropping the connection cancels only this one.
      if (this.channel === channel) this.channel = undefined;
      channel.destroy();
      throw new CallFailed(answer === 'expired' ? `timed out after ${timeoutMs} ms` : answer.message, false);
    } finally {
      clearTimeout(timer);
    }
  }

  private open(): Promise<GrpcChannel> {
    if (this.closed) return Promise.reject(new Error('client closed'));
    if (this.channel !== undefined) return Promise.resolve(this.channel);
    this.connecting ??= GrpcChannel.connect(this.url)
      .then((c) => {
        if (this.closed) {
          c.destroy();
          throw new Error('client closed');
        }
        this.channel = c;
        return c;
      })
      .finally(() => (this.connecting = undefined));
    return this.connecting;
  }
}
