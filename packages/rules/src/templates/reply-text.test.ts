import { describe, expect, it } from 'vitest';
import { measureReply } from './length.ts';
import { measureReplyTo, mentionableHandle, replyAsPosted, UnmentionableHandleError } from './reply-text.ts';

describe('replyAsPosted: the one rule for the mention a reply starts with', () => {
  it.each([
    ['mastodon', 'alice', 'ありがとうございます', '@alice ありがとうございます'],
    ['mastodon', '@alice', 'thanks', '@alice thanks'],
    ['mastodon', '＠alice', 'thanks', '@alice thanks'],
    ['mastodon', 'alice@mstdn.jp', 'thanks', '@alice@mstdn.jp thanks'],
    // Already mentioned (any case): not twice.
    ['mastodon', 'alice', '@alice thanks', '@alice thanks'],
    ['mastodon', 'alice', '@ALICE thanks', '@ALICE thanks'],
    ['mastodon', 'alice@mstdn.jp', '@alice@mstdn.jp thanks', '@alice@mstdn.jp thanks'],
    // Another name that only starts like it is not the mention.
    ['mastodon', 'alice', '@alicebob thanks', '@alice @alicebob thanks'],
    ['x', 'alice', 'thanks', 'thanks'],
    ['x', 'alice', '@alice thanks', '@alice thanks'],
  ] as const)('%s, handle %s: %s → %s', (platform, handle, text, posted) => {
    expect(replyAsPosted(text, platform, handle)).toBe(posted);
  });

  it.each([
    'victim1 @bystander@mastodon.social',
    '<a href="x">alice</a>',
    'alice bob',
    '',
    '@',
    'alice@',
    'al ice@mstdn.jp',
  ])('refuses to build a mention from %j', (handle) => {
    expect(mentionableHandle(handle)).toBeNull();
    expect(() => replyAsPosted('thanks', 'mastodon', handle)).toThrow(UnmentionableHandleError);
  });

  it('measures what is posted: a reply already starting with the mention is counted once', () => {
    const once = measureReplyTo('@alice thanks', { platform: 'mastodon', authorHandle: 'alice' });
    expect(once.length).toBe(measureReply('@alice thanks', 'mastodon').length);
    const added = measureReplyTo('thanks', { platform: 'mastodon', authorHandle: 'alice' });
    expect(added.length).toBe('@alice thanks'.length);
    expect(measureReplyTo('thanks', { platform: 'x', authorHandle: 'alice' }).length).toBe(6);
    expect(measureReplyTo('thanks', { platform: 'mastodon', authorHandle: 'a b' }).ok).toBe(false);
  });
});
