// Who is dialing: the fault proxy listens on one port per destination member, and learns the
// source of each connection from the first bytes the dialer sends, so that faults can be set
// per (source, destination) link:
//  - a tsetcd peer link starts with a Hello frame, which carries `from` and `to`;
//  - an etcd peer connection is HTTP, with X-Server-From and X-Raft-To headers (hex ids).
// Anything else (or a Hello from a joining member, which has no id yet) has an unknown source.
import { FRAME_HEADER_BYTES, FrameType } from '../peer/frame.js';
import { decodeFrame } from '../peer/wire.js';

export type SourceGuess =
  | { kind: 'pending' }
  | { kind: 'unknown' }
  | { kind: 'known'; from: bigint; to: bigint | undefined };

/** A Hello is a few dozen bytes; an HTTP request head of a peer a few hundred. */
const MAX_HELLO_BYTES = 256;
const MAX_HTTP_HEAD_BYTES = 16 * 1024;
const HTTP_METHOD = /^(GET|POST|PUT|HEAD|DELETE|OPTIONS|PATCH) /;

export class SourceSniffer {
  private head: Buffer = Buffer.alloc(0);
  private decided: SourceGuess = { kind: 'pending' };

  /** Feeds the dialer's next bytes; once the answer is not 'pending' it never changes. */
  push(chunk: Buffer): SourceGuess {
    if (this.decided.kind !== 'pending') return this.decided;
    this.head = this.head.length === 0 ? chunk : Buffer.concat([this.head, chunk]);
    this.decided = guess(this.head);
    if (this.decided.kind !== 'pending') this.head = Buffer.alloc(0);
    return this.decided;
  }
}

function guess(head: Buffer): SourceGuess {
  if (head.length < FRAME_HEADER_BYTES) return { kind: 'pending' };
  if (head[4] === FrameType.Hello && head.readUInt32BE(0) <= MAX_HELLO_BYTES) return fromHello(head);
  const text = head.subarray(0, Math.min(head.length, MAX_HTTP_HEAD_BYTES)).toString('latin1');
  if (!HTTP_METHOD.test(text)) return { kind: 'unknown' };
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return head.length >= MAX_HTTP_HEAD_BYTES ? { kind: 'unknown' } : { kind: 'pending' };
  return fromHttpHead(text.slice(0, end));
}

function fromHello(head: Buffer): SourceGuess {
  const length = head.readUInt32BE(0);
  if (head.length < FRAME_HEADER_BYTES + length) return { kind: 'pending' };
  try {
    const frame = decodeFrame(FrameType.Hello, head.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length));
    if (frame.type !== FrameType.Hello || frame.hello.from === 0n) return { kind: 'unknown' };
    return { kind: 'known', from: frame.hello.from, to: frame.hello.to };
  } catch {
    return { kind: 'unknown' };
  }
}

function fromHttpHead(head: string): SourceGuess {
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const from = hexId(headers.get('x-server-from'));
  if (from === undefined || from === 0n) return { kind: 'unknown' };
  return { kind: 'known', from, to: hexId(headers.get('x-raft-to')) };
}

function hexId(text: string | undefined): bigint | undefined {
  if (text === undefined || !/^[0-9a-fA-F]{1,16}$/.test(text)) return undefined;
  return BigInt(`0x${text}`);
}
