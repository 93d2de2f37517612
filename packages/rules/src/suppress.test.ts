import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { suppressionSchema } from './config.ts';
import { type Platform, type Post, postSchema } from './post.ts';
import {
  type ContactRecord,
  contactKeys,
  createSuppressionPolicy,
  normalizeHandle,
  type SuppressionContext,
  type SuppressionOptions,
  type SuppressionReason,
} from './suppress.ts';

const HOUR = 3_600_000;
const NOW = new Date('2025-06-01T12:00:00.000Z');
/** ISO time `hours` before NOW (negative: after). */
const ago = (hours: number): string => new Date(NOW.getTime() - hours * HOUR).toISOString();

type SuppressionInput = NonNullable<z.input<typeof suppressionSchema>>;

function policy(input: SuppressionInput = {}, options?: SuppressionOptions) {
  return createSuppressionPolicy(suppressionSchema.parse(input), options);
}

interface PostSpec {
  platform?: Platform;
  handle?: string;
  authorId?: string;
  createdAt?: string;
  repostOf?: string | null;
  text?: string;
}

function makePost(spec: PostSpec = {}): Post {
  const platform = spec.platform ?? 'x';
  const handle = spec.handle ?? 'someone';
  return postSchema.parse({
    platform,
    id: 'post-1',
    url: 'https://example.com/post-1',
    author: { id: spec.authorId ?? `${platform}-author-${handle}`, handle },
    text: spec.text ?? 'kikimimi is great',
    createdAt: spec.createdAt ?? ago(1),
    repostOf: spec.repostOf ?? null,
  });
}

function contact(
  platform: Platform,
  handle: string,
  hoursAgo: number,
  authorId = 'unrelated-id',
): ContactRecord {
  return { platform, authorId, handle, at: ago(hoursAgo) };
}

function ctx(over: Partial<SuppressionContext> = {}): SuppressionContext {
  return { now: NOW, contactHistory: [], repliesToday: {}, ...over };
}

describe('createSuppressionPolicy: each reason on its own', () => {
  it('lets an ordinary fresh post through', () => {
    expect(policy().check(makePost(), ctx())).toEqual({ suppressed: false, reasons: [], detail: [] });
  });

  it.each<{
    reason: SuppressionReason;
    config: SuppressionInput;
    post: PostSpec;
    context: Partial<SuppressionContext>;
    detail: string;
  }>([
    {
      reason: 'own_account',
      config: { ownAccounts: [{ platform: 'x', handle: '@Kikimimi_JP' }] },
      post: { handle: 'kikimimi_jp' },
      context: {},
      detail: '@kikimimi_jp is our own account on x',
    },
    {
      reason: 'do_not_contact',
      config: { doNotContact: [{ platform: 'x', handle: 'grumpy', note: 'asked on 2025-05-01' }] },
      post: { handle: 'Grumpy' },
      context: {},
      detail: '@Grumpy on x asked not to be contacted (asked on 2025-05-01)',
    },
    {
      reason: 'repost',
      config: {},
      post: { repostOf: 'orig-9' },
      context: {},
      detail: 'a repost of orig-9; reposts are not answered',
    },
    {
      reason: 'too_old',
      config: {},
      post: { createdAt: ago(50) },
      context: {},
      detail: 'posted 50 h ago (max age 48 h)',
    },
    {
      reason: 'author_cooldown',
      config: {},
      post: { platform: 'mastodon', handle: 'foo@mstdn.jp', authorId: 'm-1' },
      context: { contactHistory: [contact('mastodon', 'foo@mstdn.jp', 5, 'm-1')] },
      detail: 'replied to @foo@mstdn.jp on mastodon 5 h ago (cooldown 72 h)',
    },
    {
      reason: 'daily_cap_reached',
      config: { dailyReplyCap: { x: 3 } },
      post: {},
      context: { repliesToday: { x: 3 } },
      detail: '3 of 3 replies on x sent today (daily cap)',
    },
  ])('$reason', ({ reason, config, post, context, detail }) => {
    expect(policy(config).check(makePost(post), ctx(context))).toEqual({
      suppressed: true,
      reasons: [reason],
      detail: [detail],
    });
  });

  // The old convention, still written by hand and by cross-posting tools: the text starts with "RT @name".
  it.each<{ platform: Platform; text: string; original: string }>([
    { platform: 'x', text: 'RT @shiorinote_jp: 本棚が新しくなりました', original: '@shiorinote_jp' },
    { platform: 'x', text: '  rt ＠Someone_1：kikimimi is great', original: '@Someone_1' },
    { platform: 'x', text: 'RT @someone kikimimi is great', original: '@someone' },
    { platform: 'mastodon', text: 'RT @alice@mstdn.jp: kikimimi is great', original: '@alice@mstdn.jp' },
  ])('treats "$text" on $platform as a repost', ({ platform, text, original }) => {
    expect(policy().check(makePost({ platform, text }), ctx())).toEqual({
      suppressed: true,
      reasons: ['repost'],
      detail: [`a repost of ${original}'s post ("RT ${original}"); reposts are not answered`],
    });
  });

  it.each([
    'RTはリツイートのこと、kikimimi is great',
    'ART @gallery: kikimimi is great',
    'kikimimi is great RT @someone: this',
    'RT: kikimimi is great',
    'RT @ kikimimi is great',
  ])('does not treat "%s" as a repost', (text) => {
    expect(policy().check(makePost({ text }), ctx()).reasons).toEqual([]);
  });

  it('answers "RT @…" posts when reposts are not ignored', () => {
    const verdict = policy({ ignoreReposts: false }).check(makePost({ text: 'RT @a: kikimimi' }), ctx());
    expect(verdict.reasons).toEqual([]);
  });

  it('omits the note of a do-not-contact entry without one', () => {
    const verdict = policy({ doNotContact: [{ platform: 'x', handle: 'grumpy' }] }).check(
      makePost({ handle: 'grumpy' }),
      ctx(),
    );
    expect(verdict.detail).toEqual(['@grumpy on x asked not to be contacted']);
  });
});

