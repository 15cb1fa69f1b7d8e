// Binary layout of one Raft entry as the WAL stores it, and of a batch of entries as the main
// thread hands it to the WAL writer (one transferable buffer, no per-entry cloning).
//   record: term u64 BE | type u8 | data
//   batch:  repeated (index u64 BE | record length u32 BE | record)
import type { Entry, EntryType } from '../../main/raft/types.js';

const RECORD_HEADER = 9;
const BATCH_HEADER = 12;
const TWO_32 = 2 ** 32;

function writeU64(buf: Buffer, offset: number, n: number): void {
  buf.writeUInt32BE(Math.floor(n / TWO_32), offset);
  buf.writeUInt32BE(n % TWO_32, offset + 4);
}

function readU64(buf: Uint8Array, offset: number): number {
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return view.readUInt32BE(offset) * TWO_32 + view.readUInt32BE(offset + 4);
}

export function decodeRecord(index: number, record: Uint8Array): Entry {
  return {
    index,
    term: readU64(record, 0),
    type: record[8] as EntryType,
    data: record.subarray(RECORD_HEADER),
  };
}

/** Encodes entries into one buffer of (index, record) pairs. */
export function encodeBatch(entries: readonly Entry[]): Buffer {
  let size = 0;
  for (const e of entries) size += BATCH_HEADER + RECORD_HEADER + e.data.byteLength;
  // Not from the shared pool: the batch's memory is transferred to the WAL thread.
  const buf = Buffer.allocUnsafeSlow(size);
  let at = 0;
  for (const e of entries) {
    writeU64(buf, at, e.index);
    buf.writeUInt32BE(RECORD_HEADER + e.data.byteLength, at + 8);
    at += BATCH_HEADER;
    writeU64(buf, at, e.term);
    buf[at + 8] = e.type;
    buf.set(e.data, at + RECORD_HEADER);
    at += RECORD_HEADER + e.data.byteLength;
  }
  return buf;
}

/** Walks a batch, calling `visit(index, term, record)` for each entry; records are views into `batch`. */
export function forEachInBatch(
  batch: Uint8Array,
  visit: (index: number, term: number, record: Uint8Array) => void,
): void {
  const view = Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength);
  let at = 0;
  while (at < view.length) {
    const index = readU64(view, at);
    const length = view.readUInt32BE(at + 8);
    at += BATCH_HEADER;
    const record = view.subarray(at, at + length);
    visit(index, readU64(record, 0), record);
    at += length;
  }
}
