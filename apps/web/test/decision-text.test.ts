import {
  configSchema,
  createRouter,
  createSuppressionPolicy,
  type Post,
  postSchema,
  suppressionSchema,
} from '@kikimimi/rules';
import { describe, expect, it } from 'vitest';
import { escalationReasonText, suppressionDetailText } from '../src/decision-text.ts';
import { englishIn } from './english.ts';

/* The sentences come from the rules themselves, so a change of wording there fails here. */

const NOW = new Date('2026-11-24T09:00:00Z');
const post = (extra: Partial<Post> = {}): Post =>
  postSchema.parse({
    platform: 'x',
    id: '1',
    url: 'https://x.com/hana/status/1',
    author: { id: 'a1', handle: 'hana', followers: 20_000 },
    text: 'RT @shiori: ブクログ',
    createdAt: '2026-11-20T09:00:00Z',
    ...extra,
  });

function suppressionSentences(): string[] {
  const policy = createSuppressionPolicy(
    suppressionSchema.parse({
      ownAccounts: [{ platform: 'x', handle: 'hana' }],
      doNotContact: [{ platform: 'x', handle: 'hana', note: '2026-10-02 返信不要' }],
      linkedAuthors: [['x:hana', 'mastodon:hana_m@mstdn.jp']],
      dailyReplyCap: { x: 3 },
    }),
  );
  const ctx = (contactHistory: Parameters<typeof policy.check>[1]['contactHistory']) => ({
    now: NOW,
    contactHistory,
    repliesToday: { x: 3 },
  });
  return [
    ...policy.check(
      post(),
      ctx([{ platform: 'x', authorId: 'a1', handle: 'hana', at: '2026-11-24T04:00:00Z' }]),
    ).detail,
    ...policy.check(
      post({ repostOf: '99', createdAt: '2026-11-24T08:59:30Z' }),
      ctx([{ platform: 'mastodon', authorId: 'm', handle: 'hana_m@mstdn.jp', at: '2026-11-24T08:30:00Z' }]),
    ).detail,
    ...createSuppressionPolicy(suppressionSchema.parse({})).check(
      post({
        author: { id: 'b', handle: 'yuki', displayName: '', followers: 1, protected: false },
        createdAt: '2026-11-21T08:00:00Z',
      }),
      ctx([{ platform: 'mastodon', authorId: 'z', handle: 'yuki@mstdn.jp', at: '2026-11-24T08:59:30Z' }]),
    ).detail,
  ];
}

function escalationReasons(): string[] {
  const config = configSchema.parse({
    escalation: [
      {
        id: 'all',
        when: {
          query: 'ブクログ',
          watches: ['brand'],
          intents: ['trouble'],
          platforms: ['x'],
          minFollowers: 10_000,
          maxFollowers: 50_000,
        },
        actions: {},
      },
    ],
  });
  const routed = createRouter(config).route({
    post: post(),
    watchIds: ['brand'],
    intent: 'trouble',
    queryMatches: new Set(['all']),
  });
  return routed.escalations.flatMap((e) => e.reasons);
}

describe('the rules’ explanations in the console', () => {
  it('covers every kind of sentence (the fixtures produce them all)', () => {
    expect(suppressionSentences()).toHaveLength(14);
    expect(escalationReasons()).toHaveLength(6);
  });

  it.each([
    ...suppressionSentences().map((s) => ['suppression', s]),
    ...escalationReasons().map((s) => ['escalation', s]),
  ])('%s: "%s" is said in Japanese, and kept in English', (kind, sentence) => {
    const say = kind === 'suppression' ? suppressionDetailText : escalationReasonText;
    const ja = say('ja', sentence);
    expect(ja).not.toBe('');
    expect(englishIn(ja)).toEqual([]);
    expect(say('en', sentence)).toBe(sentence);
  });

  it('leaves out, in Japanese, a sentence it does not know', () => {
    expect(escalationReasonText('ja', 'moon is full')).toBe('');
    expect(suppressionDetailText('ja', 'moon is full')).toBe('');
  });
});
