import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptSecret, EncryptionError, encryptSecret, parseEncryptionKey } from './crypto.ts';

const keyBytes = randomBytes(32);
const key = parseEncryptionKey(keyBytes.toString('base64'));

describe('parseEncryptionKey', () => {
  it.each([
    ['base64', keyBytes.toString('base64')],
    ['base64url', keyBytes.toString('base64url')],
    ['hex', keyBytes.toString('hex')],
    ['upper-case hex', keyBytes.toString('hex').toUpperCase()],
    ['base64 with surrounding blanks', `  ${keyBytes.toString('base64')}\n`],
  ])('reads %s', (_, text) => {
    expect(Buffer.from(parseEncryptionKey(text)).equals(keyBytes)).toBe(true);
  });

  const secretish = 'c2VjcmV0LWJ1dC10b28tc2hvcnQ=';
  it.each([
    ['empty', '', /empty/u],
    ['16 bytes', randomBytes(16).toString('base64'), /decodes to 16 bytes/u],
    ['48 bytes', randomBytes(48).toString('base64'), /decodes to 48 bytes/u],
    ['63 hex characters', keyBytes.toString('hex').slice(1), /bytes|neither/u],
    ['not base64', 'this is not a key!', /neither hex nor base64/u],
    ['a short secret', secretish, /decodes to/u],
  ])('refuses %s with a clear error that does not repeat the text', (_, text, message) => {
    let error: unknown;
    try {
      parseEncryptionKey(text, 'KIKIMIMI_ENCRYPTION_KEY');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EncryptionError);
    const shown = (error as Error).message;
    expect(shown).toMatch(message);
    expect(shown).toMatch(/KIKIMIMI_ENCRYPTION_KEY must be 32 random bytes/u);
    if (text.trim() !== '') expect(shown).not.toContain(text.trim().slice(0, 12));
  });
});

describe('encryptSecret / decryptSecret', () => {
  const secret = JSON.stringify({ accessToken: 'tok-ひみつ-123' });

  it('round-trips, with a fresh IV each time, in the v1 format', () => {
    const a = encryptSecret(secret, key, 'ctx');
    const b = encryptSecret(secret, key, 'ctx');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/u);
    expect(Buffer.from(a.split(':')[1] as string, 'base64')).toHaveLength(12);
    expect(a).not.toContain('tok-');
    expect(decryptSecret(a, key, 'ctx')).toBe(secret);
    expect(decryptSecret(encryptSecret('', key), key)).toBe('');
  });

  it('detects tampering with the ciphertext, the tag or the IV', () => {
    const payload = encryptSecret(secret, key, 'ctx');
    const [v, iv, tag, data] = payload.split(':') as [string, string, string, string];
    const flip = (b64: string) => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[0] = (bytes[0] as number) ^ 1;
      return bytes.toString('base64');
    };
    for (const bad of [
      [v, iv, tag, flip(data)],
      [v, iv, flip(tag), data],
      [v, flip(iv), tag, data],
    ]) {
      expect(() => decryptSecret(bad.join(':'), key, 'ctx')).toThrow(/wrong key, or the data was tampered/u);
    }
  });

  it('refuses another key or another context', () => {
    const payload = encryptSecret(secret, key, 'platform_accounts:1');
    const other = parseEncryptionKey(randomBytes(32).toString('hex'));
    expect(() => decryptSecret(payload, other, 'platform_accounts:1')).toThrow(EncryptionError);
    expect(() => decryptSecret(payload, key, 'platform_accounts:2')).toThrow(EncryptionError);
  });

  it.each([
    ['no version', 'abc'],
    ['another version', 'v2:a:b:c'],
    ['a short IV', `v1:${Buffer.alloc(4).toString('base64')}:${Buffer.alloc(16).toString('base64')}:AA==`],
    ['a short tag', `v1:${Buffer.alloc(12).toString('base64')}:${Buffer.alloc(8).toString('base64')}:AA==`],
    [
      'a ciphertext that is not base64',
      `v1:${Buffer.alloc(12).toString('base64')}:${Buffer.alloc(16).toString('base64')}:%%`,
    ],
  ])('calls a payload with %s malformed', (_, payload) => {
    expect(() => decryptSecret(payload, key)).toThrow(/malformed/u);
  });
});
