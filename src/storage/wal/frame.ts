// How records sit in a WAL segment file: each one framed as
//   length u32 LE | CRC-32C u32 LE | kind u8 | body
// (length and checksum cover kind and body), so a reader finds where the last complete write
// ends: a frame that runs past the end of the file or fails its checksum is a write a crash tore
// (or, before the last segment, corruption).
import { Crc32c } from '../crc32c.js';

const FRAME_HEADER = 8;

export interface Frame {
  kind: number;
  body: Uint8Array;
}

export const frameSize = (body: Uint8Array): number => FRAME_HEADER + 1 + body.byteLength;

/** Writes one frame at `at` in `out` (which has frameSize(body) bytes free there); returns its end. */
export function writeFrame(out: Buffer, at: number, kind: number, body: Uint8Array): number {
  const start = at + FRAME_HEADER;
  out[start] = kind;
  out.set(body, start + 1);
  const length = 1 + body.byteLength;
  out.writeUInt32LE(length, at);
  out.writeUInt32LE(new Crc32c().update(out.subarray(start, start + length)).value(), at + 4);
  return start + length;
}

export interface ScanResult {
  /** The intact frames, in order; bodies are views into the scanned buffer. */
  frames: Frame[];
  /** Where the intact frames end: the buffer's length unless a torn or corrupt frame follows. */
  end: number;
}

export function scanFrames(file: Buffer): ScanResult {
  const frames: Frame[] = [];
  let at = 0;
  while (at + FRAME_HEADER < file.length) {
    const length = file.readUInt32LE(at);
    const start = at + FRAME_HEADER;
    if (length === 0 || start + length > file.length) break;
    const payload = file.subarray(start, start + length);
    if (new Crc32c().update(payload).value() !== file.readUInt32LE(at + 4)) break;
    frames.push({ kind: payload[0]!, body: payload.subarray(1) });
    at = start + length;
  }
  return { frames, end: at };
}
