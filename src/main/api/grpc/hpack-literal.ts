// HPACK encoding that leaves the decoder's state alone (RFC 7541 §6.2.2, §6.2.3): every field a
// literal with a literal name, never added to the dynamic table, no Huffman. The block is larger
// than a compressed one, but a decoder that only ever receives such blocks keeps an empty table.

import type { HeaderField } from './hpack-decoder.js';

/** Encodes the fields in order; "never indexed" fields stay never indexed. */
export function encodeLiteralBlock(fields: readonly HeaderField[]): Buffer {
  let size = 0;
  for (const f of fields) size += 1 + integerBytes(f.name.length) + f.name.length + integerBytes(f.value.length) + f.value.length;
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (const f of fields) {
    out[pos++] = f.neverIndexed ? 0x10 : 0x00; // name index 0: the name follows as a literal
    pos = writeString(out, pos, f.name);
    pos = writeString(out, pos, f.value);
  }
  return out;
}

/** Bytes of a string length as an integer with a 7-bit prefix (§5.1), H bit clear. */
function integerBytes(value: number): number {
  if (value < 0x7f) return 1;
  let n = 2;
  for (let rest = value - 0x7f; rest >= 0x80; rest = Math.floor(rest / 0x80)) n++;
  return n;
}

function writeString(out: Buffer, pos: number, s: string): number {
  if (s.length < 0x7f) {
    out[pos++] = s.length;
  } else {
    out[pos++] = 0x7f;
    let rest = s.length - 0x7f;
    for (; rest >= 0x80; rest = Math.floor(rest / 0x80)) out[pos++] = (rest % 0x80) | 0x80;
    out[pos++] = rest;
  }
  return pos + out.write(s, pos, 'latin1');
}
