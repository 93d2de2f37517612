import type { CustomerVoice, EffectFigures, SurgePeriodSummary } from '@kikimimi/db';
import { describe, expect, it } from 'vitest';
import type { DigestView } from '../pipeline/digest.ts';
import { digestMessage, digestNonce, durationWords } from './digest-message.ts';

const figures = (sent: number, reacted: number, positive: number): EffectFigures => ({
  sent,
  followUps: sent > 0 ? 1 : 0,
  reacted,
  answered: reacted,
  liked: 0,
  reposted: 0,
  positive,
  reactionRate: sent === 0 ? null : reacted / sent,
  positiveRate: sent === 0 ? null : positive / sent,
  medianReactionSeconds: sent === 0 ? null : 750,
  p90ReactionSeconds: sent === 0 ? null : 3 * 3600 + 60,
});

const voice = (i: number, text: string): CustomerVoice => ({
  id: `v${i}`,
  matchId: `m${i}`,
  at: new Date('2026-11-24T08:00:00Z'),
  department: `部署${i}`,
  summary: `まとめ ${i} `.repeat(30),
  actor: null,
  platform: 'x',
  caseState: 'open',
  author: { handle: `reader${i}`, displayName: '' },
  postText: text,
  postUrl: 'https://x.com/r/status/1',
  lastAnswer: null,
});

const surge = (i: number, extra: Partial<SurgePeriodSummary> = {}): SurgePeriodSummary => ({
  id: `surge:0000000${i}-0000-4000-8000-000000000000`,
  watchId: 'brand',
  status: 'closed',
  detectedAt: new Date('2026-11-23T03:14:00Z'),
  // 12:12–13:05 in Tokyo.
  firstAt: new Date('2026-11-23T03:12:00Z'),
  lastAt: new Date('2026-11-23T04:05:00Z'),
  closedAt: new Date('2026-11-23T04:35:00Z'),
  closedBy: 'reviewer',
  count: 1030,
  intents: { trouble: 1000, complaint: 30 },
  platforms: { x: 1000, mastodon: 30 },
  handling: ['announced', 'dismissed', 'closed'],
  handled: {
    members: { total: 1030, waiting: 0, replied: 10, dismissed: 1019, escalated: 1, deleted: 0 },
    announcements: [
      { platform: 'x', state: 'sent', url: 'https://x.com/brand/status/1' },
      { platform: 'mastodon', state: 'failed', url: null },
    ],
  },
  example: 'ブクログ 落ちてる',
  ...extra,
});

const view = (
  voices: CustomerVoice[],
  moreVoices = false,
  surges: SurgePeriodSummary[] = [],
  moreSurges = false,
): DigestView => ({
  from: new Date('2026-11-23T00:00:00Z'),
  to: new Date('2026-11-24T00:00:00Z'),
  timeZone: 'Asia/Tokyo',
  // The surges' watch by its name; one not in the configuration (any more) by its id.
  watchNames: new Map([['brand', 'しおりノート']]),
  effect: {
    period: { from: new Date('2026-11-23T00:00:00Z'), to: new Date('2026-11-24T00:00:00Z') },
    totals: figures(10, 4, 3),
    byPlatform: [
      { platform: 'x', ...figures(8, 3, 2) },
      { platform: 'mastodon', ...figures(2, 1, 1) },
    ],
    byTemplate: [],
    answersByKind: { thanks: 2, unhappy: 1, question: 1, other: 0 },
  },
  voices,
  moreVoices,
  surges,
  moreSurges,
});

