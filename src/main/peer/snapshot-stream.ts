// A snapshot file over its own link: Hello → Accept, SnapshotHeader (the MsgSnap and the size),
// SnapshotChunk × n, SnapshotEnd (SHA-256) → SnapshotAck once the receiver has it fsynced.
// Both ends hold at most a couple of chunks in memory: the sender reads the file only as fast
// as the socket drains, the receiver stops reading the socket while its disk writes lag.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../log.js';
import type { Message, NodeId } from '../raft/types.js';
import { PeerError, type PeerErrorCode } from './errors.js';
import { FrameReader, FrameTooLargeError, FrameType, frameHeader, type FrameSink } from './frame.js';
import { hex, type PeerAddress } from './peer-url.js';
import {
  decodeFrame,
  encodeHello,
  encodeReject,
  encodeSnapshotAck,
  encodeSnapshotEnd,
  encodeSnapshotHeader,
  LinkKind,
  PROTOCOL_VERSION,
  RejectCode,
} from './wire.js';

const SNAPSHOT_CHUNK_BYTES = 1 << 20;
/** Largest frame on a snapshot link: a chunk, or a header with the MsgSnap. */
export const MAX_SNAPSHOT_FRAME_BYTES = SNAPSHOT_CHUNK_BYTES + (64 << 10);
/** Either end gives up on a snapshot link that moved nothing for this long (fsync of a big file included). */
export const SNAPSHOT_IDLE_TIMEOUT_MS = 60_000;
/** Suffix of files being received: whatever has it is incomplete. */
const PARTIAL_SUFFIX = '.part';
/** The receiver stops reading the socket while this much is waiting for the disk. */
const MAX_PENDING_WRITE_BYTES = 2 * SNAPSHOT_CHUNK_BYTES;

/** etcd's name for a v3 snapshot database: the snapshot index in 16 hex digits. */
export const snapshotFileName = (index: number): string => `${index.toString(16).padStart(16, '0')}.snap.db`;

/** A file some transfer left behind unfinished (the transport removes them at start). */
export const isPartialSnapshotFile = (name: string): boolean => name.endsWith(PARTIAL_SUFFIX) && name.includes('.snap.db.');

export interface SnapshotSendOptions {
  selfId: NodeId;
  clusterId: bigint;
  urls: PeerAddress[];
  /** The MsgSnap; its `to` is the receiver. */
  message: Message;
  file: string;
  dialTimeoutMs: number;
  log: Logger;
}

const enum SendPhase {
  Dialing,
  Handshake,
  Streaming,
  AwaitingAck,
  Done,
}

/** Streams one snapshot file to a peer; `done` settles with the receiver's answer. */
export class SnapshotSender implements FrameSink {
  readonly done: Promise<void>;
  private resolve!: () => void;
  private reject!: (err: PeerError) => void;
  private phase = SendPhase.Dialing;
  private urlIndex = 0;
  private size = 0;
  private socket: net.Socket | undefined;
  private file: fs.ReadStream | undefined;

  constructor(private readonly o: SnapshotSendOptions) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  start(): void {
    fs.stat(this.o.file, (err, st) => {
      if (this.phase === SendPhase.Done) return;
      if (err !== null) return this.fail('io', `cannot read snapshot file: ${err.message}`);
      this.size = st.size;
      this.dial();
    });
  }

  cancel(): void {
    this.fail('closed', 'peer transport closed');
  }

  onFrame(type: number, payload: Buffer): void {
    let frame;
    try {
      frame = decodeFrame(type, payload);
    } catch (err) {
      return this.fail('broken', (err as Error).message);
    }
    if (frame.type === FrameType.Reject) return this.fail('rejected', `peer refused the snapshot: ${frame.detail}`);
    if (this.phase === SendPhase.Handshake && frame.type === FrameType.Accept) return this.stream();
    if (this.phase === SendPhase.AwaitingAck && frame.type === FrameType.SnapshotAck) return this.succeed();
    this.fail('broken', `unexpected frame type ${type}`);
  }