describe('createSuppressionPolicy: combinations', () => {
  const everything: SuppressionInput = {
    ownAccounts: [{ platform: 'x', handle: 'kikimimi' }],
    doNotContact: [{ platform: 'x', handle: 'kikimimi' }],
    dailyReplyCap: { x: 10 },
  };
  const allContext = ctx({
    contactHistory: [contact('x', 'kikimimi', 1)],
    repliesToday: { x: 10 },
  });

  it('reports every reason that applies, most important first, one sentence each', () => {
    const verdict = policy(everything).check(
      makePost({ handle: 'kikimimi', repostOf: 'r', createdAt: ago(100) }),
      allContext,
    );
    expect(verdict.suppressed).toBe(true);
    expect(verdict.reasons).toEqual([
      'own_account',
      'do_not_contact',
      'repost',
      'too_old',
      'author_cooldown',
      'daily_cap_reached',
    ]);
    expect(verdict.detail).toHaveLength(6);
  });

  it.each<{ name: string; post: PostSpec; context: SuppressionContext; reasons: SuppressionReason[] }>([
    {
      name: 'repost + too old',
      post: { repostOf: 'r', createdAt: ago(49) },
      context: ctx(),
      reasons: ['repost', 'too_old'],
    },
    {
      name: 'do-not-contact + cap',
      post: { handle: 'blocked' },
      context: ctx({ repliesToday: { x: 10 } }),
      reasons: ['do_not_contact', 'daily_cap_reached'],
    },
    {
      name: 'cooldown + too old',
      post: { handle: 'friend', createdAt: ago(60) },
      context: ctx({ contactHistory: [contact('x', 'friend', 2)] }),
      reasons: ['too_old', 'author_cooldown'],
    },
  ])('$name', ({ post, context, reasons }) => {
    const p = policy({ doNotContact: [{ platform: 'x', handle: 'blocked' }], dailyReplyCap: { x: 10 } });
    const verdict = p.check(makePost(post), context);
    expect(verdict.reasons).toEqual(reasons);
    expect(verdict.detail).toHaveLength(reasons.length);
  });
});

