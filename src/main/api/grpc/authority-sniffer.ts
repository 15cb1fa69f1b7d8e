// Second look at an HTTP/2 connection: is the client's first request gRPC? Then the connection
// goes to the server's own lean HTTP/2 (H2Connection, 'grpc'). Otherwise node:http2 gets it, and
// the question is whether the first request carries an :authority that nghttp2 accepts: grpc-go
// sends `http://host:port` when dialled with a URL (etcdctl `endpoint status`, `--cluster`), and
// nghttp2 resets such streams with PROTOCOL_ERROR. Connections whose first request is fine go to node:http2 untouched ('native');
// the others go through AuthorityRewriter ('rewrite').
//
// grpc-go sends no request before it has seen the server's SETTINGS, and node:http2 sends none
// before it has the socket, so the sniffer answers the preface itself with an empty SETTINGS
// frame (one that changes nothing). The client's ACK for it must not reach nghttp2, which would
// take an ACK for SETTINGS it never sent as a protocol error: on the native path the sniffer
// waits for that ACK and cuts it out; the rewriter drops it on its own path.

import type net from 'node:net';
import { isRefusedAuthority } from './authority.js';
import {
  CLIENT_PREFACE,
  DEFAULT_HEADER_TABLE_SIZE,
  DEFAULT_MAX_FRAME_SIZE,
  EMPTY_SETTINGS_FRAME,
  Flag,
  FRAME_HEADER_BYTES,
  FrameType,
  goawayFrame,
  H2Error,
  H2ErrorCode,
  MAX_HEADER_LIST_BYTES,
  readFrameHeader,
} from './h2-frames.js';
import { HeaderBlockAssembler, type HeaderBlock } from './header-block.js';
import { HpackDecoder } from './hpack-decoder.js';
import { readWhileSniffing } from './protocol-sniffer.js';
import { isGrpcContentType } from './status.js';

export type H2Route =
  | { readonly kind: 'native' }
  | { readonly kind: 'rewrite'; readonly received: Buffer }
  | { readonly kind: 'grpc'; readonly received: Buffer };

/** Bytes buffered until the first header block is complete; a client that needs more is dropped. */
const FIRST_BLOCK_LIMIT = 64 * 1024;
/**
 * Bytes buffered while waiting for the SETTINGS ACK once the first block is there: besides more
 * frames, the client may send its whole initial flow-control window (65,535 bytes) of DATA.
 */
const ACK_WAIT_LIMIT = FIRST_BLOCK_LIMIT + 96 * 1024;

/**
 * Takes over a socket whose next bytes are the HTTP/2 client preface (put back by
 * sniffProtocol), sends an empty SETTINGS frame and reads until the route is known. For 'native',
 * the bytes read are put back (socket.unshift) minus the ACK; for 'rewrite' and 'grpc' they are
 * handed over (H2Connection takes the client's ACK as one for its own SETTINGS, which is harmless).
 * Bytes that are not HTTP/2 get a GOAWAY with the error and the connection is closed.
 * The client must acknowledge the SETTINGS, and finish a header block it has started, within
 * `timeoutMs`; a client that does not, closes, or overflows the buffer first is destroyed. Waiting
 * for the first request has no time limit: an idle client is an HTTP/2 client like any other.
 */