  private dial(): void {
    const addr = this.o.urls[this.urlIndex]!;
    const socket = net.connect({ host: addr.host, port: addr.port, noDelay: true });
    const reader = new FrameReader(this, 4096);
    this.socket = socket;
    // The dial timeout until Accept, then the idle timeout (set in stream()).
    socket.setTimeout(this.o.dialTimeoutMs, () => {
      if (this.phase === SendPhase.Dialing) socket.destroy();
      else this.fail('timeout', `snapshot link to ${addr.url} timed out`);
    });
    socket.on('connect', () => {
      this.phase = SendPhase.Handshake;
      const { selfId, clusterId, message } = this.o;
      socket.write(encodeHello({ version: PROTOCOL_VERSION, clusterId, from: selfId, to: message.to, link: LinkKind.Snapshot }));
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (err) {
        if (!(err instanceof FrameTooLargeError)) throw err;
        this.fail('broken', err.message);
      }
    });
    socket.on('drain', () => this.file?.resume());
    socket.on('error', (err) => this.o.log.debug({ to: hex(this.o.message.to), url: addr.url, err: err.message }, 'snapshot link error'));
    socket.on('close', () => {
      if (this.phase === SendPhase.Dialing && this.urlIndex + 1 < this.o.urls.length) {
        this.urlIndex++;
        this.dial();
      } else if (this.phase === SendPhase.Dialing) this.fail('unreachable', `cannot connect to ${this.o.urls.map((u) => u.url).join(', ')}`);
      else this.fail('broken', 'snapshot link closed before the receiver acknowledged');
    });
  }

  private stream(): void {
    const socket = this.socket!;
    this.phase = SendPhase.Streaming;
    socket.setTimeout(SNAPSHOT_IDLE_TIMEOUT_MS);
    socket.write(encodeSnapshotHeader(this.o.message, this.size));
    const hash = createHash('sha256');
    let read = 0;
    const file = fs.createReadStream(this.o.file, { highWaterMark: SNAPSHOT_CHUNK_BYTES });
    this.file = file;
    file.on('data', (data) => {
      const chunk = data as Buffer; // no encoding was given
      hash.update(chunk);
      read += chunk.length;
      socket.cork();
      socket.write(frameHeader(FrameType.SnapshotChunk, chunk.length));
      const more = socket.write(chunk);
      socket.uncork();
      if (!more) file.pause();
    });
    file.on('end', () => {
      if (read !== this.size) return this.fail('io', `snapshot file changed while sending (${read} bytes, expected ${this.size})`);
      this.phase = SendPhase.AwaitingAck;
      socket.write(encodeSnapshotEnd(hash.digest()));
    });
    file.on('error', (err) => this.fail('io', `reading snapshot file: ${err.message}`));
  }

  private succeed(): void {
    this.phase = SendPhase.Done;
    this.socket?.setTimeout(0);
    this.socket?.end();
    this.resolve();
  }

  private fail(code: PeerErrorCode, message: string): void {
    if (this.phase === SendPhase.Done) return;
    this.phase = SendPhase.Done;
    this.file?.destroy();
    this.socket?.destroy();
    this.reject(new PeerError(code, message));
  }
}

export interface SnapshotReceiveOptions {
  dir: string;
  /** The MsgSnap from the header, already checked. */
  message: Message;
  size: number;
  log: Logger;
  /** The file is complete, fsynced and acknowledged. */
  deliver(message: Message, file: string): void;
}

/** A snapshot the sender rejected for its content, not for our disk. */
class BadSnapshotError extends Error {}

let partialSeq = 0;

/**
 * Writes one incoming snapshot to `dir` in order, verifies size and checksum, fsyncs the file
 * and the directory, renames it into place, then acknowledges and delivers it. Any failure
 * before that removes the partial file.
 */
