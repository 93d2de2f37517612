import type { CustomerVoice, EffectFigures } from '@kikimimi/db';
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

const view = (voices: CustomerVoice[], moreVoices = false): DigestView => ({
  from: new Date('2026-11-23T00:00:00Z'),
  to: new Date('2026-11-24T00:00:00Z'),
  timeZone: 'Asia/Tokyo',
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

  it('has one short nonce per period', () => {
    expect(digestNonce(new Date('2026-11-24T00:00:00Z')).length).toBeLessThanOrEqual(25);
    expect(durationWords(59, 'en')).toBe('59 s');
  });
});