export function sniffAuthority(socket: net.Socket, timeoutMs: number, decided: (route: H2Route) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  let pos = CLIENT_PREFACE.length;
  let ackAt = -1;
  /** What the first header block says, once it is complete. */
  let verdict: H2Route['kind'] | undefined;
  const assembler = new HeaderBlockAssembler(FIRST_BLOCK_LIMIT);

  /** Reads frames from `pos`; returns the route as soon as it is known, or what is wrong. */
  const scan = (): H2Route['kind'] | H2Error | undefined => {
    while (seen.length - pos >= FRAME_HEADER_BYTES) {
      const header = readFrameHeader(seen, pos);
      if (header.length > DEFAULT_MAX_FRAME_SIZE) return new H2Error(H2ErrorCode.FRAME_SIZE_ERROR, `frame of ${header.length} bytes`);
      const isAck = header.type === FrameType.SETTINGS && (header.flags & Flag.ACK) !== 0;
      if (pos === CLIENT_PREFACE.length && (header.type !== FrameType.SETTINGS || isAck)) {
        return new H2Error(H2ErrorCode.PROTOCOL_ERROR, 'the client preface must end with SETTINGS');
      }
      if (seen.length - pos - FRAME_HEADER_BYTES < header.length) return undefined;
      const payload = seen.subarray(pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + header.length);
      if (isAck) {
        if (header.length !== 0) return new H2Error(H2ErrorCode.FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload');
        if (ackAt >= 0) return new H2Error(H2ErrorCode.PROTOCOL_ERROR, 'SETTINGS ACK without SETTINGS');
        ackAt = pos;
      } else if (verdict === undefined) {
        if (assembler.inProgress && header.type !== FrameType.CONTINUATION) return new H2Error(H2ErrorCode.PROTOCOL_ERROR, 'frame inside a header block');
        switch (header.type) {
          case FrameType.HEADERS:
          case FrameType.CONTINUATION: {
            let block: HeaderBlock | undefined;
            try {
              block = assembler.add(header, payload);
            } catch (err) {
              return err as H2Error;
            }
            if (block !== undefined) verdict = firstBlockVerdict(block.fragment);
            break;
          }
          case FrameType.PING:
            // The client waits for the answer, which only a running session can give; the
            // rewriting path is right whatever the requests carry.
            return 'rewrite';
          case FrameType.DATA:
          case FrameType.RST_STREAM:
          case FrameType.PUSH_PROMISE:
            return new H2Error(H2ErrorCode.PROTOCOL_ERROR, `frame type ${header.type} before any request`);
          default:
            // SETTINGS, WINDOW_UPDATE, PRIORITY and GOAWAY need no answer now; extension frames
            // are ignored (RFC 9113 §5.5).
            break;
        }
      }
      pos += FRAME_HEADER_BYTES + header.length;
      if (verdict === 'rewrite' || verdict === 'grpc') return verdict;
      if (verdict === 'native' && ackAt >= 0) return 'native';
    }
    return undefined;
  };

  const onReadable = (): void => {
    let chunk: Buffer | null;
    while ((chunk = socket.read() as Buffer | null) !== null) seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const route = scan();
    if (route === 'rewrite' || route === 'grpc') {
      stop();
      decided({ kind: route, received: seen });
    } else if (route === 'native') {
      stop();
      socket.unshift(Buffer.concat([seen.subarray(0, ackAt), seen.subarray(ackAt + FRAME_HEADER_BYTES)]));
      decided({ kind: 'native' });
    } else if (route instanceof H2Error) {
      stop();
      socket.end(goawayFrame(route.code, route.message), () => socket.destroy());
    } else if (seen.length > (verdict === undefined ? FIRST_BLOCK_LIMIT : ACK_WAIT_LIMIT)) {
      giveUp();
    } else {
      socket.setTimeout(ackAt < 0 || assembler.inProgress ? timeoutMs : 0);
    }
  };
  const { stop, giveUp } = readWhileSniffing(socket, timeoutMs, onReadable);
  socket.write(EMPTY_SETTINGS_FRAME);
}

/**
 * 'native' also when the block does not decode: then it is nghttp2's to refuse (and if our
 * decoder were wrong, the connection still works as it did before this sniffer existed).
 */
function firstBlockVerdict(fragment: Buffer): H2Route['kind'] {
  try {
    const fields = new HpackDecoder(DEFAULT_HEADER_TABLE_SIZE, MAX_HEADER_LIST_BYTES).decode(fragment);
    if (fields.some((f) => f.name === 'content-type' && isGrpcContentType(f.value))) return 'grpc';
    return fields.some((f) => isRefusedAuthority(f.name, f.value)) ? 'rewrite' : 'native';
  } catch {
    return 'native';
  }
}
