// Length-prefixed frames on a TCP link: [u32 BE payload length][u8 frame type][payload].
// The reader cuts a byte stream into frames without copying a frame that lies within one chunk.

export const FRAME_HEADER_BYTES = 5;

export const enum FrameType {
  /** Dialer → listener, first frame on every link. */
  Hello = 1,
  /** Listener → dialer: the link is accepted. */
  Accept = 2,
  /** Either way: the link or the snapshot is refused; the sender of this frame closes. */
  Reject = 3,
  /** Dialer → listener on a Raft link: a batch of Raft messages. */
  Messages = 4,
  Ping = 5,
  Pong = 6,
  /** Dialer → listener on a snapshot link: the MsgSnap and the file size. */
  SnapshotHeader = 7,
  SnapshotChunk = 8,
  /** The SHA-256 of the whole file. */
  SnapshotEnd = 9,
  /** Listener → dialer: the file is on disk and fsynced. */
  SnapshotAck = 10,
  /** Listener → dialer on a membership link: the cluster id and members, then the listener closes. */
  Members = 11,
}

/** Writes a frame header into the first FRAME_HEADER_BYTES of `buf`. */
export function writeFrameHeader(buf: Buffer, type: FrameType, payloadBytes: number): void {
  buf.writeUInt32BE(payloadBytes, 0);
  buf[4] = type;
}

export function frameHeader(type: FrameType, payloadBytes: number): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  writeFrameHeader(buf, type, payloadBytes);
  return buf;
}

/** A whole frame with a small payload, for control frames. */
export function smallFrame(type: FrameType, payload?: Uint8Array): Buffer {
  const length = payload?.length ?? 0;
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
  writeFrameHeader(buf, type, length);
  if (payload !== undefined) buf.set(payload, FRAME_HEADER_BYTES);
  return buf;
}

export interface FrameSink {
  /** `payload` may be a view into a socket chunk; it is not reused by the reader. */
  onFrame(type: number, payload: Buffer): void;
}

export class FrameTooLargeError extends Error {
  constructor(length: number, max: number) {
    super(`frame of ${length} bytes exceeds the limit of ${max}`);
    this.name = 'FrameTooLargeError';
  }
}

/** Incremental frame parser; holds at most one frame (bounded by `maxPayloadBytes`) in memory. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private stopped = false;

  constructor(
    private readonly sink: FrameSink,
    /** Raised by the link once the handshake says what the link carries. */
    public maxPayloadBytes: number,
  ) {}

  /** Feeds bytes; calls the sink for each complete frame. Throws FrameTooLargeError on an oversized header. */
  push(chunk: Buffer): void {
    if (this.stopped) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (!this.stopped && this.buffered >= FRAME_HEADER_BYTES) {
      const head = this.headerChunk();
      const length = head.readUInt32BE(0);
      if (length > this.maxPayloadBytes) throw new FrameTooLargeError(length, this.maxPayloadBytes);
      if (this.buffered < FRAME_HEADER_BYTES + length) return;
      const type = head[4]!;
      this.consume(FRAME_HEADER_BYTES);
      this.sink.onFrame(type, this.take(length));
    }
  }

  /** Frames after this are ignored (the link is being closed). */
  stop(): void {
    this.stopped = true;
    this.chunks = [];
    this.buffered = 0;
  }

  /** The first chunk, merged with the next ones while it is shorter than a header. */
  private headerChunk(): Buffer {
    while (this.chunks[0]!.length < FRAME_HEADER_BYTES) {
      this.chunks.splice(0, 2, Buffer.concat([this.chunks[0]!, this.chunks[1]!]));
    }
    return this.chunks[0]!;
  }

  private take(length: number): Buffer {
    const first = this.chunks[0];
    if (first !== undefined && first.length >= length) {
      const out = first.subarray(0, length);
      this.consume(length);
      return out;
    }
    const out = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const chunk = this.chunks[0]!;
      const n = Math.min(chunk.length, length - filled);
      chunk.copy(out, filled, 0, n);
      filled += n;
      this.consume(n);
    }
    return out;
  }

  private consume(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const chunk = this.chunks[0]!;
      if (chunk.length <= n) {
        this.chunks.shift();
        n -= chunk.length;
      } else {
        this.chunks[0] = chunk.subarray(n);
        n = 0;
      }
    }
  }
}
