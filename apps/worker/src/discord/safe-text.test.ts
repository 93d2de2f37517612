import { describe, expect, it } from 'vitest';
import { escapeDisplayName, safeLinkUrl } from './safe-text.ts';

describe('safeLinkUrl', () => {
  it.each([
    ['https://x.com/alice/status/1', 'x', undefined, 'https://x.com/alice/status/1'],
    ['https://twitter.com/alice/status/1', 'x', undefined, 'https://twitter.com/alice/status/1'],
    ['javascript:alert(1)', 'x', undefined, null],
    ['JAVASCRIPT:alert(1)//https://x.com/', 'mastodon', 'alice', null],
    ['data:text/html,<script>alert(1)</script>', 'mastodon', undefined, null],
    ['http://x.com/alice/status/1', 'x', undefined, null],
    ['https://evil.example/x.com/alice', 'x', undefined, null],
    ['https://x.com.evil.example/alice', 'x', undefined, null],
    ['https://user:pw@x.com/alice', 'x', undefined, null],
    ['not a url', 'x', undefined, null],
    ['https://mastodon.social/@bob/1', 'mastodon', 'bob@mastodon.social', 'https://mastodon.social/@bob/1'],
    ['https://evil.example/@bob/1', 'mastodon', 'bob@mastodon.social', null],
    ['https://mastodon.example/@alice/9', 'mastodon', 'alice', 'https://mastodon.example/@alice/9'],
    ['https://mastodon.example/@mallory/9', 'mastodon', 'alice', null],
    ['https://mastodon.example/@alice/9', 'mastodon', undefined, 'https://mastodon.example/@alice/9'],
    [
      'https://bsky.app/profile/alice.bsky.social/post/3l6oveex3ii2l',
      'bluesky',
      'alice.bsky.social',
      'https://bsky.app/profile/alice.bsky.social/post/3l6oveex3ii2l',
    ],
    ['https://evil.example/profile/alice.bsky.social/post/1', 'bluesky', 'alice.bsky.social', null],
  ] as const)('%s on %s (author %s) → %s', (url, platform, handle, expected) => {
    expect(safeLinkUrl(url, platform, handle)).toBe(expected);
  });
});

describe('escapeDisplayName', () => {
  it.each([
    '@everyone',
    '@here',
    '<@123456789012345678>',
    '<@&123456789012345678>',
    '<@!123456789012345678>',
  ])('%s never reads as a mention', (name) => {
    const shown = escapeDisplayName(name);
    expect(shown).not.toMatch(/@(everyone|here)|<@[!&]?\d+>/u);
    expect(shown.replaceAll('\u200b', '').replaceAll('\\', '')).toBe(name);
  });

  it('breaks channel and time tags, markdown and line breaks', () => {
    expect(escapeDisplayName('<#123>')).not.toContain('<#');
    expect(escapeDisplayName('<t:1:R>')).not.toContain('<t:');
    expect(escapeDisplayName('**boss**')).toBe('\\*\\*boss\\*\\*');
    expect(escapeDisplayName('a\n# heading\r\nb')).toBe('a # heading b');
  });

  it('keeps a plain name and clips a very long one', () => {
    expect(escapeDisplayName('佐藤 花子')).toBe('佐藤 花子');
    expect([...escapeDisplayName('あ'.repeat(200))]).toHaveLength(80);
  });
});
