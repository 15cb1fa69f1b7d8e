// HPACK's Huffman code (RFC 7541 §5.2, Appendix B), decoding only.
//
// The code is canonical: within one length, codes are consecutive in symbol order, and each
// length starts right after the previous one's last code, shifted. So the code lengths are all
// the table needs; a code of `len` bits is symbol `sorted[offset[len] + code - first[len]]`
// when `code - first[len] < count[len]`. The code is complete (Kraft sum 1), so every run of at
// most 30 bits ends in a symbol.

import { H2Error, H2ErrorCode } from './h2-frames.js';

/** Code length in bits of symbols 0..255 and EOS (256), from RFC 7541 Appendix B. */
// prettier-ignore
const CODE_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

const EOS = 256;
const MAX_LENGTH = 30;

const count = new Int32Array(MAX_LENGTH + 1);
const first = new Int32Array(MAX_LENGTH + 1);
const offset = new Int32Array(MAX_LENGTH + 1);
const sorted = new Uint16Array(CODE_LENGTHS.length);
{
  for (const len of CODE_LENGTHS) count[len]!++;
  let code = 0;
  let index = 0;
  for (let len = 1; len <= MAX_LENGTH; len++) {
    first[len] = code;
    offset[len] = index;
    index += count[len]!;
    code = (code + count[len]!) << 1;
  }
  const next = Int32Array.from(offset);
  for (let symbol = 0; symbol < CODE_LENGTHS.length; symbol++) sorted[next[CODE_LENGTHS[symbol]!]!++] = symbol;
}

/** Decodes `src[start, end)`; a string of latin1 characters, one per byte. */
export function huffmanDecode(src: Buffer, start: number, end: number): string {
  // The shortest code has 5 bits, so there are at most 8/5 symbols per byte.
  const out = Buffer.allocUnsafe(Math.floor(((end - start) * 8) / 5));
  let n = 0;
  let code = 0;
  let len = 0;
  for (let i = start; i < end; i++) {
    const byte = src[i]!;
    for (let bit = 7; bit >= 0; bit--) {
      code = (code << 1) | ((byte >> bit) & 1);
      len++;
      const k = code - first[len]!;
      if (k < count[len]!) {
        const symbol = sorted[offset[len]! + k]!;
        if (symbol === EOS) throw new H2Error(H2ErrorCode.COMPRESSION_ERROR, 'HPACK: EOS in a Huffman string');
        out[n++] = symbol;
        code = 0;
        len = 0;
      }
    }
  }
  // What is left must be padding: fewer than 8 bits, all ones (a prefix of EOS).
  if (len > 7 || code !== (1 << len) - 1) throw new H2Error(H2ErrorCode.COMPRESSION_ERROR, 'HPACK: invalid Huffman padding');
  return out.toString('latin1', 0, n);
}
