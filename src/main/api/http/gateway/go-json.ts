// JSON as etcd's gateway reads it: Go's encoding/json. A byte-level reader that builds a value
// tree and, on bad input, fails with the message Go's scanner gives at the same byte, so clients
// see etcd's error text ("invalid character '}' after object key", "unexpected EOF", ...).
//
// Two modes, as in Go: `readStreamValue` is json.Decoder.Decode (one value from a stream; bytes
// after it are left for the next call; running out of input is "unexpected EOF"), and `readWhole`
// is json.Unmarshal (exactly one value; end of input is "unexpected end of JSON input", or the
// error a space would cause, as Go's scanner feeds one at EOF).

export type JsonValue =
  | { readonly kind: 'object'; readonly fields: ReadonlyMap<string, JsonValue> }
  | { readonly kind: 'array'; readonly items: readonly JsonValue[] }
  /** `bytes`: the unescaped UTF-8; `raw`: the bytes between the quotes, escapes untouched. */
  | { readonly kind: 'string'; readonly bytes: Buffer; readonly raw: Buffer }
  /** `text`: the literal as written (Go's error messages quote it). */
  | { readonly kind: 'number'; readonly text: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'null' };

/** A syntax error, with Go's message. */
export class GoJsonError extends Error {
  override name = 'GoJsonError';
}

export type StreamRead =
  | { readonly kind: 'value'; readonly value: JsonValue; readonly end: number }
  /** Only whitespace up to the end (io.EOF): no value. */
  | { readonly kind: 'eof' }
  /** The value is cut off; more input may complete it (only when the stream has not ended). */
  | { readonly kind: 'partial' };

/** Thrown inside the reader when input runs out; turned into a mode-specific outcome. */
class OutOfInput {}
const OUT_OF_INPUT = new OutOfInput();

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** Go's quoteChar: how its scanner names the offending byte. */
function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return "'\"'";
  return "'" + goQuoteBody(String.fromCharCode(c)) + "'";
}

/** Go's strconv.Quote without the surrounding quotes, for a JS string. */
function goQuoteBody(s: string): string {
  let out = '';
  for (const ch of s) {
    const r = ch.codePointAt(0)!;
    switch (r) {
      case 0x07: out += '\\a'; continue;
      case 0x08: out += '\\b'; continue;
      case 0x0c: out += '\\f'; continue;
      case 0x0a: out += '\\n'; continue;
      case 0x0d: out += '\\r'; continue;
      case 0x09: out += '\\t'; continue;
      case 0x0b: out += '\\v'; continue;
      case 0x22: out += '\\"'; continue;
      case 0x5c: out += '\\\\'; continue;
    }
    if (r < 0x20 || r === 0x7f) out += '\\x' + r.toString(16).padStart(2, '0');
    else if (isGoPrintable(ch)) out += ch;
    else if (r < 0x10000) out += '\\u' + r.toString(16).padStart(4, '0');
    else out += '\\U' + r.toString(16).padStart(8, '0');
  }
  return out;
}

/** Go's strconv.Quote of raw bytes: invalid UTF-8 bytes become \xNN. */
export function goQuoteBytes(b: Buffer): string {
  let out = '';
  let i = 0;
  while (i < b.length) {
    const n = utf8Length(b, i);
    if (n === 0) {
      out += '\\x' + b[i]!.toString(16).padStart(2, '0');
      i++;
      continue;
    }
    out += goQuoteBody(b.toString('utf8', i, i + n));
    i += n;
  }
  return '"' + out + '"';
}

/** Bytes of the valid UTF-8 sequence starting at `i`, or 0 when it is not one. */
function utf8Length(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
  if (n === 0 || i + n > b.length) return 0;
  for (let k = 1; k < n; k++) if ((b[i + k]! & 0xc0) !== 0x80) return 0;
  const cp = b.toString('utf8', i, i + n).codePointAt(0)!;
  return cp === 0xfffd && !(c === 0xef && b[i + 1] === 0xbf && b[i + 2] === 0xbd) ? 0 : n;
}

/** Letters, marks, numbers, punctuation, symbols and the ASCII space: Go's unicode.IsPrint. */
function isGoPrintable(ch: string): boolean {
  return ch === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch);
}

class Reader {
  pos: number;

  constructor(
    private readonly buf: Buffer,
    start: number,
    /** json.Unmarshal: at the end of input the scanner sees one space. */
    private readonly whole: boolean,
  ) {
    this.pos = start;
  }