describe('the digest message', () => {
  it('shows the period in the organisation’s zone, the figures and the voices', () => {
    const { content } = digestMessage(view([voice(1, 'アプリが落ちる')]), 'ja');
    expect(content).toContain('2026-11-23 09:00 〜 2026-11-24 09:00（Asia/Tokyo）');
    expect(content).toContain(
      '返信 10 件（フォローアップ 1）· 反応率 40.0%（4 件）· 好意的な反応 30.0%（3 件）',
    );
    expect(content).toContain('中央値 13 分 / 90% 3 時間 1 分');
    expect(content).toContain('お礼 2 · まだ不満 1 · 新しい質問 1 · その他 0');
    expect(content).toContain('**部署1** @\u200breader1: 「アプリが落ちる」');
  });

  it('stays within Discord’s 2,000 characters and points to the console for the rest', () => {
    const voices = Array.from({ length: 15 }, (_, i) => voice(i, 'とても長い感想です。'.repeat(40)));
    const { content } = digestMessage(view(voices, true), 'en');
    expect([...content].length).toBeLessThanOrEqual(2000);
    expect(content).toContain('/digest?from=2026-11-23T00:00:00.000Z&to=2026-11-24T00:00:00.000Z');
    expect(content).toContain('**15+ customer voices**');
  });

  it('never pings or formats from outside text', () => {
    const { content } = digestMessage(view([voice(1, '@everyone <@&123> **bold** [x](https://evil)')]), 'en');
    expect(content).not.toMatch(/@everyone|<@&123>/u);
    expect(content).toContain('\\*\\*bold\\*\\*');
  });

  it('no replies, no voices: says so', () => {
    const empty = view([]);
    const { content } = digestMessage(
      { ...empty, effect: { ...empty.effect, totals: figures(0, 0, 0) } },
      'en',
    );
    expect(content).toContain('Replies 0 (0 follow-ups) · reaction rate — (0)');
    expect(content).toContain('No customer voices in this period.');
  });

  it('marks the period’s surges: when, size, watch, platforms and how they were handled (ja)', () => {
    const { content } = digestMessage(
      view([voice(1, 'アプリが落ちる')], false, [
        surge(1),
        surge(2, {
          status: 'open',
          closedAt: null,
          closedBy: null,
          count: 25,
          // Across midnight in Tokyo.
          firstAt: new Date('2026-11-23T14:50:00Z'),
          lastAt: new Date('2026-11-23T15:10:00Z'),
          platforms: { x: 25 },
          handling: [],
          handled: {
            members: { total: 25, waiting: 25, replied: 0, dismissed: 0, escalated: 0, deleted: 0 },
            announcements: [],
          },
        }),
      ]),
      'ja',
    );
    expect(content).toContain('🌊 **急増 2 件**');
    expect(content).toContain(
      '• 11-23 12:12〜13:05 · **1030 件** · しおりノート · X 1000 / Mastodon 30 · 告知: X・Mastodon（失敗） · 未対応 0 · 返信 10 · 対応不要 1019 · エスカレーション 1 · 終了',
    );
    expect(content).toContain(
      '• 11-23 23:50〜11-24 00:10 · **25 件** · しおりノート · X 25 · 告知なし · 未対応 25 · 継続中',
    );
    // Surges before the voices, both listed, nothing cut.
    expect(content.indexOf('急増 2 件')).toBeLessThan(content.indexOf('ご意見 1 件'));
    expect(content).toContain('**部署1**');
    expect(content).not.toContain('/digest?from=');
  });

  it('marks surges in English, and says nothing of them when there were none', () => {
    const { content } = digestMessage(view([], false, [surge(1)], true), 'en');
    expect(content).toContain('🌊 **1+ surges**');
    expect(content).toContain(
      '• 11-23 12:12–13:05 · **1030 posts** · しおりノート · X 1000 / Mastodon 30 · announced on X, Mastodon (failed) · 0 waiting · 10 replied · 1019 dismissed · 1 escalated · closed',
    );
    // More surges than listed: the console has them all.
    expect(content).toContain('(the whole digest is on the console at /digest?from=');
    expect(digestMessage(view([]), 'en').content).not.toContain('surge');
  });

  it('stays within Discord’s 2,000 characters with surges and voices, in both languages', () => {
    const long = 'w'.repeat(64);
    const surges = Array.from({ length: 5 }, (_, i) =>
      surge(i, {
        watchId: `${long}_${i}`,
        platforms: { x: 999_999, mastodon: 888_888, bluesky: 777_777, 'other*platform': 1 },
        handled: {
          members: { total: 9, waiting: 1, replied: 2, dismissed: 3, escalated: 4, deleted: 5 },
          announcements: ['x', 'mastodon', 'bluesky'].map((platform) => ({
            platform,
            state: 'pending' as const,
            url: null,
          })),
        },
      }),
    );
    const voices = Array.from({ length: 15 }, (_, i) => voice(i, 'とても長い感想です。'.repeat(40)));
    for (const lang of ['ja', 'en'] as const) {
      const { content } = digestMessage(view(voices, true, surges, true), lang);
      expect([...content].length).toBeLessThanOrEqual(2000);
      // Every listed surge is whole; the watch id is clipped and its markdown escaped.
      expect(content.match(/^• .*\*\*\d+ (件|posts)\*\*/gmu)).toHaveLength(5);
      expect(content).toContain('www…');
      expect(content).toContain('other\\*platform');
      expect(content).toContain('/digest?from=2026-11-23T00:00:00.000Z&to=2026-11-24T00:00:00.000Z');
    }
  });

  it('has one short nonce per period', () => {
    expect(digestNonce(new Date('2026-11-24T00:00:00Z')).length).toBeLessThanOrEqual(25);
    expect(durationWords(59, 'en')).toBe('59 s');
  });
});
