// Messages between the main thread and the WAL writer thread. Structured clone carries them;
// entry batches travel as transferred buffers (see storage/wal/record.ts).
import type { WalWrite } from '../storage/wal/wal-store.js';

export interface WalWriterData {
  path: string;
}

export type WalRequest =
  /** Writes to apply in order; the whole message is one sequence number. */
  | { type: 'write'; seq: number; writes: WalWrite[] }
  | { type: 'close' };

export type WalResponse =
  /** Every write with sequence number <= seq is durable. */
  | { type: 'written'; seq: number; lastIndex: number; fsyncSeconds: number }
  | { type: 'failed'; message: string }
  | { type: 'closed' };
