// HTTP/2 frame layout (RFC 9113 §4.1, §6) as far as the connection sniffer and the authority
// rewriter need it: the 9-byte frame header, the types and flags they look at, and the error
// they raise on bytes that are not HTTP/2.

export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FRAME_HEADER_BYTES = 9;

/** SETTINGS_MAX_FRAME_SIZE and SETTINGS_HEADER_TABLE_SIZE as node:http2 advertises them by default. */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
export const DEFAULT_HEADER_TABLE_SIZE = 4_096;
/** Bound on a decoded header list here; node:http2 refuses lists over 64 KiB anyway. */
export const MAX_HEADER_LIST_BYTES = 256 * 1024;

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Flag = {
  END_STREAM: 0x1,
  /** SETTINGS and PING */
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

/** HTTP/2 error codes (RFC 9113 §7) this server sends, in GOAWAY and RST_STREAM. */
export const H2ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  FLOW_CONTROL_ERROR: 0x3,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  COMPRESSION_ERROR: 0x9,
} as const;
export type H2ErrorCode = (typeof H2ErrorCode)[keyof typeof H2ErrorCode];

/** A connection error: the peer sent something that is not valid HTTP/2. */
export class H2Error extends Error {
  constructor(
    readonly code: H2ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'H2Error';
  }
}

export interface FrameHeader {
  readonly length: number;
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
}

/** Reads the frame header at `offset`; the caller has checked that 9 bytes are there. */
export function readFrameHeader(buf: Buffer, offset: number): FrameHeader {
  return {
    length: buf.readUIntBE(offset, 3),
    type: buf[offset + 3]!,
    flags: buf[offset + 4]!,
    streamId: buf.readUInt32BE(offset + 5) & 0x7fff_ffff,
  };
}

export function writeFrameHeader(buf: Buffer, offset: number, length: number, type: number, flags: number, streamId: number): void {
  buf.writeUIntBE(length, offset, 3);
  buf[offset + 3] = type;
  buf[offset + 4] = flags;
  buf.writeUInt32BE(streamId, offset + 5);
}

/** A SETTINGS frame without parameters: a server preface that changes nothing. */
export const EMPTY_SETTINGS_FRAME: Buffer = Buffer.from([0, 0, 0, FrameType.SETTINGS, 0, 0, 0, 0, 0]);

/** A GOAWAY frame (§6.8): `lastStreamId` is the last stream this side processed or will process. */
export function goawayFrame(code: H2ErrorCode, debug: string, lastStreamId = 0): Buffer {
  const text = Buffer.from(debug, 'latin1');
  const out = Buffer.alloc(FRAME_HEADER_BYTES + 8 + text.length);
  writeFrameHeader(out, 0, 8 + text.length, FrameType.GOAWAY, 0, 0);
  out.writeUInt32BE(lastStreamId, FRAME_HEADER_BYTES);
  out.writeUInt32BE(code, FRAME_HEADER_BYTES + 4);
  text.copy(out, FRAME_HEADER_BYTES + 8);
  return out;
}
