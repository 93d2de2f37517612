import { createHash } from 'node:crypto';

/*
 * The identifiers of the AT Protocol as the stand-in makes them: DIDs (did:plc), TIDs (record keys
 * and revisions), CIDs of records (CIDv1, dag-cbor, sha-256, base32 — the hash of the record's
 * DAG-CBOR encoding, as a PDS computes it) and handles.
 */

const BASE32_SORTABLE = '234567abcdefghijklmnopqrstuvwxyz';
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** A did:plc for a handle: 24 base32 characters of its hash, the same for the same handle. */
export function didFor(handle: string): string {
  return `did:plc:${base32(createHash('sha256').update(`bluesky-sandbox\0${handle.toLowerCase()}`).digest()).slice(0, 24)}`;
}

/** A TID: 13 base32-sortable characters of a microsecond timestamp (53 bits) and a clock id (10 bits). */
export function tidOf(microseconds: bigint, clockId: number): string {
  let value = (microseconds << 10n) | BigInt(clockId & 0x3ff);
  let out = '';
  for (let i = 0; i < 13; i += 1) {
    out = BASE32_SORTABLE[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}

/** TIDs that always increase, as a PDS's clock gives them. */
export function createTidClock(clockId = Math.floor(Math.random() * 1024)): (atMs?: number) => string {
  let last = 0n;
  return (atMs = Date.now()) => {
    const candidate = BigInt(Math.floor(atMs)) * 1000n;
    last = candidate > last ? candidate : last + 1n;
    return tidOf(last, clockId);
  };
}

function head(major: number, length: number): number[] {
  if (length < 24) return [(major << 5) | length];
  if (length < 0x100) return [(major << 5) | 24, length];
  if (length < 0x10000) return [(major << 5) | 25, length >> 8, length & 0xff];
  if (length < 0x100000000)
    return [
      (major << 5) | 26,
      (length >>> 24) & 0xff,
      (length >> 16) & 0xff,
      (length >> 8) & 0xff,
      length & 0xff,
    ];
  const big = BigInt(length);
  return [
    (major << 5) | 27,
    ...Array.from({ length: 8 }, (_, i) => Number((big >> BigInt(56 - i * 8)) & 0xffn)),
  ];
}

const encoder = new TextEncoder();

/** DAG-CBOR of a JSON value (integers, strings, booleans, null, arrays, maps with keys sorted by length, then bytes). */
export function dagCbor(value: unknown): Uint8Array {
  const out: number[] = [];
  const write = (v: unknown): void => {
    if (v === null) out.push(0xf6);
    else if (v === true) out.push(0xf5);
    else if (v === false) out.push(0xf4);
    else if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new TypeError(`DAG-CBOR in records takes integers only, not ${v}`);
      out.push(...(v >= 0 ? head(0, v) : head(1, -1 - v)));
    } else if (typeof v === 'string') {
      const bytes = encoder.encode(v);
      out.push(...head(3, bytes.length), ...bytes);
    } else if (Array.isArray(v)) {
      out.push(...head(4, v.length));
      for (const item of v) write(item);
    } else if (typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [encoder.encode(k), k, x] as const)
        .sort(([a], [b]) => a.length - b.length || Buffer.compare(a, b));
      out.push(...head(5, entries.length));
      for (const [bytes, , x] of entries) {
        out.push(...head(3, bytes.length), ...bytes);
        write(x);
      }
    } else throw new TypeError(`cannot encode ${typeof v} as DAG-CBOR`);
  };
  write(value);
  return Uint8Array.from(out);
}

/** The CID of a record: CIDv1, dag-cbor (0x71), sha2-256, multibase base32 ("bafyrei…"). */
export function cidFor(record: unknown): string {
  const digest = createHash('sha256').update(dagCbor(record)).digest();
  return `b${base32(Uint8Array.from([0x01, 0x71, 0x12, 0x20, ...digest]))}`;
}

const SEGMENT = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/u;

/** Whether `handle` is a Bluesky handle: a domain name of at least two labels (atproto handle syntax). */
export function isBlueskyHandle(handle: string): boolean {
  const labels = handle.toLowerCase().split('.');
  return (
    handle.length <= 253 &&
    labels.length >= 2 &&
    labels.every((l) => SEGMENT.test(l)) &&
    /^[a-z]/u.test(labels.at(-1) ?? '')
  );
}

/**
 * The Bluesky handle for a name written on another platform (`shiorinote_jp` →
 * `shiorinote-jp.bsky.social`): lower case, `_` and other characters a domain label cannot hold
 * become `-`, under `domain`. A name that is a handle already stays as it is.
 */
export function blueskyHandleFor(name: string, domain = 'bsky.social'): string {
  const bare = name.replace(/^[@＠]/u, '');
  if (isBlueskyHandle(bare)) return bare.toLowerCase();
  const label =
    bare
      .toLowerCase()
      .replace(/[^a-z0-9-]+/gu, '-')
      .replace(/^-+|-+$/gu, '')
      .slice(0, 63)
      .replace(/-+$/u, '') || 'user';
  return `${label}.${domain}`;
}
