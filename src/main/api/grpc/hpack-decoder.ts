// An HPACK decoder (RFC 7541): static table, dynamic table with eviction, Huffman strings.
// One decoder per direction of one connection, fed every header block in order.
// Names and values are latin1 strings, one character per byte, so that any byte sequence
// survives a decode and re-encode unchanged.

import { H2Error, H2ErrorCode } from './h2-frames.js';
import { huffmanDecode } from './hpack-huffman.js';

export interface HeaderField {
  readonly name: string;
  readonly value: string;
  /** Sent as "never indexed" (§6.2.3): intermediaries must keep it that way. */
  readonly neverIndexed: boolean;
}

export interface TableEntry {
  readonly name: string;
  readonly value: string;
}

// prettier-ignore
const STATIC_TABLE: readonly TableEntry[] = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''], ['etag', ''],
  ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''],
  ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
].map(([name, value]) => ({ name: name!, value: value! }));

/** §4.1: an entry's size is its name and value length plus 32. */
const ENTRY_OVERHEAD = 32;

/** Integers larger than this are refused (no legitimate index, length or size comes close). */
const MAX_INTEGER = 2 ** 28;

const EMPTY = Buffer.alloc(0);

function compressionError(message: string): H2Error {
  return new H2Error(H2ErrorCode.COMPRESSION_ERROR, `HPACK: ${message}`);
}

export class HpackDecoder {
  /** Newest entry last; dynamic index 1 is the last element. */
  private readonly entries: TableEntry[] = [];
  private size = 0;
  private maxSize: number;
  /** The block being decoded and the read position in it. */
  private block: Buffer = EMPTY;
  private pos = 0;

  /**
   * @param settingsMaxSize the SETTINGS_HEADER_TABLE_SIZE this side advertised: the largest
   *   table the peer's encoder may use.
   * @param maxHeaderListBytes bound on one decoded block (names, values and 32 per field);
   *   a larger block is an error, which also stops a small block from expanding without limit.
   */
  constructor(
    private readonly settingsMaxSize: number,
    private readonly maxHeaderListBytes: number,
  ) {
    this.maxSize = settingsMaxSize;
  }

  /** The dynamic table in index order (newest first), for tests. */
  get dynamicTable(): readonly TableEntry[] {
    return [...this.entries].reverse();
  }

  get dynamicTableSize(): number {
    return this.size;
  }

  /** Decodes one complete header block; throws H2Error (COMPRESSION_ERROR) on malformed input. */
  decode(block: Buffer): HeaderField[] {
    this.block = block;
    this.pos = 0;
    const fields: HeaderField[] = [];
    let listBytes = 0;
    while (this.pos < block.length) {
      const first = block[this.pos]!;
      let field: TableEntry;
      if (first & 0x80) {
        field = this.entry(this.integer(7)); // §6.1 indexed
      } else if (first & 0x40) {
        field = this.literal(6); // §6.2.1 literal with incremental indexing
        this.add(field);
      } else if (first & 0x20) {
        // §6.3 dynamic table size update: only before the first field of a block (§4.2).
        if (fields.length > 0) throw compressionError('table size update after a header field');
        const size = this.integer(5);
        if (size > this.settingsMaxSize) throw compressionError(`table size ${size} over the advertised ${this.settingsMaxSize}`);
        this.maxSize = size;
        this.evict(0);
        continue;
      } else {
        field = this.literal(4); // §6.2.2 without indexing, §6.2.3 never indexed
      }
      listBytes += field.name.length + field.value.length + ENTRY_OVERHEAD;
      if (listBytes > this.maxHeaderListBytes) throw compressionError(`header list over ${this.maxHeaderListBytes} bytes`);
      fields.push({ name: field.name, value: field.value, neverIndexed: (first & 0xf0) === 0x10 });
    }
    this.block = EMPTY;
    return fields;
  }

  /** §5.1: an integer with an N-bit prefix, starting at the current byte. */
  private integer(prefixBits: number): number {
    const block = this.block;
    const mask = (1 << prefixBits) - 1;
    let value = block[this.pos++]! & mask;
    if (value < mask) return value;
    for (let shift = 0; ; shift += 7) {
      if (this.pos >= block.length) throw compressionError('truncated integer');
      const byte = block[this.pos++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (value > MAX_INTEGER) throw compressionError('integer too large');
      if ((byte & 0x80) === 0) return value;
    }
  }

  /** §5.2: a string literal, Huffman-coded or raw. */
  private string(): string {
    const block = this.block;
    if (this.pos >= block.length) throw compressionError('truncated string');
    const huffman = (block[this.pos]! & 0x80) !== 0;
    const length = this.integer(7);
    const start = this.pos;
    const end = start + length;
    if (end > block.length) throw compressionError('truncated string');
    this.pos = end;
    return huffman ? huffmanDecode(block, start, end) : block.toString('latin1', start, end);
  }

  private literal(prefixBits: number): TableEntry {
    const nameIndex = this.integer(prefixBits);
    const name = nameIndex === 0 ? this.string() : this.entry(nameIndex).name;
    return { name, value: this.string() };
  }

  /** §2.3.3: index 1..61 is the static table, 62 onwards the dynamic table, newest first. */
  private entry(index: number): TableEntry {
    if (index >= 1 && index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1]!;
    const dynamic = index - STATIC_TABLE.length;
    if (index === 0 || dynamic > this.entries.length) throw compressionError(`index ${index} out of range`);
    return this.entries[this.entries.length - dynamic]!;
  }

  private add(field: TableEntry): void {
    const size = field.name.length + field.value.length + ENTRY_OVERHEAD;
    // §4.4: an entry larger than the table empties it and is not added.
    this.evict(size);
    if (size <= this.maxSize) {
      this.entries.push(field);
      this.size += size;
    }
  }

  /** Evicts oldest entries until `room` more bytes fit. */
  private evict(room: number): void {
    let drop = 0;
    while (this.size + room > this.maxSize && drop < this.entries.length) {
      const old = this.entries[drop++]!;
      this.size -= old.name.length + old.value.length + ENTRY_OVERHEAD;
    }
    if (drop > 0) this.entries.splice(0, drop);
  }
}