describe('createSuppressionPolicy: handle matching for ownAccounts and doNotContact', () => {
  it.each<{
    configured: [Platform, string];
    post: [Platform, string];
    options?: SuppressionOptions;
    matches: boolean;
  }>([
    { configured: ['x', 'Kikimimi_JP'], post: ['x', 'kikimimi_jp'], matches: true },
    { configured: ['x', '@kikimimi_jp'], post: ['x', '@KIKIMIMI_JP'], matches: true },
    { configured: ['x', ' kikimimi '], post: ['x', 'kikimimi'], matches: true },
    { configured: ['x', 'kikimimi'], post: ['x', 'kikimimi_jp'], matches: false },
    { configured: ['x', 'kikimimi'], post: ['mastodon', 'kikimimi'], matches: false },
    { configured: ['mastodon', 'kiki@mstdn.jp'], post: ['mastodon', 'kiki@mstdn.jp'], matches: true },
    { configured: ['mastodon', '@Kiki@MSTDN.jp'], post: ['mastodon', 'kiki@mstdn.jp'], matches: true },
    { configured: ['mastodon', 'kiki@mstdn.jp'], post: ['mastodon', 'kiki@other.social'], matches: false },
    { configured: ['mastodon', 'kiki'], post: ['mastodon', 'kiki'], matches: true },
    // A bare name is an account on our own instance; a namesake elsewhere is someone else.
    { configured: ['mastodon', 'kiki'], post: ['mastodon', 'kiki@mstdn.jp'], matches: false },
    {
      configured: ['mastodon', 'kiki'],
      post: ['mastodon', 'kiki@mstdn.jp'],
      options: { mastodonInstance: 'MSTDN.JP' },
      matches: true,
    },
    {
      configured: ['mastodon', 'kiki'],
      post: ['mastodon', 'kiki@other.social'],
      options: { mastodonInstance: 'mstdn.jp' },
      matches: false,
    },
    // Instance unknown: the post's bare name may be the configured name@instance seen from home.
    { configured: ['mastodon', 'kiki@mstdn.jp'], post: ['mastodon', 'kiki'], matches: true },
    {
      configured: ['mastodon', 'kiki@mstdn.jp'],
      post: ['mastodon', 'kiki'],
      options: { mastodonInstance: 'mstdn.jp' },
      matches: true,
    },
    {
      configured: ['mastodon', 'kiki@mstdn.jp'],
      post: ['mastodon', 'kiki'],
      options: { mastodonInstance: 'other.social' },
      matches: false,
    },
    { configured: ['mastodon', 'kiki@mstdn.jp'], post: ['mastodon', 'kiko'], matches: false },
  ])('$configured vs $post ($options) → $matches', ({ configured, post, options, matches }) => {
    const [platform, handle] = configured;
    const p = policy({ ownAccounts: [{ platform, handle }], doNotContact: [{ platform, handle }] }, options);
    const verdict = p.check(makePost({ platform: post[0], handle: post[1] }), ctx());
    expect(verdict.reasons).toEqual(matches ? ['own_account', 'do_not_contact'] : []);
  });
});