  private fail(c: number, context: string): never {
    throw new GoJsonError(`invalid character ${quoteChar(c)} ${context}`);
  }

  /** The next byte; at the end, a space for json.Unmarshal's final step, else out of input. */
  private peekOrEnd(): number {
    if (this.pos < this.buf.length) return this.buf[this.pos]!;
    if (this.whole) return 0x20;
    throw OUT_OF_INPUT;
  }

  /** Skips whitespace; throws OUT_OF_INPUT (or Go's EOF error) at the end. */
  private nextNonSpace(): number {
    while (this.pos < this.buf.length) {
      const c = this.buf[this.pos]!;
      if (!isSpace(c)) return c;
      this.pos++;
    }
    throw OUT_OF_INPUT;
  }

  value(): JsonValue {
    const c = this.nextNonSpace();
    switch (c) {
      case 0x7b: return this.object();
      case 0x5b: return this.array();
      case 0x22: return this.string();
      case 0x74: this.literal('true'); return { kind: 'bool', value: true };
      case 0x66: this.literal('false'); return { kind: 'bool', value: false };
      case 0x6e: this.literal('null'); return { kind: 'null' };
    }
    if (c === 0x2d || isDigit(c)) return this.number();
    this.fail(c, 'looking for beginning of value');
  }

  private object(): JsonValue {
    this.pos++; // {
    const fields = new Map<string, JsonValue>();
    let c = this.nextNonSpace();
    if (c === 0x7d) {
      this.pos++;
      return { kind: 'object', fields };
    }
    for (;;) {
      if (c !== 0x22) this.fail(c, 'looking for beginning of object key string');
      const key = this.string();
      c = this.nextNonSpace();
      if (c !== 0x3a) this.fail(c, 'after object key');
      this.pos++;
      // Go decodes into a map: a repeated key keeps the last value.
      fields.set(key.bytes.toString('utf8'), this.value());
      c = this.nextNonSpace();
      this.pos++;
      if (c === 0x7d) return { kind: 'object', fields };
      if (c !== 0x2c) {
        this.pos--;
        this.fail(c, 'after object key:value pair');
      }
      c = this.nextNonSpace();
    }
  }

  private array(): JsonValue {
    this.pos++; // [
    const items: JsonValue[] = [];
    let c = this.nextNonSpace();
    if (c === 0x5d) {
      this.pos++;
      return { kind: 'array', items };
    }
    for (;;) {
      items.push(this.value());
      c = this.nextNonSpace();
      this.pos++;
      if (c === 0x5d) return { kind: 'array', items };
      if (c !== 0x2c) {
        this.pos--;
        this.fail(c, 'after array element');
      }
    }
  }

  private string(): { kind: 'string'; bytes: Buffer; raw: Buffer } {
    const start = ++this.pos; // opening quote
    let simple = true;
    for (;;) {
      if (this.pos >= this.buf.length) throw OUT_OF_INPUT;
      const c = this.buf[this.pos]!;
      if (c === 0x22) break;
      if (c < 0x20) this.fail(c, 'in string literal');
      if (c >= 0x80) simple = false;
      this.pos++;
      if (c !== 0x5c) continue;
      simple = false;
      if (this.pos >= this.buf.length) throw OUT_OF_INPUT;
      const e = this.buf[this.pos++]!;
      if (e === 0x75) {
        for (let k = 0; k < 4; k++) {
          if (this.pos >= this.buf.length) throw OUT_OF_INPUT;
          const h = this.buf[this.pos]!;
          if (!isHex(h)) this.fail(h, 'in \\u hexadecimal character escape');
          this.pos++;
        }
      } else if (!'"\\/bfnrt'.includes(String.fromCharCode(e))) {
        this.fail(e, 'in string escape code');
      }
    }
    const raw = this.buf.subarray(start, this.pos);
    this.pos++; // closing quote
    return { kind: 'string', bytes: simple ? raw : unescape(raw), raw };
  }

