import { describe, expect, it } from 'vitest';
import type { ConfigInput } from './config.ts';
import type { Decision } from './engine.ts';
import { loadConfig } from './load-config.ts';
import { type PostInput, postSchema } from './post.ts';

const NOW = new Date('2026-11-24T00:30:00Z');

function engineFor(config: ConfigInput) {
  const loaded = loadConfig(config);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.engine;
}

function post(text: string, extra: Partial<PostInput> = {}) {
  return postSchema.parse({
    platform: 'x',
    id: '100',
    url: 'https://x.com/hana/status/100',
    author: { id: 'a1', handle: 'hana', displayName: 'はな', followers: 50 },
    text,
    createdAt: '2026-11-24T00:00:00Z',
    ...extra,
  });
}

function matched(decision: Decision) {
  if (!decision.matched) throw new Error('expected a match');
  return decision;
}

const base: ConfigInput = {
  variables: { helpUrl: 'https://help.example.com/' },
  watches: [
    { id: 'brand', query: 'ブクログ OR booklog' },
    { id: 'off', query: 'ブクログ', enabled: false },
    { id: 'masto-only', query: '#ぶくろぐ', platforms: ['mastodon'] },
  ],
  templates: [
    { id: 'guide', category: 'guidance', text: '{author.name}さん、こちらをご覧ください {vars.helpUrl}' },
    { id: 'thanks-x', platform: 'x', category: 'thanks', text: 'ありがとうございます！' },
  ],
  escalation: [
    {
      id: 'refund',
      when: { query: '返金 OR refund' },
      actions: { route: 'billing', mentionRoles: ['billing'], priority: 'high' },
    },
    { id: 'disabled', enabled: false, when: { query: 'ブクログ' }, actions: { priority: 'urgent' } },
  ],
};

describe('RulesEngine.decide', () => {
  const engine = engineFor(base);

  it('says "no match" for a post no watch wants', () => {
    expect(engine.decide(post('今日はいい天気'), { now: NOW })).toEqual({
      matched: false,
      post: { platform: 'x', id: '100', url: 'https://x.com/hana/status/100' },
    });
  });

  it('matches enabled watches only, classifies, picks and renders a template, measures it', () => {
    const d = matched(engine.decide(post('ブクログにログインできない'), { now: NOW }));
    expect(d.watches).toEqual(['brand']);
    expect(d.intent).toBe('trouble');
    expect(d.category).toBe('guidance');
    expect(d.signals.length).toBeGreaterThan(0);
    expect(d.reply).toMatchObject({
      templateId: 'guide',
      text: 'はなさん、こちらをご覧ください https://help.example.com/',
      limit: 280,
      ok: true,
    });
    // X weighted length: 15 Japanese characters count 2 each, one space, the URL 23.
    expect(d.reply?.length).toBe(15 * 2 + 1 + 23);
    expect(d.suppressed).toBe(false);
    expect(d.route).toEqual({ reviewChannel: 'review', priority: 'normal' });
  });

  it('fires an escalation rule by its query, ignoring disabled rules', () => {
    const d = matched(engine.decide(post('ブクログの返金まだ？'), { now: NOW }));
    expect(d.escalations.map((e) => e.ruleId)).toEqual(['refund']);
    expect(d.escalations[0]).toMatchObject({ route: 'billing', mentionRoles: ['billing'], priority: 'high' });
    expect(d.route.priority).toBe('high');
  });

  it('counts a Mastodon reply with the mention the connector prepends, against the instance limit', () => {
    const p = post('ぶくろぐ動かない #ぶくろぐ', {
      platform: 'mastodon',
      author: { id: 'm1', handle: 'hana@mstdn.example', displayName: 'はな' },
    });
    const d = matched(engine.decide(p, { now: NOW, maxCharacters: { mastodon: 40 } }));
    expect(d.watches).toEqual(['brand', 'masto-only']);
    expect(d.reply?.limit).toBe(40);
    // "@hana " (a remote mention counts without its domain) + "はなさん、こちらをご覧ください " + 23 for the URL.
    expect(d.reply?.length).toBe(6 + 16 + 23);
    expect(d.reply?.ok).toBe(false);
  });

  it('proposes the template in the post’s language (dry-run and the stored decision)', () => {
    const english = engineFor({
      ...base,
      templates: [
        ...(base.templates ?? []),
        {
          id: 'guide-en',
          category: 'guidance',
          language: 'en',
          text: 'Hi {author.name}, see {vars.helpUrl}',
        },
      ],
    });
    const en = matched(
      english.decide(
        post('cannot log in to booklog', {
          lang: 'en',
          author: { id: 'a2', handle: 'alex', displayName: 'Alex M.' },
        }),
        {
          now: NOW,
        },
      ),
    );
    expect(en.reply).toMatchObject({
      templateId: 'guide-en',
      text: 'Hi Alex M., see https://help.example.com/',
    });
    const ja = matched(english.decide(post('ブクログにログインできない', { lang: 'ja' }), { now: NOW }));
    expect(ja.reply?.templateId).toBe('guide');
  });

  it('leaves the reply empty when no template fits the category', () => {
    const d = matched(engine.decide(post('ブクログ、最悪。改悪だ'), { now: NOW }));
    expect(d.category).toBe('apology');
    expect(d.reply).toBeNull();
  });

  it('suppresses, with reasons, from the context it is given', () => {
    const d = matched(
      engine.decide(post('ブクログ最高！'), {
        now: NOW,
        contactHistory: [
          { platform: 'mastodon', authorId: 'z', handle: 'hana@mstdn.example', at: '2026-11-23T12:00:00Z' },
        ],
      }),
    );
    expect(d.suppressed).toBe(true);
    expect(d.suppression.reasons).toEqual(['author_cooldown']);
  });

  it('compiles the platform queries from the enabled watches', () => {
    // One query: the watch's two alternatives packed with OR, reposts excluded; the disabled and
    // Mastodon-only watches are not asked of X.
    expect(engine.xQueries.queries.map((q) => q.query)).toEqual([
      '((ブクログ OR ぶくろぐ) OR booklog) -is:retweet',
    ]);
    expect(engine.mastodonSources.hashtags).toEqual(
      expect.arrayContaining(['ぶくろぐ', 'ブクログ', 'booklog']),
    );
    // Bluesky search has no OR: one search per alternative (with its kana variant); the
    // Mastodon-only watch is not asked of Bluesky.
    const bluesky = engine.blueskyQueries.queries.map((q) => q.query);
    expect(bluesky).toEqual(expect.arrayContaining(['ブクログ', 'booklog']));
    expect(bluesky.some((q) => q.startsWith('#'))).toBe(false);
    expect(engine.blueskyQueries.queries.every((q) => q.watchIds.join() === 'brand')).toBe(true);
  });
});

