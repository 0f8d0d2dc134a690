// The bincode 2 wire format as the Rust codec writes it (standard config: little-endian, varint integers,
// a byte limit), driven by type descriptors: protocol.js states each message's shape once, and values are
// serde's externally tagged JSON (a unit variant is its name, any other variant `{Name: body}`), the form of
// vectors/*.json.
//
// Varints: a value up to 250 is one byte; 251, 252 and 253 announce a u16, u32 or u64 that follows in
// little-endian. The protocol has no signed integer wider than a byte, so zigzag is not needed here.
//
// The limit works as bincode's: each read first claims the most bytes its type can take (a u32 four, a
// length eight, a string its length), and a decode that claims more than the limit fails with
// LimitExceeded before it reads; so a peer's length prefix never decides an allocation, and every input
// fails with the error the Rust codec gives for it.

/** Why bytes could not be decoded or encoded; `kind` names the Rust `CodecError` variant. */
export class CodecError extends Error {
  constructor(kind, detail = kind) {
    super(detail);
    this.kind = kind;
  }
}

const SINGLE_BYTE_MAX = 250;
const U16_BYTE = 251;
const U32_BYTE = 252;
const U64_BYTE = 253;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const malformed = (detail) => new CodecError('Malformed', `malformed message: ${detail}`);

/** A cursor over untrusted bytes; every read is claimed against the limit, then bounds-checked. */
export class Reader {
  constructor(bytes, limit) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.at = 0;
    this.limit = limit;
    this.claimed = 0;
  }

  claim(n) {
    this.claimed += n;
    if (this.claimed > this.limit) throw new CodecError('LimitExceeded', 'a length inside the message is over the limit');
  }

  /** Moves past `n` bytes and returns where they start. */
  take(n) {
    if (this.at + n > this.bytes.length) throw new CodecError('Truncated', 'truncated message');
    const at = this.at;
    this.at += n;
    return at;
  }

  u8() {
    this.claim(1);
    return this.bytes[this.take(1)];
  }

  i8() {
    this.claim(1);
    return this.view.getInt8(this.take(1));
  }

  f32() {
    this.claim(4);
    return this.view.getFloat32(this.take(4), true);
  }

  /** An unsigned varint of `bits` bits (16, 32 or 64); a u64 past 2^53 (no length comes near) is refused. */
  varint(bits) {
    this.claim(bits / 8);
    const tag = this.bytes[this.take(1)];
    if (tag <= SINGLE_BYTE_MAX) return tag;
    if (tag === U16_BYTE) return this.view.getUint16(this.take(2), true);
    if (tag === U32_BYTE && bits >= 32) return this.view.getUint32(this.take(4), true);
    if (tag === U64_BYTE && bits >= 64) {
      const at = this.take(8);
      const high = this.view.getUint32(at + 4, true);
      if (high >= 1 << 21) throw new CodecError('LimitExceeded', 'a length inside the message is over the limit');
      return high * 2 ** 32 + this.view.getUint32(at, true);
    }
    throw malformed(`varint tag ${tag} where a u${bits} is expected`);
  }

  /** A length-prefixed run of raw bytes (a copy, so the caller may keep it). */
  run() {
    const n = this.varint(64);
    this.claim(n);
    const at = this.take(n);
    return this.bytes.slice(at, at + n);
  }
}

/** A growing byte buffer. */
export class Writer {
  constructor() {
    this.bytes = new Uint8Array(64);
    this.view = new DataView(this.bytes.buffer);
    this.len = 0;
  }

  /** Makes room for `n` more bytes and returns where they go (before the buffer or its view is read). */
  room(n) {
    if (this.len + n > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.len + n));
      grown.set(this.bytes.subarray(0, this.len));
      this.bytes = grown;
      this.view = new DataView(grown.buffer);
    }
    const at = this.len;
    this.len += n;
    return at;
  }

  u8(v) {
    const at = this.room(1);
    this.bytes[at] = v;
  }

  i8(v) {
    const at = this.room(1);
    this.view.setInt8(at, v);
  }

  f32(v) {
    const at = this.room(4);
    this.view.setFloat32(at, v, true);
  }

  varint(v) {
    if (v <= SINGLE_BYTE_MAX) return this.u8(v);
    if (v <= 0xffff) {
      this.u8(U16_BYTE);
      const at = this.room(2);
      return this.view.setUint16(at, v, true);
    }
    if (v <= 0xffffffff) {
      this.u8(U32_BYTE);
      const at = this.room(4);
      return this.view.setUint32(at, v, true);
    }
    this.u8(U64_BYTE);
    const at = this.room(8);
    this.view.setUint32(at, v % 2 ** 32, true);
    this.view.setUint32(at + 4, Math.floor(v / 2 ** 32), true);
  }

  run(bytes) {
    this.varint(bytes.length);
    const at = this.room(bytes.length);
    this.bytes.set(bytes, at);
  }

  finish() {
    return this.bytes.slice(0, this.len);
  }
}

