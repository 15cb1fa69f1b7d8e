// Header blocks on the wire (RFC 9113 §4.3, §6.2, §6.10): one HEADERS frame and the CONTINUATION
// frames after it, read into one block, and one block written back as frames.

import { Flag, FRAME_HEADER_BYTES, FrameType, H2Error, H2ErrorCode, writeFrameHeader, type FrameHeader } from './h2-frames.js';

export interface HeaderBlock {
  readonly streamId: number;
  readonly endStream: boolean;
  /** The 5 bytes of a HEADERS frame's PRIORITY fields (dependency and weight), if it had them. */
  readonly priority: Buffer | undefined;
  /** The HPACK-encoded field block, padding removed. */
  readonly fragment: Buffer;
}

function protocolError(message: string): H2Error {
  return new H2Error(H2ErrorCode.PROTOCOL_ERROR, message);
}

/** Collects HEADERS + CONTINUATION frames until END_HEADERS. */
export class HeaderBlockAssembler {
  private open: { streamId: number; endStream: boolean; priority: Buffer | undefined; fragments: Buffer[]; bytes: number } | undefined;

  /** @param maxBlockBytes bound on one block's encoded size; a larger block is an error. */
  constructor(private readonly maxBlockBytes: number) {}

  /** True between a HEADERS frame without END_HEADERS and the end of its block: only CONTINUATION may come. */
  get inProgress(): boolean {
    return this.open !== undefined;
  }

  /**
   * Takes a HEADERS or CONTINUATION frame; returns the block once END_HEADERS completes it.
   * Throws H2Error for a frame out of place, bad padding or priority, or a block over the bound.
   */
  add(header: FrameHeader, payload: Buffer): HeaderBlock | undefined {
    if (header.type === FrameType.HEADERS) {
      if (this.open !== undefined) throw protocolError('HEADERS inside a header block');
      if (header.streamId === 0) throw protocolError('HEADERS on stream 0');
      let start = 0;
      let end = payload.length;
      if (header.flags & Flag.PADDED) {
        if (end < 1) throw protocolError('HEADERS too short for its padding');
        const pad = payload[0]!;
        start = 1;
        if (pad > end - start) throw protocolError('HEADERS padding longer than the frame');
        end -= pad;
      }
      let priority: Buffer | undefined;
      if (header.flags & Flag.PRIORITY) {
        if (end - start < 5) throw protocolError('HEADERS too short for its priority');
        priority = payload.subarray(start, start + 5);
        start += 5;
      }
      this.open = { streamId: header.streamId, endStream: (header.flags & Flag.END_STREAM) !== 0, priority, fragments: [], bytes: 0 };
      return this.append(payload.subarray(start, end), header.flags);
    }
    if (this.open === undefined || header.streamId !== this.open.streamId) throw protocolError('CONTINUATION outside its header block');
    return this.append(payload, header.flags);
  }

  private append(fragment: Buffer, flags: number): HeaderBlock | undefined {
    const open = this.open!;
    open.bytes += fragment.length;
    if (open.bytes > this.maxBlockBytes) throw protocolError(`header block over ${this.maxBlockBytes} bytes`);
    open.fragments.push(fragment);
    if ((flags & Flag.END_HEADERS) === 0) return undefined;
    this.open = undefined;
    const joined = open.fragments.length === 1 ? open.fragments[0]! : Buffer.concat(open.fragments, open.bytes);
    return { streamId: open.streamId, endStream: open.endStream, priority: open.priority, fragment: joined };
  }
}

/**
 * Frames a block as one HEADERS frame and as many CONTINUATION frames as `maxFrameSize` needs,
 * without padding; END_STREAM and the priority fields go on the HEADERS frame.
 */
export function encodeHeaderFrames(streamId: number, endStream: boolean, priority: Buffer | undefined, fragment: Buffer, maxFrameSize: number): Buffer {
  const priorityBytes = priority === undefined ? 0 : priority.length;
  const firstChunk = Math.min(fragment.length, maxFrameSize - priorityBytes);
  const continuations = Math.ceil((fragment.length - firstChunk) / maxFrameSize);
  const out = Buffer.allocUnsafe((1 + continuations) * FRAME_HEADER_BYTES + priorityBytes + fragment.length);

  let flags = (endStream ? Flag.END_STREAM : 0) | (priority === undefined ? 0 : Flag.PRIORITY) | (continuations === 0 ? Flag.END_HEADERS : 0);
  writeFrameHeader(out, 0, priorityBytes + firstChunk, FrameType.HEADERS, flags, streamId);
  let pos = FRAME_HEADER_BYTES;
  if (priority !== undefined) pos += priority.copy(out, pos);
  pos += fragment.copy(out, pos, 0, firstChunk);

  for (let from = firstChunk; from < fragment.length; from += maxFrameSize) {
    const to = Math.min(from + maxFrameSize, fragment.length);
    flags = to === fragment.length ? Flag.END_HEADERS : 0;
    writeFrameHeader(out, pos, to - from, FrameType.CONTINUATION, flags, streamId);
    pos += FRAME_HEADER_BYTES;
    pos += fragment.copy(out, pos, from, to);
  }
  return out;
}