describe('createSuppressionPolicy: author cooldown', () => {
  it.each<{
    name: string;
    config?: SuppressionInput;
    options?: SuppressionOptions;
    post: PostSpec;
    history: ContactRecord[];
    detail: string | null;
  }>([
    {
      name: 'same platform and author id, handle renamed since',
      post: { handle: 'new_name', authorId: 'x-42' },
      history: [contact('x', 'old_name', 3, 'x-42')],
      detail: 'replied to @old_name on x 3 h ago (cooldown 72 h)',
    },
    {
      name: 'same handle on the same platform, id unknown to the record',
      post: { handle: 'Foo', authorId: 'x-1' },
      history: [contact('x', '@foo', 3, 'x-other')],
      detail: 'replied to @foo on x 3 h ago (cooldown 72 h)',
    },
    {
      name: 'same author id on another platform is not the same person',
      config: { linkHandlesAcrossPlatforms: false },
      post: { platform: 'mastodon', handle: 'bar@mstdn.jp', authorId: '42' },
      history: [contact('x', 'foo', 3, '42')],
      detail: null,
    },
    {
      name: 'x:foo 2 h ago suppresses mastodon foo@mstdn.jp',
      post: { platform: 'mastodon', handle: 'foo@mstdn.jp', authorId: 'm-1' },
      history: [contact('x', 'foo', 2, 'x-1')],
      detail: 'replied to @foo on x 2 h ago, same handle on another platform (cooldown 72 h)',
    },
    {
      name: 'x:foo 2 h ago does not suppress mastodon foo@mstdn.jp with linking off',
      config: { linkHandlesAcrossPlatforms: false },
      post: { platform: 'mastodon', handle: 'foo@mstdn.jp', authorId: 'm-1' },
      history: [contact('x', 'foo', 2, 'x-1')],
      detail: null,
    },
    {
      name: 'mastodon foo@a suppresses x foo',
      post: { platform: 'x', handle: 'FOO', authorId: 'x-1' },
      history: [contact('mastodon', '@foo@mastodon.social', 2, 'm-1')],
      detail:
        'replied to @foo@mastodon.social on mastodon 2 h ago, same handle on another platform (cooldown 72 h)',
    },
    {
      name: 'mastodon foo@a does not suppress mastodon foo@b (different people on one platform)',
      post: { platform: 'mastodon', handle: 'foo@b.example', authorId: 'm-2' },
      history: [contact('mastodon', 'foo@a.example', 2, 'm-1')],
      detail: null,
    },
    {
      name: 'mastodon foo@home suppresses bare foo when the instance is known',
      options: { mastodonInstance: 'mstdn.jp' },
      post: { platform: 'mastodon', handle: 'foo', authorId: 'm-2' },
      history: [contact('mastodon', 'foo@mstdn.jp', 2, 'm-1')],
      detail: 'replied to @foo@mstdn.jp on mastodon 2 h ago (cooldown 72 h)',
    },
    {
      name: 'linked authors, even with handle linking off',
      config: {
        linkHandlesAcrossPlatforms: false,
        linkedAuthors: [['x:acme_fan', 'mastodon:fan@mstdn.jp']],
      },
      post: { platform: 'mastodon', handle: 'Fan@mstdn.jp', authorId: 'm-1' },
      history: [contact('x', 'acme_fan', 4, 'x-1')],
      detail: 'replied to @acme_fan on x 4 h ago, a linked account (cooldown 72 h)',
    },
    {
      name: 'linked authors on the same platform',
      config: { linkedAuthors: [['x:main_account', 'x:alt_account']] },
      post: { handle: 'alt_account', authorId: 'x-2' },
      history: [contact('x', 'main_account', 4, 'x-1')],
      detail: 'replied to @main_account on x 4 h ago, a linked account (cooldown 72 h)',
    },
    {
      name: 'linked groups sharing an account are one person',
      config: {
        linkedAuthors: [
          ['x:aaa', 'mastodon:bbb@m.example'],
          ['mastodon:BBB@m.example', 'x:ccc'],
        ],
      },
      post: { handle: 'ccc', authorId: 'x-3' },
      history: [contact('x', 'aaa', 4, 'x-1')],
      detail: 'replied to @aaa on x 4 h ago, a linked account (cooldown 72 h)',
    },
    {
      name: 'linked authors do not link outsiders',
      config: {
        linkedAuthors: [
          ['x:aaa', 'x:bbb'],
          ['x:ccc', 'bluesky:ccc'],
        ],
      },
      post: { handle: 'ccc', authorId: 'x-3' },
      history: [contact('x', 'aaa', 4, 'x-1')],
      detail: null,
    },
    {
      name: 'a different person',
      post: { handle: 'alice', authorId: 'x-1' },
      history: [contact('x', 'bob', 1, 'x-2'), contact('mastodon', 'carol@m.example', 1, 'm-1')],
      detail: null,
    },
    {
      name: 'exactly at the limit the cooldown is over',
      post: { handle: 'foo', authorId: 'x-1' },
      history: [contact('x', 'foo', 72, 'x-1')],
      detail: null,
    },
    {
      name: 'a millisecond before the limit it still holds',
      post: { handle: 'foo', authorId: 'x-1' },
      history: [
        {
          platform: 'x',
          authorId: 'x-1',
          handle: 'foo',
          at: new Date(NOW.getTime() - 72 * HOUR + 1).toISOString(),
        },
      ],
      detail: 'replied to @foo on x 71 h ago (cooldown 72 h)',
    },
    {
      name: 'a contact at exactly now counts',
      post: { handle: 'foo', authorId: 'x-1' },
      history: [contact('x', 'foo', 0, 'x-1')],
      detail: 'replied to @foo on x less than a minute ago (cooldown 72 h)',
    },
    {
      name: 'contacts after now are ignored',
      post: { handle: 'foo', authorId: 'x-1' },
      history: [contact('x', 'foo', -0.01, 'x-1'), contact('x', 'foo', -5, 'x-1')],
      detail: null,
    },
    {
      name: 'an unparseable contact time is ignored',
      post: { handle: 'foo', authorId: 'x-1' },
      history: [{ platform: 'x', authorId: 'x-1', handle: 'foo', at: 'yesterday' }],
      detail: null,
    },
    {
      name: '0 disables the cooldown',
      config: { authorCooldownHours: 0 },
      post: { handle: 'foo', authorId: 'x-1' },
      history: [contact('x', 'foo', 0.5, 'x-1')],
      detail: null,
    },
    {
      name: 'a shorter cooldown',
      config: { authorCooldownHours: 1.5 },
      post: { handle: 'foo', authorId: 'x-1' },
      history: [contact('x', 'foo', 0.5, 'x-1')],
      detail: 'replied to @foo on x 30 min ago (cooldown 1.5 h)',
    },
    {
      name: 'the most recent contact is reported',
      post: { handle: 'foo', authorId: 'x-1' },
      history: [
        contact('x', 'foo', 10, 'x-1'),
        contact('mastodon', 'foo@m.example', 3),
        contact('x', 'foo', 80, 'x-1'),
      ],
      detail:
        'replied to @foo@m.example on mastodon 3 h ago, same handle on another platform (cooldown 72 h)',
    },
    {
      name: 'of equally recent contacts the closest relation is reported',
      post: { handle: 'foo', authorId: 'x-1' },
      history: [contact('mastodon', 'foo@m.example', 3), contact('x', 'foo', 3, 'x-1')],
      detail: 'replied to @foo on x 3 h ago (cooldown 72 h)',
    },
  ])('$name', ({ config, options, post, history, detail }) => {
    const verdict = policy(config, options).check(makePost(post), ctx({ contactHistory: history }));
    if (detail === null) {
      expect(verdict).toEqual({ suppressed: false, reasons: [], detail: [] });
    } else {
      expect(verdict).toEqual({ suppressed: true, reasons: ['author_cooldown'], detail: [detail] });
    }
  });
});

