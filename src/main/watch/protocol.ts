// Messages between the main thread (WatchHub) and the watch fan-out workers, and how they travel:
// structured clone, with every ArrayBuffer named below transferred (moved, not copied). Committed
// events do not travel here: they go through the shared ring (ring.ts, record.ts).
//
//   main → worker: create / cancel / progress / close-stream (a stream's requests, in the order the
//                  client sent them), acks (bytes of a stream's responses written to its gRPC stream),
//                  history (a reply: records read from the store), pages (output pages written out,
//                  to be used again), close.
//   worker → main: output (responses for many streams in a few pages, see OutputArena), history (a
//                  request to read the store), closed.
import type { MessagePort, Worker } from 'node:worker_threads';
import type { ArenaOutput } from './response.js';

/** What a worker is started with (workerData). */
export interface WatchWorkerData {
  readonly ring: SharedArrayBuffer;
  /** The ring's next sequence number and the store's revision when the worker started. */
  readonly startSeq: number;
  readonly startRevision: number;
  readonly clusterId: bigint;
  readonly memberId: bigint;
  /** etcd's fragment threshold: --max-request-bytes plus gRPC overhead. */
  readonly maxResponseBytes: number;
  /** Progress notifications for progress_notify watchers, every this many ms (plus up to 10% jitter). */
  readonly progressIntervalMs: number;
  /** Bytes of responses a stream may have in flight (not yet accepted by its gRPC stream) before its watchers fall behind. */
  readonly streamWindowBytes: number;
  /** The same bound over all of a worker's streams. */
  readonly totalWindowBytes: number;
}

/** A key range as the index compares keys: latin1 strings; end undefined = the key alone, '' = no upper bound. */
export interface WireRange {
  readonly key: string;
  readonly end: string | undefined;
}

export type ToWorker =
  | {
      readonly type: 'create';
      readonly stream: number;
      readonly watchId: number;
      readonly range: WireRange;
      /** The first revision to deliver. */
      readonly startRevision: number;
      /** The store's revisions when the watch was created: a start at or below the current one is caught up in one batch, as etcd's unsynced watchers are; a start below the compacted one gets etcd's compaction response, even if the ring still has it. */
      readonly currentRevision: number;
      readonly compactRevision: number;
      readonly noPut: boolean;
      readonly noDelete: boolean;
      readonly prevKv: boolean;
      readonly fragment: boolean;
      readonly progressNotify: boolean;
    }
  | { readonly type: 'cancel'; readonly stream: number; readonly watchId: number; readonly revision: number; readonly term: number }
  /** A WatchProgressRequest: answer once the stream's watchers have everything up to `revision`. */
  | { readonly type: 'progress'; readonly stream: number; readonly revision: number; readonly term: number }
  | { readonly type: 'close-stream'; readonly stream: number }
  /** Flat (stream, bytes) pairs. */
  | { readonly type: 'acks'; readonly acks: readonly number[] }
  | {
      readonly type: 'history';
      readonly id: number;
      /** Records (record.ts) one after another; transferred. */
      readonly records: ArrayBuffer;
      /** Every revision up to this one was read. */
      readonly through: number;
      /** Watchers that needed revisions below it get a compaction response. */
      readonly compactRevision: number;
    }
  /** Pages of earlier outputs whose bytes every stream has sent; transferred. */
  | { readonly type: 'pages'; readonly pages: ArrayBuffer[] }
  | { readonly type: 'close' };

export type FromWorker =
  | { readonly type: 'output'; readonly output: ArenaOutput }
  | {
      readonly type: 'history';
      readonly id: number;
      readonly from: number;
      readonly ranges: readonly WireRange[];
      readonly prevKv: boolean;
    }
  | { readonly type: 'closed' };

type Port = Pick<MessagePort | Worker, 'postMessage'>;

function transferOf(message: ToWorker | FromWorker): ArrayBuffer[] {
  if (message.type === 'output') return message.output.pages;
  if (message.type === 'pages') return message.pages;
  if (message.type === 'history' && 'records' in message) return [message.records];
  return [];
}

export function postToWorker(port: Port, message: ToWorker): void {
  port.postMessage(message, transferOf(message));
}

export function postToMain(port: Port, message: FromWorker): void {
  port.postMessage(message, transferOf(message));
}
