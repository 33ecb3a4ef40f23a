/**
 * A minimal BER TLV reader and writer for tests that build or mutate SNMP datagrams: single-byte
 * tags, definite lengths. Not the code under test (that is net-snmp's reader): this only has to
 * read the well-formed seeds it is given, and write what it is told to, however odd.
 */
export interface Tlv {
  readonly tag: number;
  /** Primitive: the content octets. */
  readonly value?: Buffer;
  /** Constructed (tag bit 0x20): the children. */
  readonly children?: readonly Tlv[];
  /** Already encoded (any bytes at all): written as is, tag ignored. */
  readonly raw?: Buffer;
}

/** Reads one TLV at `at`; undefined if `buf` is not well-formed there. */
/** Deeper trees are not parsed (the mutators then treat the datagram as opaque bytes). */
const MAX_DEPTH = 64;

function readOne(buf: Buffer, at: number, depth = 0): { tlv: Tlv; end: number } | undefined {
  if (at + 2 > buf.length || depth > MAX_DEPTH) return undefined;
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > buf.length) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
  }
  const end = p + len;
  if (end > buf.length) return undefined;
  if (tag & 0x20) {
    const children: Tlv[] = [];
    let q = p;
    while (q < end) {
      const c = readOne(buf.subarray(0, end), q, depth + 1);
      if (!c) return undefined;
      children.push(c.tlv);
      q = c.end;
    }
    return { tlv: { tag, children }, end };
  }
  return { tlv: { tag, value: buf.subarray(p, end) }, end };
}

/** Parses a whole buffer as one TLV; undefined unless it is exactly one well-formed TLV. */
export function parseBer(buf: Buffer): Tlv | undefined {
  const r = readOne(buf, 0);
  return r && r.end === buf.length ? r.tlv : undefined;
}

/** The definite-length encoding of `n`, short form when it fits. */
export function berLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), berLength(content.length), content]);
}

export function encodeBer(t: Tlv): Buffer {
  if (t.raw) return t.raw;
  if (t.children) return tlv(t.tag, Buffer.concat(t.children.map(encodeBer)));
  return tlv(t.tag, t.value ?? Buffer.alloc(0));
}

/** Two's-complement INTEGER content octets of any size (bigint), minimal. */
export function intContent(v: bigint): Buffer {
  const bytes: number[] = [];
  let x = v;
  for (;;) {
    const b = Number(x & 0xffn);
    bytes.unshift(b);
    x >>= 8n;
    if ((x === 0n && (b & 0x80) === 0) || (x === -1n && (b & 0x80) !== 0)) break;
  }
  return Buffer.from(bytes);
}

/** OID content octets from dotted arcs (any size: base-128 per arc). */
export function oidContent(oid: string): Buffer {
  const arcs = oid.split('.').filter(Boolean).map(BigInt);
  const first = (arcs[0] ?? 0n) * 40n + (arcs[1] ?? 0n);
  const out: number[] = [];
  for (const arc of [first, ...arcs.slice(2)]) {
    const chunk: number[] = [Number(arc & 0x7fn)];
    for (let a = arc >> 7n; a > 0n; a >>= 7n) chunk.unshift(Number(a & 0x7fn) | 0x80);
    out.push(...chunk);
  }
  return Buffer.from(out);
}

/** Offsets of every TLV's length octet(s) in a well-formed buffer: where a length can be rewritten. */
export function lengthFields(buf: Buffer): { at: number; size: number }[] {
  const out: { at: number; size: number }[] = [];
  const walk = (at: number, end: number): void => {
    let p = at;
    while (p + 2 <= end) {
      const tag = buf[p]!;
      const l0 = buf[p + 1]!;
      const size = l0 & 0x80 ? 1 + (l0 & 0x7f) : 1;
      if (size > 5 || p + 1 + size > end) return;
      let len = l0;
      if (l0 & 0x80) {
        len = 0;
        for (let i = 0; i < size - 1; i++) len = len * 256 + buf[p + 2 + i]!;
      }
      const content = p + 1 + size;
      if (content + len > end) return;
      out.push({ at: p + 1, size });
      if (tag & 0x20) walk(content, content + len);
      p = content + len;
    }
  };
  walk(0, buf.length);
  return out;
}

/** `inner` wrapped in `depth` constructed TLVs of `tag`, written in one pass (no copy per level). */
export function nested(inner: Buffer, depth: number, tag = 0x30): Buffer {
  const sizes = [inner.length];
  for (let i = 0; i < depth; i++) {
    const s = sizes[i]!;
    sizes.push(1 + berLength(s).length + s);
  }
  const out = Buffer.alloc(sizes[depth]!);
  let p = 0;
  for (let i = depth; i > 0; i--) {
    out[p++] = tag;
    const l = berLength(sizes[i - 1]!);
    l.copy(out, p);
    p += l.length;
  }
  inner.copy(out, p);
  return out;
}