export class SnapshotReceiver {
  private readonly partialPath: string;
  private readonly finalPath: string;
  private readonly hash = createHash('sha256');
  private fh: FileHandle | undefined;
  /** Disk work, one step after the other; never rejects. */
  private tail: Promise<void>;
  private error: Error | undefined;
  private received = 0;
  private pendingBytes = 0;
  private paused = false;
  private ended = false;
  private finished = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly o: SnapshotReceiveOptions,
  ) {
    this.finalPath = path.join(o.dir, snapshotFileName(o.message.snapshot!.index));
    this.partialPath = `${this.finalPath}.${hex(o.message.from)}-${++partialSeq}${PARTIAL_SUFFIX}`;
    this.tail = Promise.resolve();
    this.step(async () => {
      this.fh = await open(this.partialPath, 'wx');
    });
  }

  /** Settles once the snapshot is delivered or its partial file removed. */
  get done(): Promise<void> {
    return this.tail;
  }

  chunk(data: Buffer): void {
    if (this.error !== undefined) return;
    if (this.ended) return this.fail(new BadSnapshotError('data after the end of the snapshot'));
    this.received += data.length;
    if (this.received > this.o.size) return this.fail(new BadSnapshotError(`more than the announced ${this.o.size} bytes`));
    this.hash.update(data);
    this.pendingBytes += data.length;
    if (this.pendingBytes > MAX_PENDING_WRITE_BYTES && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    this.step(() => this.write(data));
  }

  end(sha256: Buffer): void {
    if (this.error !== undefined) return;
    if (this.ended) return this.fail(new BadSnapshotError('a second end of the snapshot'));
    this.ended = true;
    if (this.received !== this.o.size) return this.fail(new BadSnapshotError(`got ${this.received} of ${this.o.size} bytes`));
    if (!this.hash.digest().equals(sha256)) return this.fail(new BadSnapshotError('checksum mismatch'));
    this.step(() => this.install());
  }

  /** The link closed or the transport is closing: an unfinished transfer is abandoned. */
  abort(): void {
    if (!this.finished) this.fail(new Error('snapshot link closed before the transfer completed'));
  }

  private async write(data: Buffer): Promise<void> {
    for (let off = 0; off < data.length; ) off += (await this.fh!.write(data, off, data.length - off)).bytesWritten;
    this.pendingBytes -= data.length;
    if (this.paused && this.pendingBytes <= SNAPSHOT_CHUNK_BYTES) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private async install(): Promise<void> {
    const fh = this.fh!;
    await fh.sync();
    this.fh = undefined;
    await fh.close();
    // The link may have been aborted while the file was being synced.
    if (this.error !== undefined) throw this.error;
    await rename(this.partialPath, this.finalPath);
    await syncDir(this.o.dir);
    this.finished = true;
    this.socket.write(encodeSnapshotAck());
    this.o.log.info({ from: hex(this.o.message.from), index: this.o.message.snapshot!.index, bytes: this.o.size }, 'received snapshot');
    // Outside this promise chain, so that an exception in the member's callback is not taken for a failed transfer.
    process.nextTick(() => this.o.deliver(this.o.message, this.finalPath));
  }

  /** Runs `work` after the previous steps, unless the transfer already failed. */
  private step(work: () => Promise<void>): void {
    this.tail = this.tail.then(() => (this.error === undefined ? work() : undefined)).catch((err: unknown) => this.fail(err as Error));
  }

  private fail(err: Error): void {
    if (this.error !== undefined) return;
    this.error = err;
    const code = err instanceof BadSnapshotError ? RejectCode.BadSnapshot : RejectCode.SnapshotIo;
    this.o.log.warn({ from: hex(this.o.message.from), index: this.o.message.snapshot!.index, err: err.message }, 'snapshot receive failed');
    if (!this.socket.destroyed) this.socket.end(encodeReject(code, err.message));
    // Keep reading (and discarding) so the sender's close is noticed.
    if (this.paused) this.socket.resume();
    this.tail = this.tail.then(() => this.removePartial());
  }

  private async removePartial(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    try {
      await fh?.close();
      await rm(this.partialPath, { force: true });
    } catch (err) {
      this.o.log.error({ file: this.partialPath, err: (err as Error).message }, 'cannot remove partial snapshot file');
    }
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