/** An unsigned integer of `bits` bits (8: a plain byte), range-checked when encoded. */
function uint(bits) {
  const check = (v) => {
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) throw new CodecError('Encode', `${v} is not a u${bits}`);
    return v;
  };
  if (bits === 8) return { enc: (w, v) => w.u8(check(v)), dec: (r) => r.u8() };
  return { enc: (w, v) => w.varint(check(v)), dec: (r) => r.varint(bits) };
}

export const u8 = uint(8);
export const u16 = uint(16);
export const u32 = uint(32);
export const i8 = { enc: (w, v) => w.i8(v), dec: (r) => r.i8() };
export const f32 = { enc: (w, v) => w.f32(v), dec: (r) => r.f32() };

export const bool = {
  enc: (w, v) => w.u8(v ? 1 : 0),
  dec: (r) => {
    const b = r.u8();
    if (b > 1) throw malformed(`${b} is not a bool`);
    return b === 1;
  },
};

/** A UTF-8 string; `check` may refuse (throwing a CodecError) or normalise what was decoded. */
export function str(check = (s) => s) {
  return {
    enc: (w, v) => w.run(utf8.encode(v)),
    dec: (r) => {
      const bytes = r.run();
      let text;
      try {
        text = strictUtf8.decode(bytes);
      } catch {
        throw malformed('a string is not UTF-8');
      }
      return check(text);
    },
  };
}

/** A length-prefixed byte run (Rust's `Vec<u8>` or `serialize_bytes`); serde's JSON has it as numbers. */
export const bytes = {
  enc: (w, v) => w.run(Uint8Array.from(v)),
  dec: (r) => r.run(),
};

/** A sequence of at most `max` items: a longer one is refused from its length, before any item is read. */
export function vec(item, max) {
  return {
    enc: (w, v) => {
      if (v.length > max) throw new CodecError('Encode', `${v.length} items, at most ${max}`);
      w.varint(v.length);
      v.forEach((x) => item.enc(w, x));
    },
    dec: (r) => {
      const n = r.varint(64);
      if (n > max) throw malformed(`a sequence of ${n} items, at most ${max}`);
      return Array.from({ length: n }, () => item.dec(r));
    },
  };
}

/** A fixed-size array: its items without a length, as serde writes a tuple. */
export function array(item, n) {
  return {
    enc: (w, v) => {
      if (v.length !== n) throw new CodecError('Encode', `${v.length} items, not ${n}`);
      v.forEach((x) => item.enc(w, x));
    },
    dec: (r) => Array.from({ length: n }, () => item.dec(r)),
  };
}

/** `null` or a value, after a tag byte. */
export function option(item) {
  return {
    enc: (w, v) => {
      w.u8(v === null ? 0 : 1);
      if (v !== null) item.enc(w, v);
    },
    dec: (r) => {
      const tag = r.u8();
      if (tag > 1) throw malformed(`option tag ${tag}`);
      return tag === 1 ? item.dec(r) : null;
    },
  };
}

/** A struct: its fields in order, as `[name, type]` pairs. */
export function struct(fields) {
  return {
    enc: (w, v) => fields.forEach(([name, type]) => type.enc(w, v[name])),
    dec: (r) => Object.fromEntries(fields.map(([name, type]) => [name, type.dec(r)])),
  };
}

/**
 * An enum: its variants in declaration order as `[name]` (a unit variant) or `[name, type]` (a newtype
 * variant, or a struct variant given as a `struct`). The variant index is a u32 varint.
 */
export function enumOf(variants) {
  const index = new Map(variants.map(([name], i) => [name, i]));
  return {
    enc: (w, v) => {
      const [name, body] = variant(v);
      const i = index.get(name);
      if (i === undefined) throw new CodecError('Encode', `no variant ${name}`);
      w.varint(i);
      if (variants[i].length > 1) variants[i][1].enc(w, body);
    },
    dec: (r) => {
      const i = r.varint(32);
      if (i >= variants.length) throw malformed(`no variant ${i}`);
      const [name, type] = variants[i];
      return type ? { [name]: type.dec(r) } : name;
    },
  };
}

/** An enum value's variant name and body (undefined for a unit variant). */
export function variant(v) {
  if (typeof v === 'string') return [v, undefined];
  const [name] = Object.keys(v);
  return [name, v[name]];
}

const tooLarge = (len, limit) => new CodecError('TooLarge', `${len} bytes is over the ${limit}-byte limit`);

/** Encodes `value` as `type`, refusing results longer than `limit` bytes. */
export function encode(type, value, limit) {
  const w = new Writer();
  type.enc(w, value);
  if (w.len > limit) throw tooLarge(w.len, limit);
  return w.finish();
}

/** Decodes exactly one `type` from all of `bytes`, which may be at most `limit` bytes long. */
export function decode(type, bytes, limit) {
  if (bytes.length > limit) throw tooLarge(bytes.length, limit);
  const r = new Reader(bytes, limit);
  const value = type.dec(r);
  if (r.at !== bytes.length) {
    throw new CodecError('TrailingBytes', `${bytes.length - r.at} trailing bytes after the message`);
  }
  return value;
}
