import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Secrets at rest: AES-256-GCM with a random 12-byte IV, stored as `v1:<iv>:<tag>:<ciphertext>`
 * (base64). Messages never contain the key, the plaintext or the ciphertext.
 */

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A parsed 32-byte key; build it with {@link parseEncryptionKey}. */
export type EncryptionKey = Uint8Array & { readonly __brand: 'EncryptionKey' };

/** Thrown for a bad key, a malformed payload, a wrong key or tampered data. */
export class EncryptionError extends Error {
  override readonly name = 'EncryptionError';
}

const HEX_KEY = /^[0-9a-fA-F]{64}$/u;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/u;
const BASE64_OR_EMPTY = /^[A-Za-z0-9+/]*={0,2}$/u;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/u;

/**
 * Reads a key given as 64 hex characters or as base64 (standard or URL-safe) of exactly 32 bytes, e.g.
 * from `openssl rand -base64 32`. The error says what is expected and never repeats the text.
 */
export function parseEncryptionKey(text: string, name = 'the encryption key'): EncryptionKey {
  const value = typeof text === 'string' ? text.trim() : '';
  const expected = `${name} must be 32 random bytes, written as 64 hex characters or as base64 (44 characters, e.g. \`openssl rand -base64 32\`)`;
  if (value === '') throw new EncryptionError(`${expected}; it is empty`);
  if (HEX_KEY.test(value)) return Buffer.from(value, 'hex') as unknown as EncryptionKey;
  if (!BASE64.test(value) && !BASE64URL.test(value)) {
    throw new EncryptionError(`${expected}; it has ${value.length} characters and is neither hex nor base64`);
  }
  const bytes = Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
  if (bytes.length !== KEY_BYTES) {
    throw new EncryptionError(`${expected}; it decodes to ${bytes.length} bytes`);
  }
  return bytes as unknown as EncryptionKey;
}

/** Encrypts `plaintext`; `context` (e.g. the account id) is authenticated, so a payload only opens there. */
export function encryptSecret(plaintext: string, key: EncryptionKey, context = ''): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv.toString('base64'), tag.toString('base64'), ciphertext.toString('base64')].join(':');
}

/** Decrypts what {@link encryptSecret} wrote, with the same key and context; anything else throws. */
export function decryptSecret(payload: string, key: EncryptionKey, context = ''): string {
  const parts = typeof payload === 'string' ? payload.split(':') : [];
  const [version, ivText, tagText, dataText] = parts;
  if (parts.length !== 4 || version !== VERSION || ivText === undefined || tagText === undefined) {
    throw new EncryptionError(`encrypted secret is malformed (expected ${VERSION}:<iv>:<tag>:<ciphertext>)`);
  }
  const iv = Buffer.from(ivText, 'base64');
  const tag = Buffer.from(tagText, 'base64');
  const data = Buffer.from(dataText ?? '', 'base64');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES || !BASE64_OR_EMPTY.test(dataText ?? '')) {
    throw new EncryptionError(`encrypted secret is malformed (bad IV, tag or ciphertext encoding)`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
  } catch {
    throw new EncryptionError(
      'encrypted secret could not be decrypted: wrong key, or the data was tampered with',
    );
  }
}