describe('loadConfig', () => {
  it('lists every problem with its path and compiles nothing', () => {
    const loaded = loadConfig({
      watches: [
        { id: 'a', query: 'ok' },
        { id: 'a', query: '(unclosed' },
        { id: 'long', query: `${'x'.repeat(700)} y` },
      ],
      templates: [
        { id: 't', category: 'thanks', text: 'hi {author.nmae}', watches: ['ghost'] },
        { id: 't2', category: 'custom', text: 'see {vars.missing}' },
      ],
      escalation: [{ id: 'e', when: { query: 'OR', minFollowers: 10, maxFollowers: 5 }, actions: {} }],
      routing: { watches: { nowhere: 'chan' } },
      suppression: { linkedAuthors: [['x:a', 'myspace:b']] },
    });
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    const paths = loaded.problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'watches[1].id',
        'watches[1].query',
        'watches[2].query',
        'templates[0].text',
        'templates[0].watches[0]',
        'templates[1].text',
        'escalation[0].when.query',
        'escalation[0].when.minFollowers',
        'routing.watches.nowhere',
        'suppression.linkedAuthors[0][1]',
      ]),
    );
    expect(loaded.problems.find((p) => p.path === 'watches[1].query')?.offset).toBe(0);
    expect(loaded.problems.find((p) => p.path === 'templates[0].text')?.offset).toBe(3);
  });

  it('reports schema violations by path before anything else', () => {
    const loaded = loadConfig({
      watches: [{ id: 'ok', query: '' }],
      templates: [{ id: 't', category: 'nope', text: 'x' }],
    });
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.problems.map((p) => p.path)).toEqual(['watches[0].query', 'templates[0].category']);
  });

  it('lists schema, query, placeholder and reference problems together, in one pass', () => {
    const loaded = loadConfig({
      variables: { helpUrl: 'https://help.example.com/' },
      watches: [
        { id: 'Bad Id', query: 'ok (' },
        { id: 'q', query: '(unclosed' },
        { id: 'fine', query: 'booklog' },
      ],
      templates: [
        { id: 't', category: 'thanks', text: 'hi {vars.missing} {vars.helpUrl}', watches: ['nope', 'fine'] },
        { id: 't2', category: 'hug', text: 'x' },
      ],
      escalation: [
        { id: 'e', when: { minFollowers: 10, maxFollowers: 1, watches: ['Bad Id'] }, actions: {} },
      ],
      suppression: { maxAgeHours: -1, linkedAuthors: [['x:a', 'myspace:b']] },
      routing: { watches: { ghost: 'chan' } },
    });
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.problems.map((p) => p.path)).toEqual([
      'watches[0].id',
      'watches[0].query',
      'watches[1].query',
      'templates[0].text',
      'templates[0].watches[0]',
      'templates[1].category',
      'escalation[0].when.minFollowers',
      'suppression.maxAgeHours',
      'suppression.linkedAuthors[0][1]',
      'routing.watches.ghost',
    ]);
    // The watch with a bad id still exists: naming it is no second problem.
    expect(loaded.problems.find((p) => p.path === 'templates[0].text')?.offset).toBe(3);
  });

  it('phrases schema messages with the error map it is given', () => {
    const loaded = loadConfig({ suppression: { maxAgeHours: -1 } }, { error: () => 'ダメです' });
    expect(!loaded.ok && loaded.problems).toEqual([{ path: 'suppression.maxAgeHours', message: 'ダメです' }]);
  });

  it('accepts an empty configuration', () => {
    const loaded = loadConfig({});
    expect(loaded.ok).toBe(true);
  });
});

describe('RulesEngine.decide on a very long post', () => {
  it('keeps the decision small: the signals list is capped', () => {
    const engine = engineFor(base);
    const text = 'ブクログ便利すぎる、でもログインできない。エラーで開かない！使いにくいし改悪。'
      .repeat(200)
      .slice(0, 5000);
    const d = matched(engine.decide(post(text), { now: NOW }));
    expect(d.intent).toBe('trouble');
    expect(JSON.stringify(d).length).toBeLessThan(8 * 1024);
  });
});
