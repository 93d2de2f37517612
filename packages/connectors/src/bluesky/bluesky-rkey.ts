import { createHash } from 'node:crypto';

/*
 * The record key of a reply, derived from its idempotency key: the same key always names the same
 * record, so a second attempt finds the first one instead of posting again.
 *
 * app.bsky.feed.post's lexicon asks for TID record keys: 13 characters of base32-sortable, encoding
 * a 53-bit microsecond timestamp and a 10-bit clock id. The TID here is a hash, shaped as a TID whose
 * timestamp lies between 2023-01-01 and about 2024-02 (a real past time, never in the future), so it
 * passes every TID check; nothing in the protocol orders posts by record key (createdAt does).
 */

const ALPHABET = '234567abcdefghijklmnopqrstuvwxyz';
const BASE_US = 1_672_531_200_000_000n; // 2023-01-01T00:00:00Z in microseconds
const SPAN_US = 1n << 45n; // ≈ 1.1 years

/** A TID-shaped record key, the same for the same idempotency key. */
export function rkeyFor(idempotencyKey: string): string {
  if (idempotencyKey === '') throw new RangeError('an idempotency key is required for a Bluesky reply');
  const digest = createHash('sha256').update(`kikimimi-bluesky-reply\0${idempotencyKey}`).digest();
  const bits = digest.readBigUInt64BE(0);
  const timestamp = BASE_US + ((bits >> 10n) % SPAN_US);
  const clockId = bits & 0x3ffn;
  let value = (timestamp << 10n) | clockId;
  let out = '';
  for (let i = 0; i < 13; i += 1) {
    out = ALPHABET[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}

/** TID syntax (atproto spec). */
export const TID_PATTERN = /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/u;
