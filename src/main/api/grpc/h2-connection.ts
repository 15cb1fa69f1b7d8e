// The server side of an HTTP/2 connection that carries gRPC (RFC 9113), written for what gRPC
// needs and nothing else: no server push, no priorities, header blocks read with our HPACK
// decoder and written as literals. It exists because node:http2 (nghttp2 plus a Duplex per
// stream) cost 90–98 µs of CPU per unary call at 2,000 calls/s on this machine, and this framing
// 38–41 (README, "Design"). Connections whose first request is not gRPC still go to node:http2.
//
// Frames are read from the socket as they come; frames to send are collected and written once
// per event-loop turn. Flow control both ways: the client's windows bound what is sent, and the
// server's windows are replenished as calls consume data, so a call that pauses stops its client.

import type net from 'node:net';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from './grpc-stream.js';
import { CLIENT_PREFACE, Flag, FRAME_HEADER_BYTES, FrameType, goawayFrame, H2Error, H2ErrorCode, readFrameHeader, writeFrameHeader } from './h2-frames.js';
import { H2Stream, type StreamOwner } from './h2-stream.js';
import { encodeHeaderFrames, HeaderBlockAssembler } from './header-block.js';
import { HpackDecoder } from './hpack-decoder.js';
import { encodeLiteralBlock } from './hpack-literal.js';

export interface H2ConnectionOptions {
  /** Window the client may fill per stream (SETTINGS_INITIAL_WINDOW_SIZE). */
  readonly initialWindowSize: number;
  /** Window the client may fill on the whole connection. */
  readonly connectionWindowSize: number;
  readonly maxConcurrentStreams: number;
  /** Bound on one request's header block, encoded and decoded. */
  readonly maxHeaderListBytes: number;
}

/** SETTINGS parameters (§6.5.2). */
const SETTINGS_HEADER_TABLE_SIZE = 0x1;
const SETTINGS_ENABLE_PUSH = 0x2;
const SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;
const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
const SETTINGS_MAX_FRAME_SIZE = 0x5;

const DEFAULT_WINDOW = 65_535;
const MAX_WINDOW = 2 ** 31 - 1;
/** The frame size this side accepts: the default, which it never raises. */
const MAX_RECEIVED_FRAME = 16_384;
const DEFAULT_HEADER_TABLE_SIZE = 4_096;

const SETTINGS_ACK_FRAME = Buffer.from([0, 0, 0, FrameType.SETTINGS, Flag.ACK, 0, 0, 0, 0]);

/** Header objects the server sends again and again (RESPONSE_HEADERS, OK_TRAILERS) are encoded once. */
const encodedBlocks = new WeakMap<OutgoingHttpHeaders, Buffer>();

function encodeHeaders(headers: OutgoingHttpHeaders): Buffer {
  let block = encodedBlocks.get(headers);
  if (block === undefined) {
    const fields = [];
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined) continue;
      for (const v of Array.isArray(value) ? value : [value]) fields.push({ name, value: String(v), neverIndexed: false });
    }
    block = encodeLiteralBlock(fields);
    encodedBlocks.set(headers, block);
  }
  return block;
}

export class H2Connection implements StreamOwner {
  private readonly streams = new Map<number, H2Stream>();
  /** Streams with queued data and no window to send it in. */
  private readonly blocked = new Set<H2Stream>();
  private readonly decoder: HpackDecoder;
  private readonly assembler: HeaderBlockAssembler;
  private input: Buffer;
  private pos: number;
  private output: Buffer[] = [];
  private flushScheduled = false;
  private lastStreamId = 0;
  /** What this side may still send on the connection, and on a new stream. */
  private sendWindow = DEFAULT_WINDOW;
  private peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrameSize = 16_384;
  /** Bytes received since the last connection WINDOW_UPDATE. */
  private received = 0;
  private goingAway = false;
  private dead = false;

  /**
   * @param received bytes already read from the socket, from the client preface on (the
   *   sniffers' reads); the server's SETTINGS were not sent yet.
   */
  constructor(
    private readonly socket: net.Socket,
    received: Buffer,
    private readonly options: H2ConnectionOptions,
    private readonly onStream: (stream: H2Stream, headers: IncomingHttpHeaders) => void,
    private readonly onClose: () => void,
  ) {
    this.decoder = new HpackDecoder(DEFAULT_HEADER_TABLE_SIZE, options.maxHeaderListBytes);
    this.assembler = new HeaderBlockAssembler(options.maxHeaderListBytes);
    this.input = received;
    this.pos = CLIENT_PREFACE.length;
    this.sendSettings();
    socket.on('data', (chunk: Buffer) => this.onBytes(chunk));
    // 'close' follows any socket error (the server ignores the errors themselves).
    socket.on('close', () => this.onSocketClose());
    socket.resume();
    this.readFrames();
  }

