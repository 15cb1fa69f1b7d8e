// CRC-32C (Castagnoli), as Go's crc32.MakeTable(crc32.Castagnoli): reflected polynomial
// 0x82F63B78, initial value and final xor 0xFFFFFFFF. Slicing-by-4 tables for throughput.

const TABLES = ((): Uint32Array[] => {
  const t0 = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t0[i] = c >>> 0;
  }
  const tables = [t0];
  for (let n = 1; n < 4; n++) {
    const prev = tables[n - 1]!;
    const t = new Uint32Array(256);
    for (let i = 0; i < 256; i++) t[i] = ((prev[i]! >>> 8) ^ t0[prev[i]! & 0xff]!) >>> 0;
    tables.push(t);
  }
  return tables;
})();
const [T0, T1, T2, T3] = TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array];

/** Incremental CRC-32C: update() any number of times, then value(). */
export class Crc32c {
  private crc = 0xffffffff;

  update(data: Uint8Array): this {
    let crc = this.crc;
    let i = 0;
    const n = data.length;
    for (const end4 = n - (n & 3); i < end4; i += 4) {
      crc ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
      crc = T3[crc & 0xff]! ^ T2[(crc >>> 8) & 0xff]! ^ T1[(crc >>> 16) & 0xff]! ^ T0[crc >>> 24]!;
    }
    for (; i < n; i++) crc = T0[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
    this.crc = crc;
    return this;
  }

  value(): number {
    return (this.crc ^ 0xffffffff) >>> 0;
  }
}

export function crc32c(data: Uint8Array): number {
  return new Crc32c().update(data).value();
}
