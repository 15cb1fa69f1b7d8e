// Test support: KV handlers over an in-memory map, just enough of etcd's semantics for real
// clients (etcdctl, etcd3) to exercise the transport. Not the store.

import type { ServiceHandlers } from '../../src/main/api/grpc/index.js';
import { KVService } from '../../src/main/api/grpc/index.js';
import type { Init, KeyValue, RequestOp, ResponseOp, ResponseHeader, TxnRequest, TxnResponse, Compare } from '../../src/main/api/proto/index.js';
import { CompareResult, CompareTarget } from '../../src/main/api/proto/index.js';
import { Errors } from '../../src/main/errors.js';

export class MemoryKV {
  private readonly kvs = new Map<string, KeyValue>();
  revision = 1;

  header(): ResponseHeader {
    return { clusterId: 0xcdf818194e3a8c32n, memberId: 0x8e9e05c52164694dn, revision: this.revision, raftTerm: 2 };
  }

  readonly handlers: ServiceHandlers<typeof KVService> = {
    Range: (req) => {
      if (req.revision > this.revision) throw Errors.futureRev;
      const kvs = this.inRange(req.key, req.rangeEnd);
      const limited = req.limit > 0 ? kvs.slice(0, req.limit) : kvs;
      return {
        header: this.header(),
        kvs: req.countOnly ? [] : limited.map((kv) => (req.keysOnly ? { ...kv, value: Buffer.alloc(0) } : kv)),
        more: limited.length < kvs.length,
        count: kvs.length,
      };
    },
    Put: (req) => {
      const prev = this.put(req.key, req.value, req.lease);
      return { header: this.header(), prevKv: req.prevKv ? prev : undefined };
    },
    DeleteRange: (req) => {
      const deleted = this.deleteRange(req.key, req.rangeEnd);
      return { header: this.header(), deleted: deleted.length, prevKvs: req.prevKv ? deleted : [] };
    },
    Txn: (req) => this.txn(req),
  };

  private inRange(key: Buffer, rangeEnd: Buffer): KeyValue[] {
    const all = rangeEnd.length === 1 && rangeEnd[0] === 0;
    return [...this.kvs.values()]
      .filter((kv) => (rangeEnd.length === 0 ? kv.key.equals(key) : Buffer.compare(kv.key, key) >= 0 && (all || Buffer.compare(kv.key, rangeEnd) < 0)))
      .sort((a, b) => Buffer.compare(a.key, b.key));
  }

  private put(key: Buffer, value: Buffer, lease: bigint): KeyValue | undefined {
    const id = key.toString('latin1');
    const prev = this.kvs.get(id);
    this.revision++;
    this.kvs.set(id, {
      key: Buffer.from(key),
      value: Buffer.from(value),
      lease,
      createRevision: prev?.createRevision ?? this.revision,
      modRevision: this.revision,
      version: (prev?.version ?? 0) + 1,
    });
    return prev;
  }

  private deleteRange(key: Buffer, rangeEnd: Buffer): KeyValue[] {
    const victims = this.inRange(key, rangeEnd);
    if (victims.length > 0) this.revision++;
    for (const kv of victims) this.kvs.delete(kv.key.toString('latin1'));
    return victims;
  }

  private txn(req: TxnRequest): Init<TxnResponse> {
    const succeeded = req.compare.every((c) => this.holds(c));
    const responses = (succeeded ? req.success : req.failure).map((op) => this.apply(op));
    return { header: this.header(), succeeded, responses };
  }

  private holds(c: Compare): boolean {
    const kv = this.kvs.get(c.key.toString('latin1'));
    let cmp: number;
    switch (c.target) {
      case CompareTarget.VALUE:
        cmp = Buffer.compare(kv?.value ?? Buffer.alloc(0), c.value ?? Buffer.alloc(0));
        break;
      case CompareTarget.VERSION:
        cmp = (kv?.version ?? 0) - (c.version ?? 0);
        break;
      case CompareTarget.CREATE:
        cmp = (kv?.createRevision ?? 0) - (c.createRevision ?? 0);
        break;
      case CompareTarget.MOD:
        cmp = (kv?.modRevision ?? 0) - (c.modRevision ?? 0);
        break;
      default:
        cmp = Number((kv?.lease ?? 0n) - (c.lease ?? 0n));
    }
    switch (c.result) {
      case CompareResult.EQUAL:
        return cmp === 0;
      case CompareResult.GREATER:
        return cmp > 0;
      case CompareResult.LESS:
        return cmp < 0;
      default:
        return cmp !== 0;
    }
  }

  private apply(op: RequestOp): Init<ResponseOp> {
    switch (op.request) {
      case 'requestPut':
        this.put(op.requestPut.key, op.requestPut.value, op.requestPut.lease);
        return { responsePut: { header: this.header() } };
      case 'requestDeleteRange': {
        const deleted = this.deleteRange(op.requestDeleteRange.key, op.requestDeleteRange.rangeEnd);
        return { responseDeleteRange: { header: this.header(), deleted: deleted.length } };
      }
      case 'requestRange': {
        const kvs = this.inRange(op.requestRange.key, op.requestRange.rangeEnd);
        return { responseRange: { header: this.header(), kvs, count: kvs.length } };
      }
      default:
        return {};
    }
  }
}
