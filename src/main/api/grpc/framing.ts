// gRPC length-prefixed messages: a 1-byte compressed flag, a 4-byte big-endian length, the bytes.

import type { MessageCodec, Init } from '../proto/codec.js';
import { slabWriter } from '../proto/codec.js';

export const PREFIX_BYTES = 5;

export interface FrameSink {
  /** A whole message. `payload` is a view of the received data when it arrived in one piece. */
  onFrame(payload: Buffer, compressed: boolean): void;
  /** The length prefix announces more than the limit: the body is not buffered. */
  onOversized(length: number): void;
  /** The compressed flag is neither 0 nor 1. */
  onBadFrame(): void;
}

const EMPTY = Buffer.alloc(0);

/**
 * Splits a stream's DATA chunks into messages. Messages contained in one chunk are handed out as
 * views of it; a message spread over chunks is copied once into a buffer of its exact size.
 */
export class FrameReader {
  /** Only needed when a prefix is split across chunks. */
  private prefix: Buffer | null = null;
  private prefixFilled = 0;
  private body: Buffer | null = null;
  private bodyFilled = 0;
  private compressed = false;
  private stopped = false;

  constructor(private readonly maxLength: number) {}

  /** Ignores everything from now on (the call is over). */
  stop(): void {
    this.stopped = true;
    this.body = null;
  }

  push(chunk: Buffer, sink: FrameSink): void {
    let at = 0;
    const n = chunk.length;
    while (at < n && !this.stopped) {
      if (this.body !== null) {
        at = this.fillBody(chunk, at, sink);
        continue;
      }
      let length: number;
      if (this.prefixFilled === 0 && n - at >= PREFIX_BYTES) {
        this.compressed = chunk[at] === 1;
        if (chunk[at]! > 1) return this.bad(sink);
        length = chunk.readUInt32BE(at + 1);
        at += PREFIX_BYTES;
      } else {
        const prefix = (this.prefix ??= Buffer.alloc(PREFIX_BYTES));
        const take = Math.min(PREFIX_BYTES - this.prefixFilled, n - at);
        chunk.copy(prefix, this.prefixFilled, at, at + take);
        this.prefixFilled += take;
        at += take;
        if (this.prefixFilled < PREFIX_BYTES) return;
        this.prefixFilled = 0;
        this.compressed = prefix[0] === 1;
        if (prefix[0]! > 1) return this.bad(sink);
        length = prefix.readUInt32BE(1);
      }
      if (length > this.maxLength) {
        this.stop();
        sink.onOversized(length);
        return;
      }
      if (n - at >= length) {
        const payload = length === 0 ? EMPTY : chunk.subarray(at, at + length);
        at += length;
        sink.onFrame(payload, this.compressed);
      } else {
        this.body = Buffer.allocUnsafe(length);
        this.bodyFilled = 0;
      }
    }
  }

  private fillBody(chunk: Buffer, at: number, sink: FrameSink): number {
    const body = this.body!;
    const take = Math.min(body.length - this.bodyFilled, chunk.length - at);
    chunk.copy(body, this.bodyFilled, at, at + take);
    this.bodyFilled += take;
    if (this.bodyFilled === body.length) {
      this.body = null;
      sink.onFrame(body, this.compressed);
    }
    return at + take;
  }

  private bad(sink: FrameSink): void {
    this.stop();
    sink.onBadFrame();
  }
}

/** The payload if `chunk` is exactly one uncompressed-or-compressed message within the limit. */
export function wholeFrame(chunk: Buffer, maxLength: number): Buffer | undefined {
  if (chunk.length < PREFIX_BYTES || chunk[0]! > 1) return undefined;
  const length = chunk.readUInt32BE(1);
  return length === chunk.length - PREFIX_BYTES && length <= maxLength ? chunk.subarray(PREFIX_BYTES) : undefined;
}

/**
 * Encodes one message with its 5-byte prefix into the shared slab. The result stays valid while
 * an asynchronous socket write holds it (the slab never reuses handed-out bytes).
 */
export function encodeFrame<T>(codec: MessageCodec<T>, message: Init<T>): Buffer {
  const w = slabWriter();
  w.begin(PREFIX_BYTES);
  codec.encode(w, message);
  const frame = w.finish();
  frame[0] = 0;
  frame.writeUInt32BE(frame.length - PREFIX_BYTES, 1);
  return frame;
}
