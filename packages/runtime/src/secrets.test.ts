import { describe, expect, it } from 'vitest';
import { errorMessage, maskUrl, redactSecrets } from './secrets.ts';

describe('maskUrl', () => {
  it.each([
    ['postgres://u:pw@db:5432/k', 'postgres://u:***@db:5432/k'],
    ['redis://:pw@cache:6379', 'redis://:***@cache:6379'],
    ['redis://cache:6379', 'redis://cache:6379'],
    ['not a url', '(unparseable URL)'],
  ])('%s → %s', (input, expected) => expect(maskUrl(input)).toBe(expected));
});

describe('redactSecrets', () => {
  it.each([
    ['connect postgres://u:pw@db/k failed', 'connect postgres://u:***@db/k failed'],
    ['two: redis://:a@x and rediss://b:c@y', 'two: redis://:***@x and rediss://b:***@y'],
    ['Authorization: Bot MTIzNDU2Nzg5.abc.def', 'Authorization: Bot [redacted]'],
    ['Bearer abcdefgh12345', 'Bearer [redacted]'],
    ['connect ECONNREFUSED 127.0.0.1:5432', 'connect ECONNREFUSED 127.0.0.1:5432'],
    ['see https://example.com/a:b', 'see https://example.com/a:b'],
  ])('%s', (input, expected) => expect(redactSecrets(input)).toBe(expected));

  it('errorMessage takes the message of an Error or the text of anything else', () => {
    expect(errorMessage(new Error('x postgres://u:pw@h/d'))).toBe('x postgres://u:***@h/d');
    expect(errorMessage('plain')).toBe('plain');
  });
});
