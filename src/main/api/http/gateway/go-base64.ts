// Base64 as Go's encoding/json reads []byte fields: the standard alphabet with padding, CR and LF
// ignored, and Go's error for anything else ("illegal base64 data at input byte N", N as Go's
// decoder counts it), so etcd's gateway errors come out the same.

const DECODE = new Int8Array(256).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) {
  DECODE[c.charCodeAt(0)] = i;
}
const PAD = 0x3d;
const isNewline = (c: number) => c === 0x0a || c === 0x0d;

export class Base64Error extends Error {
  override name = 'Base64Error';
  constructor(at: number) {
    super(`illegal base64 data at input byte ${at}`);
  }
}

/** Decodes like Go's base64.StdEncoding.Decode; throws Base64Error where Go fails. */
export function goBase64Decode(src: Buffer): Buffer {
  const out = Buffer.allocUnsafe(Math.floor(src.length / 4) * 3 + 3);
  let n = 0;
  let si = 0;
  const quantum = [0, 0, 0, 0];
  for (;;) {
    // One quantum of up to four symbols (Go's decodeQuantum).
    let j = 0;
    let dlen = 4;
    let trailing: number | undefined;
    for (; j < 4; j++) {
      if (si === src.length) {
        if (j === 0) return out.subarray(0, n);
        throw new Base64Error(si - j);
      }
      const c = src[si++]!;
      const v = DECODE[c]!;
      if (v >= 0) {
        quantum[j] = v;
        continue;
      }
      if (isNewline(c)) {
        j--;
        continue;
      }
      if (c !== PAD) throw new Base64Error(si - 1);
      // Padding: only after two or three symbols, "==" after two.
      if (j < 2) throw new Base64Error(si - 1);
      if (j === 2) {
        while (si < src.length && isNewline(src[si]!)) si++;
        if (si === src.length) throw new Base64Error(src.length);
        if (src[si] !== PAD) throw new Base64Error(si - 1);
        si++;
      }
      while (si < src.length && isNewline(src[si]!)) si++;
      if (si < src.length) trailing = si;
      dlen = j;
      break;
    }
    const v = (quantum[0]! << 18) | (quantum[1]! << 12) | (quantum[2]! << 6) | quantum[3]!;
    out[n++] = (v >> 16) & 0xff;
    if (dlen >= 3) out[n++] = (v >> 8) & 0xff;
    if (dlen === 4) out[n++] = v & 0xff;
    if (trailing !== undefined) throw new Base64Error(trailing);
    if (dlen < 4) return out.subarray(0, n);
  }
}
