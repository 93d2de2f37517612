import { describe, expect, it } from 'vitest';
import { handleProblem, isValidHandle } from './handles.ts';

describe('isValidHandle', () => {
  it.each([
    ['x', 'kikimimi_help', true],
    ['x', 'A', true],
    ['x', 'abcdefghijklmno', true],
    ['x', 'abcdefghijklmnop', false], // 16 characters
    ['x', 'has space', false],
    ['x', 'user@domain.example', false],
    ['x', '<b>x</b>', false],
    ['x', '', false],
    ['x', 'ユーザー', false],
    ['mastodon', 'alice', true],
    ['mastodon', 'alice_b', true],
    ['mastodon', 'alice.b-c', true],
    ['mastodon', 'alice@mastodon.social', true],
    ['mastodon', 'Alice@sub.example.co.jp', true],
    ['mastodon', 'alice@xn--wgv71a.example', true],
    ['mastodon', 'victim1 @bystander@mastodon.social', false],
    ['mastodon', 'victim1@mastodon.social @bystander@mastodon.social', false],
    ['mastodon', '<a href="x">alice</a>', false],
    ['mastodon', 'alice@', false],
    ['mastodon', '@alice', false],
    ['mastodon', '.alice', false],
    ['mastodon', 'alice.', false],
    ['mastodon', 'alice@-bad.example', false],
    ['mastodon', 'alice@bad-.example', false],
    ['mastodon', 'alice@localhost', false],
    ['mastodon', 'alice@a..example', false],
    ['mastodon', 'alice@example.com\n@everyone', false],
  ] as const)('%s %j → %s', (platform, handle, expected) => {
    expect(isValidHandle(platform, handle)).toBe(expected);
  });

  it('says what is wrong, quoting the handle safely', () => {
    expect(handleProblem('x', 'has space')).toMatch(/X username.*"has space"/u);
    expect(handleProblem('mastodon', 'a b')).toMatch(/Mastodon account.*"a b"/u);
    expect(handleProblem('x', 'ok_name')).toBeNull();
    expect(handleProblem('x', 'a'.repeat(500))?.length).toBeLessThan(200);
  });
});

describe('Bluesky handles', () => {
  it.each([
    ['alice.bsky.social', true],
    ['example.com', true],
    ['alice.test', true],
    ['xn--ls8h.example', true],
    ['alice', false],
    ['alice.bsky.social.', false],
    ['alice..bsky.social', false],
    ['alice.123', false],
    ['-alice.bsky.social', false],
    ['did:plc:ewvi7nxzyoun6zhxrhs64oiz', false],
    ['alice bsky.social', false],
    [`${'a'.repeat(64)}.com`, false],
  ])('%s → %s', (handle, valid) => {
    expect(isValidHandle('bluesky', handle)).toBe(valid);
  });

  it('names the problem', () => {
    expect(handleProblem('bluesky', 'alice')).toBe(
      'not a Bluesky handle (a domain name such as alice.bsky.social): "alice"',
    );
  });
});
