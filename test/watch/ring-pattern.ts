// The bytes ring tests write as record `seq`: a length and a fill that both depend on seq.
export function expectedRecord(seq: number): Buffer {
  const length = 8 + ((seq * 7919) % 300);
  const out = Buffer.alloc(length, seq & 0xff);
  out.writeUInt32LE(seq >>> 0, 0);
  out.writeUInt32LE(length, 4);
  return out;
}
