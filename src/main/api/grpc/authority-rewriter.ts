// The path for HTTP/2 connections whose requests carry an :authority nghttp2 refuses (see
// authority-sniffer.ts): a Duplex between the socket and node:http2 that rewrites client header
// blocks and passes every other byte through.
//
// Each header block (HEADERS + CONTINUATION) is decoded with the client's HPACK state and
// re-encoded with literals only, :authority and Host cut down to host:port. nghttp2's decoder
// then never gets a dynamic table entry or a table size update, so its (empty) table cannot
// drift from the client's. Re-encoded blocks are framed for node:http2's SETTINGS_MAX_FRAME_SIZE
// (16 KiB, its default), unpadded. The first SETTINGS ACK is dropped: it answers the sniffer's
// SETTINGS, not nghttp2's. Server-to-client bytes pass untouched.
//
// Anything malformed (frames out of place, HPACK errors, blocks over the bound) destroys the
// connection: the rewriter cannot hand such bytes on without desynchronising HPACK state.

import type net from 'node:net';
import { Duplex } from 'node:stream';
import { isRefusedAuthority, reduceAuthority } from './authority.js';
import {
  CLIENT_PREFACE,
  DEFAULT_HEADER_TABLE_SIZE,
  DEFAULT_MAX_FRAME_SIZE,
  Flag,
  FRAME_HEADER_BYTES,
  FrameType,
  H2Error,
  H2ErrorCode,
  MAX_HEADER_LIST_BYTES,
  readFrameHeader,
} from './h2-frames.js';
import { encodeHeaderFrames, HeaderBlockAssembler, type HeaderBlock } from './header-block.js';
import { HpackDecoder, type HeaderField } from './hpack-decoder.js';
import { encodeLiteralBlock } from './hpack-literal.js';

/** Bound on one encoded header block (all its frames' fragments). */
const MAX_HEADER_BLOCK_BYTES = 256 * 1024;

export class AuthorityRewriter extends Duplex {
  private readonly decoder = new HpackDecoder(DEFAULT_HEADER_TABLE_SIZE, MAX_HEADER_LIST_BYTES);
  private readonly assembler = new HeaderBlockAssembler(MAX_HEADER_BLOCK_BYTES);
  /** Client bytes that cannot be forwarded yet: a frame header, or a header-block frame, in part. */
  private partial: Buffer | undefined;
  /** Bytes of the preface, or of the payload of a frame passed through, still to forward. */
  private passLeft = CLIENT_PREFACE.length;
  private ackPending = true;

  /** @param received what the sniffer read: the client preface and the frames after it */
  constructor(
    private readonly socket: net.Socket,
    received: Buffer,
  ) {
    super({ allowHalfOpen: false });
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
    this.receive(received);
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(chunk, callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.socket.cork();
    for (let i = 0; i < chunks.length - 1; i++) this.socket.write(chunks[i]!.chunk);
    this.socket.write(chunks[chunks.length - 1]!.chunk, callback);
    this.socket.uncork();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }

  private receive(chunk: Buffer): void {
    let out: Buffer[];
    try {
      out = this.rewrite(chunk);
    } catch (err) {
      this.destroy(err as Error);
      return;
    }
    if (out.length === 0) return;
    if (!this.push(out.length === 1 ? out[0] : Buffer.concat(out))) this.socket.pause();
  }

  /** What node:http2 gets for `chunk`: runs of it as they are, and re-encoded header blocks. */
  private rewrite(chunk: Buffer): Buffer[] {
    const data = this.partial === undefined ? chunk : Buffer.concat([this.partial, chunk]);
    this.partial = undefined;
    const out: Buffer[] = [];
    let pos = 0;
    /** Start of the bytes forwarded unchanged that end at `pos`. */
    let run = 0;
    while (pos < data.length) {
      if (this.passLeft > 0) {
        const n = Math.min(this.passLeft, data.length - pos);
        pos += n;
        this.passLeft -= n;
        continue;
      }
      if (data.length - pos < FRAME_HEADER_BYTES) break;
      const header = readFrameHeader(data, pos);
      if (this.assembler.inProgress && header.type !== FrameType.CONTINUATION) {
        throw new H2Error(H2ErrorCode.PROTOCOL_ERROR, 'frame inside a header block');
      }
      if (header.type === FrameType.HEADERS || header.type === FrameType.CONTINUATION) {
        if (header.length > DEFAULT_MAX_FRAME_SIZE) throw new H2Error(H2ErrorCode.FRAME_SIZE_ERROR, `frame of ${header.length} bytes`);
        const end = pos + FRAME_HEADER_BYTES + header.length;
        if (end > data.length) break;
        if (pos > run) out.push(data.subarray(run, pos));
        const block = this.assembler.add(header, data.subarray(pos + FRAME_HEADER_BYTES, end));
        if (block !== undefined) out.push(this.reencode(block));
        pos = run = end;
      } else if (this.ackPending && header.type === FrameType.SETTINGS && header.flags & Flag.ACK && header.length === 0) {
        if (pos > run) out.push(data.subarray(run, pos));
        this.ackPending = false;
        pos = run = pos + FRAME_HEADER_BYTES;
      } else {
        pos += FRAME_HEADER_BYTES;
        this.passLeft = header.length;
      }
    }
    if (pos > run) out.push(data.subarray(run, pos));
    if (pos < data.length) this.partial = data.subarray(pos);
    return out;
  }

  private reencode(block: HeaderBlock): Buffer {
    const fields = this.decoder.decode(block.fragment).map(fixAuthority);
    return encodeHeaderFrames(block.streamId, block.endStream, block.priority, encodeLiteralBlock(fields), DEFAULT_MAX_FRAME_SIZE);
  }
}

function fixAuthority(field: HeaderField): HeaderField {
  return isRefusedAuthority(field.name, field.value) ? { ...field, value: reduceAuthority(field.value) } : field;
}
