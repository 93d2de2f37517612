import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/*
 * Password hashing with scrypt from node:crypto (no native addon): N=16384, r=8, p=1, a 16-byte random
 * salt and a 64-byte key, stored as `scrypt$16384$8$1$<salt>$<key>` (base64). The parameters travel
 * with the hash, so raising them later keeps old hashes verifiable.
 */

const N = 16_384;
const R = 8;
const P = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 64;
/** scrypt needs 128·N·r bytes; leave room so larger stored parameters still verify. */
const MAX_MEMORY = 256 * 1024 * 1024;

function derive(
  password: string,
  salt: Buffer,
  n: number,
  r: number,
  p: number,
  length: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, { N: n, r, p, maxmem: MAX_MEMORY }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** A new salted hash of `password`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, N, R, P, KEY_BYTES);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

const FORMAT = /^scrypt\$(\d{1,7})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9+/=]{8,})\$([A-Za-z0-9+/=]{16,})$/u;

/**
 * True when `password` matches `stored`; the comparison takes the same time wherever the keys differ.
 * A malformed hash never matches (and still costs one derivation, so it is not faster).
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = FORMAT.exec(stored);
  if (parts === null) {
    await derive(password, DUMMY_SALT, N, R, P, KEY_BYTES);
    return false;
  }
  const [, n, r, p, salt, key] = parts as unknown as [string, string, string, string, string, string];
  const expected = Buffer.from(key, 'base64');
  const actual = await derive(
    password,
    Buffer.from(salt, 'base64'),
    Number(n),
    Number(r),
    Number(p),
    expected.length,
  );
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

const DUMMY_SALT = randomBytes(SALT_BYTES);

/**
 * A hash no password is known to match, verified against when a username is unknown so that a
 * failed login takes as long whether or not the user exists.
 */
export const DUMMY_PASSWORD_HASH = `scrypt$${N}$${R}$${P}$${DUMMY_SALT.toString('base64')}$${randomBytes(KEY_BYTES).toString('base64')}`;

/** SHA-256 (hex) of a random token: what is stored instead of a session or API token. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A random token of `bytes` bytes, base64url. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
