import type { MatchRecord } from '@kikimimi/db';
import { describe, expect, it } from 'vitest';
import { buildReviewMessage } from './review-message.ts';

function matchWithUrl(url: string, handle = 'alice'): MatchRecord {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    platform: 'mastodon',
    postId: '1',
    accountId: null,
    post: {
      platform: 'mastodon',
      id: '1',
      url,
      author: { id: 'a1', handle, displayName: 'Alice', followers: null, protected: false },
      text: 'ログインできない',
      lang: 'ja',
      createdAt: '2026-12-01T00:00:00.000Z',
      repostOf: null,
      inReplyTo: null,
      conversationId: null,
      hashtags: [],
      mentions: [],
    },
    decision: {
      matched: true,
      post: { platform: 'mastodon', id: '1', url },
      watches: ['brand'],
      intent: 'trouble',
      signals: [],
      category: 'guidance',
      reply: null,
      route: { reviewChannel: 'default', priority: 'normal' },
      escalations: [],
      suppressed: false,
      suppression: { reasons: [], detail: [] },
    },
    status: 'new',
    priority: 'normal',
    suppressed: false,
    escalated: false,
    createdAt: new Date('2026-12-01T00:00:00Z'),
    firstResponseAt: null,
    caseState: 'open',
    assignee: null,
    followUntil: null,
  } as unknown as MatchRecord;
}

/** Every URL the message would make Discord show as a link: the embed's and the link buttons'. */
function linksOf(message: ReturnType<typeof buildReviewMessage>): string[] {
  const urls: string[] = [];
  for (const embed of message.embeds ?? []) if (embed.url) urls.push(embed.url);
  for (const row of message.components ?? []) {
    for (const component of (row as { components: Array<{ url?: string }> }).components) {
      if (component.url !== undefined) urls.push(component.url);
    }
  }
  return urls;
}

describe('buildReviewMessage links', () => {
  it('links to the post on its own instance', () => {
    const message = buildReviewMessage({
      match: matchWithUrl('https://mastodon.example/@alice/1'),
      history: [],
      cooldown: { last: null, hours: 72, now: new Date() },
      decisions: [],
      reply: null,
      lang: 'en',
    });
    expect(linksOf(message)).toEqual([
      'https://mastodon.example/@alice/1',
      'https://mastodon.example/@alice/1',
    ]);
  });

  it.each([
    ['javascript:alert(document.cookie)', 'alice'],
    ['http://mastodon.example/@alice/1', 'alice'],
    ['https://evil.example/@alice/1', 'alice@mastodon.social'],
  ])('never links to %s (author %s)', (url, handle) => {
    const message = buildReviewMessage({
      match: matchWithUrl(url, handle),
      history: [],
      cooldown: { last: null, hours: 72, now: new Date() },
      decisions: [],
      reply: null,
      lang: 'en',
    });
    expect(linksOf(message)).toEqual([]);
  });
});