describe('createSuppressionPolicy: too old and reposts', () => {
  it.each<{ name: string; config?: SuppressionInput; createdAt: string; tooOld: boolean }>([
    { name: 'exactly max age is still fine', createdAt: ago(48), tooOld: false },
    {
      name: 'a millisecond past max age is too old',
      createdAt: new Date(NOW.getTime() - 48 * HOUR - 1).toISOString(),
      tooOld: true,
    },
    { name: 'a post from the future (clock skew) is fine', createdAt: ago(-2), tooOld: false },
    { name: '0 disables the age limit', config: { maxAgeHours: 0 }, createdAt: ago(10_000), tooOld: false },
    { name: 'a custom limit', config: { maxAgeHours: 6 }, createdAt: ago(7), tooOld: true },
    { name: 'offsets are honoured', createdAt: '2025-06-01T20:59:00+09:00', tooOld: false },
    { name: 'offsets are honoured (old)', createdAt: '2025-05-30T20:59:00+09:00', tooOld: true },
  ])('$name', ({ config, createdAt, tooOld }) => {
    const verdict = policy(config).check(makePost({ createdAt }), ctx());
    expect(verdict.reasons).toEqual(tooOld ? ['too_old'] : []);
  });

  it.each<{ ignoreReposts: boolean; repostOf: string | null; repost: boolean }>([
    { ignoreReposts: true, repostOf: 'orig', repost: true },
    { ignoreReposts: true, repostOf: null, repost: false },
    { ignoreReposts: false, repostOf: 'orig', repost: false },
  ])('ignoreReposts $ignoreReposts, repostOf $repostOf → $repost', ({ ignoreReposts, repostOf, repost }) => {
    const verdict = policy({ ignoreReposts }).check(makePost({ repostOf }), ctx());
    expect(verdict.reasons).toEqual(repost ? ['repost'] : []);
  });
});