  /** Graceful close: GOAWAY, no new streams; the connection ends when its streams have. */
  close(): void {
    if (this.goingAway || this.dead) return;
    this.goingAway = true;
    this.queue(goawayFrame(H2ErrorCode.NO_ERROR, '', this.lastStreamId));
    if (this.streams.size === 0) this.endSocket();
  }

  // ---- StreamOwner

  sendHeaders(stream: H2Stream, headers: OutgoingHttpHeaders, endStream: boolean): void {
    this.queue(encodeHeaderFrames(stream.id, endStream, undefined, encodeHeaders(headers), this.peerMaxFrameSize));
    // Ended both ways; one the client has not ended yet is reset by the stream (onLocalEnd).
    if (endStream && stream.remoteEnded) this.streamDone(stream);
  }

  flush(stream: H2Stream): void {
    while (stream.outgoing.length > 0) {
      const first = stream.outgoing[0]!;
      const left = first.data.byteLength - stream.sentOfFirst;
      const n = Math.min(left, stream.sendWindow, this.sendWindow, this.peerMaxFrameSize);
      if (n <= 0) {
        this.blocked.add(stream);
        return;
      }
      const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + n);
      writeFrameHeader(frame, 0, n, FrameType.DATA, 0, stream.id);
      frame.set(first.data.subarray(stream.sentOfFirst, stream.sentOfFirst + n), FRAME_HEADER_BYTES);
      this.queue(frame);
      stream.sendWindow -= n;
      this.sendWindow -= n;
      stream.sentOfFirst += n;
      if (stream.sentOfFirst === first.data.byteLength) {
        stream.outgoing.shift();
        stream.sentOfFirst = 0;
        first.done?.();
      }
      stream.onSent(n);
    }
    this.blocked.delete(stream);
    if (stream.ending && !stream.destroyed) stream.onDataSent();
  }

  reset(stream: H2Stream, code: number): void {
    if (!this.streams.has(stream.id)) return;
    this.queue(u32Frame(FrameType.RST_STREAM, stream.id, code));
    this.streamDone(stream);
  }

  windowUpdate(stream: H2Stream, increment: number): void {
    if (this.streams.has(stream.id)) this.queue(u32Frame(FrameType.WINDOW_UPDATE, stream.id, increment));
  }

  // ---- reading

  private onBytes(chunk: Buffer): void {
    if (this.dead) return;
    if (this.pos >= this.input.length) {
      this.input = chunk;
      this.pos = 0;
    } else {
      this.input = Buffer.concat([this.input.subarray(this.pos), chunk]);
      this.pos = 0;
    }
    this.readFrames();
  }

  private readFrames(): void {
    try {
      while (!this.dead && this.input.length - this.pos >= FRAME_HEADER_BYTES) {
        const header = readFrameHeader(this.input, this.pos);
        if (header.length > MAX_RECEIVED_FRAME) throw new H2Error(H2ErrorCode.FRAME_SIZE_ERROR, `frame of ${header.length} bytes`);
        const end = this.pos + FRAME_HEADER_BYTES + header.length;
        if (end > this.input.length) break;
        const payload = this.input.subarray(this.pos + FRAME_HEADER_BYTES, end);
        this.pos = end;
        this.onFrame(header.type, header.flags, header.streamId, payload);
      }
    } catch (err) {
      if (!(err instanceof H2Error)) throw err;
      this.fail(err);
    }
  }

  private onFrame(type: number, flags: number, streamId: number, payload: Buffer): void {
    if (this.assembler.inProgress && type !== FrameType.CONTINUATION) throw protocolError('frame inside a header block');
    switch (type) {
      case FrameType.DATA:
        return this.onData(flags, streamId, payload);
      case FrameType.HEADERS:
      case FrameType.CONTINUATION: {
        const block = this.assembler.add({ length: payload.length, type, flags, streamId }, payload);
        if (block !== undefined) this.onHeaderBlock(block.streamId, block.endStream, block.fragment);
        return;
      }
      case FrameType.RST_STREAM: {
        if (payload.length !== 4) throw new H2Error(H2ErrorCode.FRAME_SIZE_ERROR, 'RST_STREAM of the wrong size');
        this.dropStream(streamId);
        return;
      }
      case FrameType.SETTINGS:
        return this.onSettings(flags, streamId, payload);
      case FrameType.PING:
        if (payload.length !== 8) throw new H2Error(H2ErrorCode.FRAME_SIZE_ERROR, 'PING of the wrong size');
        if ((flags & Flag.ACK) === 0) {
          const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 8);
          writeFrameHeader(frame, 0, 8, FrameType.PING, Flag.ACK, 0);
          payload.copy(frame, FRAME_HEADER_BYTES);
          this.queue(frame);
        }
        return;
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(streamId, payload);
      case FrameType.PUSH_PROMISE:
        throw protocolError('PUSH_PROMISE from a client');
      default:
        // PRIORITY and GOAWAY need nothing from this side; unknown types are ignored (§5.5).
        return;
    }
  }

  private onData(flags: number, streamId: number, payload: Buffer): void {
    if (streamId === 0) throw protocolError('DATA on stream 0');
    // Padding counts against flow control; the whole frame is replenished at once.
    this.received += payload.length;
    if (this.received >= this.options.connectionWindowSize >>> 1) {
      this.queue(u32Frame(FrameType.WINDOW_UPDATE, 0, this.received));
      this.received = 0;
    }
    let data = payload;
    if (flags & Flag.PADDED) {
      if (payload.length < 1 || payload[0]! > payload.length - 1) throw protocolError('DATA padding longer than the frame');
      data = payload.subarray(1, payload.length - payload[0]!);
    }
    const stream = this.streams.get(streamId);
    if (stream === undefined) {
      if (streamId > this.lastStreamId) throw protocolError('DATA on an idle stream');
      return; // a stream this side already closed: the client had not heard yet
    }
    if (stream.remoteEnded) return this.resetStream(streamId, H2ErrorCode.STREAM_CLOSED);
    if (data.length > 0) stream.onData(data);
    if (flags & Flag.END_STREAM) this.endRemote(stream);
  }

  private onHeaderBlock(streamId: number, endStream: boolean, fragment: Buffer): void {
    const fields = this.decoder.decode(fragment);
    const existing = this.streams.get(streamId);
    if (existing !== undefined) {
      // Trailers from the client: gRPC has none to read, but they end the request.
      if (!endStream) throw protocolError('a second header block without END_STREAM');
      this.endRemote(existing);
      return;
    }
    if (streamId <= this.lastStreamId || streamId % 2 === 0) {
      if (streamId % 2 === 0 || !endStream) throw protocolError(`HEADERS on stream ${streamId}`);
      return; // trailers for a stream this side already closed
    }
    this.lastStreamId = streamId;
    if (this.goingAway || this.streams.size >= this.options.maxConcurrentStreams) return this.resetStream(streamId, H2ErrorCode.REFUSED_STREAM);
    const headers: IncomingHttpHeaders = {};
    for (const f of fields) {
      const prev = headers[f.name];
      headers[f.name] = prev === undefined ? f.value : `${String(prev)}, ${f.value}`;
    }
    const stream = new H2Stream(streamId, this, this.peerInitialWindow, this.options.initialWindowSize);
    this.streams.set(streamId, stream);
    this.onStream(stream, headers);
    if (endStream && !stream.destroyed) this.endRemote(stream);
  }

  private endRemote(stream: H2Stream): void {
    if (stream.localEnded) this.streamDone(stream);
    stream.onRemoteEnd();
  }

  private onSettings(flags: number, streamId: number, payload: Buffer): void {
    if (streamId !== 0) throw protocolError('SETTINGS on a stream');
    if (flags & Flag.ACK) return;
    if (payload.length % 6 !== 0) throw new H2Error(H2ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS of the wrong size');
    for (let at = 0; at < payload.length; at += 6) {
      const id = payload.readUInt16BE(at);
      const value = payload.readUInt32BE(at + 2);
      if (id === SETTINGS_INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) throw new H2Error(H2ErrorCode.FLOW_CONTROL_ERROR, 'initial window over 2^31-1');
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const stream of this.streams.values()) stream.sendWindow += delta;
      } else if (id === SETTINGS_MAX_FRAME_SIZE) {
        if (value < 16_384 || value > 16_777_215) throw protocolError('SETTINGS_MAX_FRAME_SIZE out of range');
        this.peerMaxFrameSize = value;
      } else if (id === SETTINGS_ENABLE_PUSH && value > 1) {
        throw protocolError('SETTINGS_ENABLE_PUSH out of range');
      }
      // HEADER_TABLE_SIZE: this side's blocks use no dynamic table. The rest do not concern a server.
    }
    this.queue(SETTINGS_ACK_FRAME);
    this.flushBlocked();
  }

  private onWindowUpdate(streamId: number, payload: Buffer): void {
    if (payload.length !== 4) throw new H2Error(H2ErrorCode.FRAME_SIZE_ERROR, 'WINDOW_UPDATE of the wrong size');
    const increment = payload.readUInt32BE(0) & 0x7fff_ffff;
    if (streamId === 0) {
      if (increment === 0) throw protocolError('WINDOW_UPDATE of 0');
      this.sendWindow += increment;
      if (this.sendWindow > MAX_WINDOW) throw new H2Error(H2ErrorCode.FLOW_CONTROL_ERROR, 'connection window over 2^31-1');
      this.flushBlocked();
      return;
    }
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    if (increment === 0) return this.resetStream(streamId, H2ErrorCode.PROTOCOL_ERROR);
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW) return this.resetStream(streamId, H2ErrorCode.FLOW_CONTROL_ERROR);
    if (this.blocked.has(stream)) this.flush(stream);
  }

  private flushBlocked(): void {
    for (const stream of [...this.blocked]) {
      if (this.sendWindow <= 0) return;
      this.flush(stream);
    }
  }

  // ---- writing and ending

  private sendSettings(): void {
    const params: [number, number][] = [
      [SETTINGS_ENABLE_PUSH, 0],
      [SETTINGS_MAX_CONCURRENT_STREAMS, this.options.maxConcurrentStreams],
      [SETTINGS_INITIAL_WINDOW_SIZE, this.options.initialWindowSize],
      [SETTINGS_HEADER_TABLE_SIZE, DEFAULT_HEADER_TABLE_SIZE],
    ];
    const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 6 * params.length);
    writeFrameHeader(frame, 0, 6 * params.length, FrameType.SETTINGS, 0, 0);
    params.forEach(([id, value], i) => {
      frame.writeUInt16BE(id, FRAME_HEADER_BYTES + 6 * i);
      frame.writeUInt32BE(value, FRAME_HEADER_BYTES + 6 * i + 2);
    });
    this.queue(frame);
    const extra = this.options.connectionWindowSize - DEFAULT_WINDOW;
    if (extra > 0) this.queue(u32Frame(FrameType.WINDOW_UPDATE, 0, extra));
  }

  private queue(frame: Buffer): void {
    if (this.dead) return;
    this.output.push(frame);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.writeOutput);
    }
  }

  private readonly writeOutput = (): void => {
    this.flushScheduled = false;
    if (this.dead || this.output.length === 0) return;
    const out = this.output;
    this.output = [];
    this.socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
  };

  private resetStream(streamId: number, code: number): void {
    this.queue(u32Frame(FrameType.RST_STREAM, streamId, code));
    this.dropStream(streamId);
  }

  /** The stream ends here, whatever it was doing (reset by either side). */
  private dropStream(streamId: number): void {
    const stream = this.streams.get(streamId);
    if (stream === undefined) return;
    this.streamDone(stream);
    stream.destroy();
  }

  private streamDone(stream: H2Stream): void {
    this.streams.delete(stream.id);
    this.blocked.delete(stream);
    if (this.goingAway && this.streams.size === 0) this.endSocket();
  }

  /** A connection error (§5.4.1): GOAWAY with the reason, then the connection closes. */
  private fail(err: H2Error): void {
    if (this.dead) return;
    this.output.push(goawayFrame(err.code, err.message, this.lastStreamId));
    this.endSocket();
  }

  private endSocket(): void {
    if (this.dead) return;
    this.writeOutput();
    this.dead = true;
    this.socket.end();
    this.destroyStreams();
  }

  private onSocketClose(): void {
    this.dead = true;
    this.destroyStreams();
    this.onClose();
  }

  private destroyStreams(): void {
    for (const stream of this.streams.values()) stream.destroy();
    this.streams.clear();
    this.blocked.clear();
  }
}

function protocolError(message: string): H2Error {
  return new H2Error(H2ErrorCode.PROTOCOL_ERROR, message);
}

/** RST_STREAM (an error code) and WINDOW_UPDATE (an increment): a frame of one 32-bit value. */
function u32Frame(type: number, streamId: number, value: number): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 4);
  writeFrameHeader(frame, 0, 4, type, 0, streamId);
  frame.writeUInt32BE(value, FRAME_HEADER_BYTES);
  return frame;
}