  private number(): JsonValue {
    const start = this.pos;
    let c = this.buf[this.pos]!;
    if (c === 0x2d) {
      this.pos++;
      c = this.peekOrEnd();
      if (!isDigit(c)) this.fail(c, 'in numeric literal');
    }
    if (c === 0x30) {
      this.pos++;
    } else {
      while (this.pos < this.buf.length && isDigit(this.buf[this.pos]!)) this.pos++;
    }
    if (this.endsHere()) return this.numberFrom(start);
    if (this.buf[this.pos] === 0x2e) {
      this.pos++;
      c = this.peekOrEnd();
      if (!isDigit(c)) this.fail(c, 'after decimal point in numeric literal');
      while (this.pos < this.buf.length && isDigit(this.buf[this.pos]!)) this.pos++;
      if (this.endsHere()) return this.numberFrom(start);
    }
    c = this.buf[this.pos]!;
    if (c === 0x65 || c === 0x45) {
      this.pos++;
      c = this.peekOrEnd();
      if (c === 0x2b || c === 0x2d) {
        this.pos++;
        c = this.peekOrEnd();
      }
      if (!isDigit(c)) this.fail(c, 'in exponent of numeric literal');
      while (this.pos < this.buf.length && isDigit(this.buf[this.pos]!)) this.pos++;
    }
    return this.numberFrom(start);
  }

  /**
   * At the end of input a number may be complete (json.Unmarshal, or a top-level value in a
   * stream) or cut off (inside a container in a stream: more input decides).
   */
  private endsHere(): boolean {
    return this.pos >= this.buf.length;
  }

  private numberFrom(start: number): JsonValue {
    return { kind: 'number', text: this.buf.toString('latin1', start, this.pos) };
  }

  private literal(word: string): void {
    this.pos++;
    for (let k = 1; k < word.length; k++) {
      const c = this.peekOrEnd();
      if (c !== word.charCodeAt(k)) this.fail(c, `in literal ${word} (expecting '${word[k]}')`);
      this.pos++;
    }
  }

  /** After a top-level value: only whitespace may follow (json.Unmarshal). */
  finishWhole(): void {
    while (this.pos < this.buf.length) {
      const c = this.buf[this.pos]!;
      if (!isSpace(c)) this.fail(c, 'after top-level value');
      this.pos++;
    }
  }
}

/** Decodes a string's escapes to UTF-8, with Go's handling of invalid surrogates (U+FFFD). */
function unescape(raw: Buffer): Buffer {
  let s = '';
  let i = 0;
  let from = 0;
  const units: number[] = [];
  const flushUnits = () => {
    for (let k = 0; k < units.length; k++) {
      const u = units[k]!;
      if (u >= 0xd800 && u < 0xdc00 && k + 1 < units.length && units[k + 1]! >= 0xdc00 && units[k + 1]! < 0xe000) {
        s += String.fromCharCode(u, units[++k]!);
      } else if (u >= 0xd800 && u < 0xe000) {
        s += '\ufffd';
      } else {
        s += String.fromCharCode(u);
      }
    }
    units.length = 0;
  };
  while (i < raw.length) {
    if (raw[i] !== 0x5c) {
      i++;
      continue;
    }
    if (i > from) {
      flushUnits();
      s += raw.toString('utf8', from, i);
    }
    const e = raw[i + 1]!;
    i += 2;
    if (e === 0x75) {
      units.push(parseInt(raw.toString('latin1', i, i + 4), 16));
      i += 4;
    } else {
      flushUnits();
      s += ESCAPES[e] ?? '';
    }
    from = i;
  }
  flushUnits();
  s += raw.toString('utf8', from);
  return Buffer.from(s, 'utf8');
}

const ESCAPES: Readonly<Record<number, string>> = {
  0x22: '"', 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t',
};

/**
 * json.Decoder.Decode: the next value from `buf` at `start`. `ended` says the stream is over:
 * then a cut-off value is Go's "unexpected EOF" (a GoJsonError), else `partial`.
 */
export function readStreamValue(buf: Buffer, start: number, ended: boolean): StreamRead {
  const r = new Reader(buf, start, false);
  try {
    const value = r.value();
    // A top-level number runs to the end of input only once the stream has ended.
    if (value.kind === 'number' && r.pos >= buf.length && !ended) return { kind: 'partial' };
    return { kind: 'value', value, end: r.pos };
  } catch (e) {
    if (e !== OUT_OF_INPUT) throw e;
    if (!ended) return { kind: 'partial' };
    for (let i = start; i < buf.length; i++) if (!isSpace(buf[i]!)) throw new GoJsonError('unexpected EOF');
    return { kind: 'eof' };
  }
}

/** json.Unmarshal's parse: exactly one value and nothing but whitespace after it. */
export function readWhole(buf: Buffer): JsonValue {
  const r = new Reader(buf, 0, true);
  try {
    const value = r.value();
    r.finishWhole();
    return value;
  } catch (e) {
    if (e === OUT_OF_INPUT) throw new GoJsonError('unexpected end of JSON input');
    throw e;
  }
}