describe('createSuppressionPolicy: daily cap', () => {
  it.each<{
    name: string;
    cap: Partial<Record<Platform, number>>;
    sent: Partial<Record<Platform, number>>;
    platform: Platform;
    reached: boolean;
  }>([
    { name: 'below the cap', cap: { x: 5 }, sent: { x: 4 }, platform: 'x', reached: false },
    { name: 'at the cap', cap: { x: 5 }, sent: { x: 5 }, platform: 'x', reached: true },
    { name: 'over the cap', cap: { x: 5 }, sent: { x: 7 }, platform: 'x', reached: true },
    {
      name: 'no cap for the platform',
      cap: { x: 5 },
      sent: { mastodon: 99 },
      platform: 'mastodon',
      reached: false,
    },
    {
      name: 'other platform at its cap',
      cap: { x: 5, mastodon: 50 },
      sent: { x: 5 },
      platform: 'mastodon',
      reached: false,
    },
    {
      name: 'nothing sent yet counts as 0',
      cap: { mastodon: 1 },
      sent: {},
      platform: 'mastodon',
      reached: false,
    },
    {
      name: 'a cap of 0 stops all replies',
      cap: { mastodon: 0 },
      sent: {},
      platform: 'mastodon',
      reached: true,
    },
  ])('$name', ({ cap, sent, platform, reached }) => {
    const handle = platform === 'x' ? 'someone' : 'someone@m.example';
    const verdict = policy({ dailyReplyCap: cap }).check(
      makePost({ platform, handle }),
      ctx({ repliesToday: sent }),
    );
    expect(verdict.reasons).toEqual(reached ? ['daily_cap_reached'] : []);
  });
});

describe('authorKeys and contactKeys', () => {
  it('normalises handles', () => {
    expect(normalizeHandle('x', ' @@Foo_Bar ')).toBe('foo_bar');
    expect(normalizeHandle('mastodon', '@Foo@MSTDN.jp')).toBe('foo@mstdn.jp');
    expect(normalizeHandle('mastodon', '@Foo@MSTDN.jp', 'mstdn.jp')).toBe('foo');
    expect(normalizeHandle('mastodon', 'foo@mstdn.jp.evil', 'mstdn.jp')).toBe('foo@mstdn.jp.evil');
    expect(normalizeHandle('x', 'foo@mstdn.jp', 'mstdn.jp')).toBe('foo@mstdn.jp');
  });

  it('includes id, handle name and linked names', () => {
    const p = policy({ linkedAuthors: [['x:Foo', 'mastodon:bar@m.example', 'threads:baz']] });
    expect(p.authorKeys('x', { id: '1', handle: '@FOO' }).sort()).toEqual(['id:x:1', 'name:bar', 'name:foo']);
    const withBluesky = policy({ linkedAuthors: [['x:Foo', 'bluesky:Foo.bsky.social']] });
    expect(withBluesky.authorKeys('x', { id: '1', handle: 'foo' }).sort()).toEqual([
      'id:x:1',
      'name:foo',
      'name:foo.bsky.social',
    ]);
    expect(p.authorKeys('mastodon', { id: '9', handle: 'qux@m.example' }).sort()).toEqual([
      'id:mastodon:9',
      'name:qux',
    ]);
    expect(contactKeys({ platform: 'mastodon', authorId: '9', handle: '@Qux@m.example' })).toEqual([
      'id:mastodon:9',
      'name:qux',
    ]);
  });

  // A database that prefetches contacts by these keys must never miss one that check() would count.
  it('every contact that causes a cooldown shares a key with the author', () => {
    const platform = fc.constantFrom<Platform>('x', 'mastodon');
    const name = fc.constantFrom('foo', 'Foo', 'bar', '@baz');
    const instance = fc.constantFrom('', '@a.example', '@B.example');
    const handle = fc.tuple(name, instance).map(([n, i]) => n + i);
    const id = fc.constantFrom('1', '2', '3');
    const linkRef = fc.tuple(platform, handle).map(([p, h]) => `${p}:${h}`);
    fc.assert(
      fc.property(
        fc.record({
          linkHandlesAcrossPlatforms: fc.boolean(),
          linkedAuthors: fc.array(fc.array(linkRef, { minLength: 2, maxLength: 3 }), { maxLength: 3 }),
        }),
        fc.option(fc.constantFrom('a.example', 'b.example'), { nil: undefined }),
        fc.tuple(platform, handle, id),
        fc.tuple(platform, handle, id),
        (config, home, [pp, ph, pid], [cp, ch, cid]) => {
          const p = policy(config, home === undefined ? {} : { mastodonInstance: home });
          const record: ContactRecord = { platform: cp, handle: ch, authorId: cid, at: ago(1) };
          const post = makePost({ platform: pp, handle: ph, authorId: pid });
          const verdict = p.check(post, ctx({ contactHistory: [record] }));
          if (!verdict.reasons.includes('author_cooldown')) return;
          const keys = new Set(p.authorKeys(pp, post.author));
          expect(contactKeys(record).some((k) => keys.has(k))).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
