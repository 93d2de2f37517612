import { readFileSync } from 'node:fs';
import type {
  CaseEvent,
  CustomerCase,
  MatchRecord,
  ReplyRecord,
  ReplyState,
  ReviewDecision,
} from '@kikimimi/db';
import { type Category, loadConfig, postSchema } from '@kikimimi/rules';
import { type APIEmbed, ButtonStyle } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { type ClassicMessage, COMPONENTS_V2 } from './port.ts';
import { messageBody } from './rest-port.ts';
import {
  buildReviewGroupMessage,
  buildReviewMessage,
  CUSTOM_ID_MAX,
  HISTORY_SHOWN,
  ids,
  parseCustomId,
  REVIEWS_PER_MESSAGE,
  type ReviewView,
} from './review-message.ts';

const MATCH_ID = '6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f';
const loaded = loadConfig(
  JSON.parse(readFileSync(new URL('../../../../docs/examples/shiori-note.json', import.meta.url), 'utf8')),
);
if (!loaded.ok) throw new Error('the example configuration does not load');
const { engine } = loaded;

function matchOf(text: string, author: { handle?: string; displayName?: string } = {}): MatchRecord {
  const post = postSchema.parse({
    platform: 'x',
    id: '1860000000000000004',
    url: 'https://x.com/taro_yamada/status/1860000000000000004',
    author: {
      id: '42',
      handle: author.handle ?? 'taro_yamada',
      displayName: author.displayName ?? '山田太郎',
      followers: 1280,
    },
    text,
    lang: 'ja',
    createdAt: '2026-11-24T09:10:00+09:00',
  });
  const decision = engine.decide(post, { now: new Date('2026-11-24T09:12:00+09:00') });
  if (!decision.matched) throw new Error(`the sample post does not match: ${text}`);
  return {
    id: MATCH_ID,
    platform: 'x',
    postId: post.id,
    accountId: null,
    post,
    decision,
    status: 'new',
    priority: decision.route.priority,
    suppressed: false,
    escalated: decision.escalations.length > 0,
    createdAt: new Date('2026-11-24T00:12:00Z'),
    firstResponseAt: null,
    caseState: 'open',
    assignee: null,
    followUntil: null,
  };
}

const TROUBLE = 'しおりノートって解約どこからできるんだろう？二重請求されてる気がする…';
const actor = { kind: 'discord', id: '1', name: 'hana' } as const;
const decision = (kind: ReviewDecision['kind'], detail: Record<string, unknown> = {}): ReviewDecision => ({
  id: `d-${kind}`,
  matchId: MATCH_ID,
  kind,
  actor,
  detail,
  at: new Date('2026-11-24T01:00:00Z'),
});
const reply = (state: ReplyState, extra: Partial<ReplyRecord> = {}): ReplyRecord => ({
  id: 'r1',
  matchId: MATCH_ID,
  seq: 1,
  target: null,
  accountId: 'a1',
  text: 'ご不便をおかけして申し訳ございません。',
  idempotencyKey: `kikimimi-${MATCH_ID}`,
  state,
  platformReplyId: null,
  url: null,
  manualUrl: null,
  error: null,
  attempts: 1,
  createdBy: actor,
  createdAt: new Date('2026-11-24T01:00:00Z'),
  sentAt: null,
  dueAt: null,
  ...extra,
});
const BUILT_AT = new Date('2026-11-24T00:15:00Z');
const view = (extra: Partial<ReviewView> = {}): ReviewView => ({
  match: matchOf(TROUBLE),
  history: [],
  cooldown: { last: null, hours: 72, now: BUILT_AT },
  decisions: [],
  reply: null,
  lang: 'ja',
  ...extra,
});

/** The buttons of a message: custom id (or url for links), style and label. */
function buttons(message: ClassicMessage) {
  return message.components.flatMap((row) =>
    row.components.map((c) => {
      const b = c as { custom_id?: string; url?: string; style: ButtonStyle; label?: string };
      return { id: b.custom_id ?? b.url ?? '', style: b.style, label: b.label ?? '' };
    }),
  );
}
const actionIds = (message: ClassicMessage) =>
  buttons(message)
    .filter((b) => b.style !== ButtonStyle.Link)
    .map((b) => parseCustomId(b.id)?.action);
const embedOf = (message: ClassicMessage): APIEmbed => message.embeds[0] as APIEmbed;
const fieldOf = (message: ClassicMessage, name: string) =>
  embedOf(message).fields?.find((f) => f.name === name)?.value ?? '';
const unixOf = (date: Date) => Math.floor(date.getTime() / 1000);
const DAY = 86_400_000;

/** An earlier match of the customer for the history: `answered` replies sent (0: not answered). */
function earlierCase(
  n: number,
  extra: {
    platform?: 'x' | 'mastodon';
    handle?: string;
    text?: string;
    answered?: number;
    relation?: CustomerCase['relation'];
    daysAgo?: number;
  } = {},
): CustomerCase {
  const base = matchOf(TROUBLE);
  const platform = extra.platform ?? 'x';
  const createdAt = new Date(BUILT_AT.getTime() - (extra.daysAgo ?? 21) * DAY);
  const answered = extra.answered ?? 0;
  return {
    match: {
      ...base,
      id: `0000000${n}-4b5a-4c6d-8e9f-0a1b2c3d4e5f`,
      platform,
      postId: `p${n}`,
      post: {
        ...base.post,
        platform,
        id: `p${n}`,
        author: { ...base.post.author, handle: extra.handle ?? base.post.author.handle },
        text: extra.text ?? `しおりノートの件 ${n}`,
      },
      status: answered > 0 ? 'replied' : 'dismissed',
      createdAt,
    },
    replies: Array.from({ length: answered }, (_, i) =>
      reply('sent', { id: `h${n}-${i}`, seq: i + 1, sentAt: createdAt }),
    ),
    relation: extra.relation ?? 'same_author',
  };
}
const statusOf = (message: ClassicMessage) => embedOf(message).fields?.find((f) => f.name === '状態')?.value;

describe('custom ids', () => {
  const categories: Category[] = ['thanks', 'apology', 'guidance', 'custom'];
  const built: Array<[string, string, string | undefined]> = [
    ...categories.flatMap(
      (c): Array<[string, string, string | undefined]> => [
        [ids.reply(MATCH_ID, c), 'r', c],
        [ids.replyModal(MATCH_ID, c), 'rm', c],
      ],
    ),
    [ids.escalate(MATCH_ID), 'e', undefined],
    [ids.escalateTo(MATCH_ID, 'billing'), 'et', 'billing'],
    [ids.escalateTo(MATCH_ID, '請求:チーム'), 'et', '請求:チーム'],
    [ids.dismiss(MATCH_ID), 'd', undefined],
    [ids.dismissModal(MATCH_ID), 'dm', undefined],
    [ids.manualDone(MATCH_ID), 'md', undefined],
    [ids.retry(MATCH_ID), 'rr', undefined],
  ];

  it.each(built)('%s parses back to what built it', (id, action, arg) => {
    expect(id.length).toBeLessThanOrEqual(CUSTOM_ID_MAX);
    expect(parseCustomId(id)).toEqual({ action, matchId: MATCH_ID, arg });
  });

  it('keeps an escalation target up to what fits in 100 characters, and refuses to build a longer one', () => {
    const room = CUSTOM_ID_MAX - `kk:et:${MATCH_ID}:`.length;
    const longest = ids.escalateTo(MATCH_ID, 't'.repeat(room));
    expect(longest).toHaveLength(CUSTOM_ID_MAX);
    expect(parseCustomId(longest)?.arg).toBe('t'.repeat(room));
    expect(() => ids.escalateTo(MATCH_ID, 't'.repeat(room + 1))).toThrow(/custom_id.*100/u);
  });

  it.each([
    ['empty', ''],
    ['not ours', `other:r:${MATCH_ID}:thanks`],
    ['no match id', 'kk:d'],
    ['an unknown action', `kk:zz:${MATCH_ID}`],
    ['a match id that is not a uuid', 'kk:d:1; DROP TABLE matches'],
    ['a reply without a category', `kk:r:${MATCH_ID}`],
    ['a reply with an unknown category', `kk:r:${MATCH_ID}:bribe`],
    ['an escalation without a target', `kk:et:${MATCH_ID}:`],
    ['an argument where none belongs', `kk:d:${MATCH_ID}:extra`],
    ['over the 100-character limit', `kk:et:${MATCH_ID}:${'t'.repeat(CUSTOM_ID_MAX)}`],
  ])('refuses %s', (_what, id) => {
    expect(parseCustomId(id)).toBeNull();
  });
});

describe('the review message', () => {
  it('offers the three replies (the suggested one first in colour), escalate and dismiss on a new match', () => {
    const message = buildReviewMessage(view());
    expect(actionIds(message)).toEqual(['r', 'r', 'r', 'e', 'd', 'tk', 'nt']);
    const suggested = view().match.decision.category;
    const primary = buttons(message).filter((b) => b.style === ButtonStyle.Primary);
    expect(primary.map((b) => parseCustomId(b.id)?.arg)).toEqual([suggested]);
    expect(buttons(message).find((b) => b.style === ButtonStyle.Link)?.id).toBe(view().match.post.url);
    expect(statusOf(message)).toBeUndefined();
  });

  it.each<[string, Partial<ReviewView>, (string | undefined)[], RegExp]>([
    [
      'sending',
      { reply: reply('pending'), decisions: [decision('reply')] },
      ['tk', 'nt'],
      /^⏳ 返信を送信中… 担当 hana/u,
    ],
    [
      'sent',
      { reply: reply('sent', { url: 'https://x.com/brand/status/9' }), decisions: [decision('reply')] },
      ['tk', 'nt'],
      /^✅ 返信済み 担当 hana <t:\d+:f>\nhttps:\/\/x\.com\/brand\/status\/9$/u,
    ],
    ['failed', { reply: reply('failed') }, ['rr', 'md', 'tk', 'nt'], /^⚠️ 返信に失敗しました\n/u],
    [
      'refused by the platform',
      { reply: reply('manual_pending', { manualUrl: 'https://x.com/intent/post?in_reply_to=1' }) },
      ['md', 'tk', 'nt'],
      /^⚠️ プラットフォームが/u,
    ],
    [
      'replied by hand',
      { reply: reply('manual_done'), decisions: [decision('manual_reply')] },
      ['tk', 'nt'],
      /^✅ 返信済み/u,
    ],
    [
      'dismissed',
      {
        decisions: [decision('dismiss', { reason: 'bot' })],
        match: { ...matchOf(TROUBLE), caseState: 'resolved' },
      },
      ['nt'],
      /^🗑️ 対応不要 担当 hana <t:\d+:f>: bot$/u,
    ],
    [
      'escalated',
      { decisions: [decision('escalate', { target: 'billing' })] },
      ['r', 'r', 'r', 'e', 'd', 'tk', 'nt'],
      /^🚨 エスカレーション済み → billing/u,
    ],
    [
      'deleted by its author',
      { match: { ...matchOf(TROUBLE), status: 'deleted' } },
      ['nt'],
      /^🚫 投稿者が投稿を削除しました/u,
    ],
    [
      'deleted by its author after an escalation',
      {
        match: { ...matchOf(TROUBLE), status: 'deleted' },
        decisions: [decision('escalate', { target: 'billing' })],
      },
      ['nt'],
      /^🚫 投稿者が投稿を削除しました/u,
    ],
  ])('when %s: the buttons that still make sense and the status', (_state, extra, actions, status) => {
    const message = buildReviewMessage(view(extra));
    expect(actionIds(message)).toEqual(actions);
    expect(statusOf(message)).toMatch(status);
  });

  it('shows the case: its state, who has it, what the customer said back, and offers to answer them', () => {
    const answer: CaseEvent = {
      id: 'e1',
      matchId: MATCH_ID,
      kind: 'answer',
      replyId: 'r1',
      actor: null,
      platform: 'x',
      postId: 'a1',
      url: 'https://x.com/reader/status/a1',
      authorId: 'u1',
      authorHandle: 'reader',
      text: 'まだ直りません…',
      post: null,
      reading: { kind: 'unhappy', signals: ['直りません'], lang: 'ja' },
      detail: {},
      at: new Date('2026-11-24T02:00:00Z'),
    };
    const open = buildReviewMessage(
      view({
        match: {
          ...matchOf(TROUBLE),
          caseState: 'open',
          assignee: { kind: 'discord', id: '1', name: 'hana' },
        },
        reply: reply('sent'),
        events: [answer],
      }),
    );
    const field = open.embeds[0]?.fields?.find((f) => f.name === 'ケース')?.value ?? '';
    expect(field).toContain('対応中');
    expect(field).toContain('🙋 hana');
    expect(field).toContain('まだ不満');
    expect(field).toContain('まだ直りません');
    const followUp = buttons(open).find((b) => parseCustomId(b.id)?.action === 'fu');
    // An unhappy answer is answered with an apology first.
    expect(parseCustomId(followUp?.id ?? '')?.arg).toBe('apology');
    // Once the answer has its follow-up, the button goes; a resolved case cannot be taken.
    const answered = buildReviewMessage(
      view({
        match: { ...matchOf(TROUBLE), caseState: 'resolved' },
        reply: reply('sent'),
        replies: [
          reply('sent'),
          reply('pending', { id: 'r2', seq: 2, target: { postId: 'a1', url: '', authorHandle: 'reader' } }),
        ],
        events: [answer],
      }),
    );
    expect(actionIds(answered)).toEqual(['nt']);
  });

  it("shows the customer's history: the cooldown's state in words, and earlier matches answered or not", () => {
    const repliedAt = new Date(BUILT_AT.getTime() - 21 * DAY);
    const message = buildReviewMessage(
      view({
        history: [
          earlierCase(1, { text: '同期が止まった\nもう一度', answered: 1 }),
          earlierCase(2, {
            platform: 'mastodon',
            handle: 'taro@mstdn.example',
            relation: 'linked',
            text: '解約したい',
            daysAgo: 40,
          }),
          earlierCase(3, { relation: 'same_name', answered: 2, daysAgo: 60 }),
        ],
        cooldown: {
          last: { at: repliedAt, platform: 'x', handle: 'taro_yamada' },
          hours: 72,
          now: BUILT_AT,
        },
      }),
    );
    const lines = fieldOf(message, 'このお客様とのこれまで').split('\n');
    // "We replied 3 weeks ago" (Discord writes the time in the reader's words) and the cooldown's state.
    expect(lines[0]).toBe(
      `<t:${unixOf(repliedAt)}:R>に返信しました（X @taro\\_yamada）。クールダウン（72 時間）は終わっています。`,
    );
    expect(lines.slice(1)).toEqual([
      `• <t:${unixOf(repliedAt)}:R> X @taro\\_yamada: 同期が止まった もう一度 → 返信済み`,
      `• <t:${unixOf(new Date(BUILT_AT.getTime() - 40 * DAY))}:R> Mastodon @taro@\u200bmstdn.example (関連付けたアカウント): 解約したい → 返信なし`,
      `• <t:${unixOf(new Date(BUILT_AT.getTime() - 60 * DAY))}:R> X @taro\\_yamada (同じハンドル名・別の人の可能性あり): しおりノートの件 3 → 返信済み ×2`,
    ]);

    // Within the cooldown: until when new posts of theirs are held back.
    const hourAgo = new Date(BUILT_AT.getTime() - 3_600_000);
    const active = buildReviewMessage(
      view({
        cooldown: { last: { at: hourAgo, platform: 'x', handle: 'taro_yamada' }, hours: 72, now: BUILT_AT },
      }),
    );
    expect(fieldOf(active, 'このお客様とのこれまで')).toBe(
      `<t:${unixOf(hourAgo)}:R>に返信しました（X @taro\\_yamada）。クールダウン中: <t:${unixOf(hourAgo) + 72 * 3600}:f> まで新しい投稿は抑制されます（72 時間）。\nこれまでのマッチはありません。`,
    );
    // Never answered before; and in English, a cooldown switched off.
    expect(fieldOf(buildReviewMessage(view()), 'このお客様とのこれまで')).toBe(
      'この件より前に、このお客様へ返信したことはありません。\nこれまでのマッチはありません。',
    );
    const english = buildReviewMessage(
      view({
        lang: 'en',
        history: [earlierCase(4, { daysAgo: 2 })],
        cooldown: { last: { at: hourAgo, platform: 'mastodon', handle: 'taro' }, hours: 0, now: BUILT_AT },
      }),
    );
    expect(fieldOf(english, 'This customer’s history')).toBe(
      `We replied <t:${unixOf(hourAgo)}:R> (Mastodon @taro). No cooldown is set.\n• <t:${unixOf(new Date(BUILT_AT.getTime() - 2 * DAY))}:R> X @taro\\_yamada: しおりノートの件 4 → not answered`,
    );
  });

  it('lists five earlier matches at most, their text escaped, and says where the older ones are', () => {
    const history = Array.from({ length: HISTORY_SHOWN + 1 }, (_, i) =>
      earlierCase(i, { text: `@everyone <@123> **太字** [link](https://evil.example) ${'長'.repeat(100)}` }),
    );
    const field = fieldOf(buildReviewMessage(view({ history })), 'このお客様とのこれまで');
    const lines = field.split('\n');
    expect(lines).toHaveLength(1 + HISTORY_SHOWN + 1);
    expect(lines.at(-1)).toBe('…それより前はコンソールのマッチのページに');
    expect(field).not.toMatch(/@everyone|<@|\*\*太字|\[link\]/u);
    expect(field).toContain('@\u200beveryone');
    expect(field).toContain('\\*\\*太字\\*\\*');
    // Each post is clipped to a short line.
    expect(lines[1]).toMatch(/長…\\? → 返信なし$/u);
  });

  it('links the reply when sent, and the hand-posting page when the platform refused it', () => {
    const sent = buildReviewMessage(view({ reply: reply('sent', { url: 'https://x.com/brand/status/9' }) }));
    expect(buttons(sent).map((b) => b.id)).toContain('https://x.com/brand/status/9');
    const manual = buildReviewMessage(
      view({ reply: reply('manual_pending', { manualUrl: 'https://x.com/intent/post?in_reply_to=1' }) }),
    );
    expect(buttons(manual).map((b) => b.id)).toContain('https://x.com/intent/post?in_reply_to=1');
  });

  it('pings nobody: no content, and mentions allowed for no one', () => {
    const message = buildReviewMessage(
      view({ match: matchOf(`@everyone <@&123> しおりノート 解約したい`, { displayName: '@here' }) }),
    );
    expect(message.content).toBe('');
    expect(messageBody(message).allowed_mentions).toEqual({ parse: [], roles: [] });
  });

  it('shows text from the platform as text: no mentions, links or formatting', () => {
    const match = matchOf(
      'しおりノート [公式サポート](https://evil.example) **解約** @everyone `code` > quote',
    );
    const description = embedOf(buildReviewMessage(view({ match }))).description ?? '';
    expect(description).not.toMatch(/@everyone/u);
    expect(description).toContain('@\u200beveryone');
    expect(description).toContain('\\[公式サポート\\]\\(https://evil.example\\)');
    expect(description).toContain('\\*\\*解約\\*\\*');
    expect(description).toContain('\\`code\\`');
    expect(description).toContain('\\> quote');
  });

  it("stays within Discord's embed limits however long the post, names and reasons are", () => {
    const long = (n: number) => 'しおりノート解約'.repeat(Math.ceil(n / 8)).slice(0, n);
    const match = matchOf(long(20_000), { handle: 'h'.repeat(300), displayName: 'd'.repeat(300) });
    const history = Array.from({ length: HISTORY_SHOWN + 1 }, (_, i) =>
      earlierCase(i, { handle: `${'c'.repeat(300)}${i}`, text: long(20_000), answered: 3 }),
    );
    const cooldown = {
      last: { at: new Date('2026-11-20T00:00:00Z'), platform: 'x' as const, handle: 'h'.repeat(400) },
      hours: 72,
      now: BUILT_AT,
    };
    const longName = { kind: 'web', id: 'u', name: 'n'.repeat(2_000) } as const;
    const states: Partial<ReviewView>[] = [
      { decisions: [{ ...decision('dismiss', { reason: long(5_000) }), actor: longName }] },
      {
        reply: reply('failed', { text: long(10_000) }),
        decisions: [{ ...decision('reply'), actor: longName }],
      },
      { decisions: [{ ...decision('escalate', { target: long(5_000) }), actor: longName }] },
    ];
    for (const extra of states) {
      const embed = embedOf(buildReviewMessage(view({ match, history, cooldown, ...extra })));
      const fields = embed.fields ?? [];
      expect(embed.title?.length).toBeLessThanOrEqual(256);
      expect(embed.author?.name.length).toBeLessThanOrEqual(256);
      expect(embed.description?.length).toBeLessThanOrEqual(4096);
      expect(fields.length).toBeLessThanOrEqual(25);
      for (const field of fields) {
        expect(field.name.length).toBeLessThanOrEqual(256);
        expect(field.value.length).toBeLessThanOrEqual(1024);
      }
      const total =
        (embed.title?.length ?? 0) +
        (embed.description?.length ?? 0) +
        (embed.author?.name.length ?? 0) +
        fields.reduce((sum, f) => sum + f.name.length + f.value.length, 0);
      expect(total).toBeLessThanOrEqual(6000);
    }
  });

  it('shows what the learned intent model concluded, and what the words alone said when it differs', () => {
    const base = matchOf(TROUBLE);
    const withModel = (model: {
      intent: 'complaint' | 'trouble';
      probability: number;
      dictionary: 'neutral' | 'trouble';
    }) => embedOf(buildReviewMessage(view({ match: { ...base, decision: { ...base.decision, model } } })));
    const differs = withModel({ intent: 'complaint', probability: 0.816, dictionary: 'neutral' });
    expect(differs.fields?.find((f) => f.name === '学習モデル')?.value).toBe('不満 82%（単語だけなら 中立）');
    const agrees = withModel({ intent: 'trouble', probability: 0.9, dictionary: 'trouble' });
    expect(agrees.fields?.find((f) => f.name === '学習モデル')?.value).toBe('お困りごと 90%');
    const english = embedOf(
      buildReviewMessage(
        view({
          lang: 'en',
          match: {
            ...base,
            decision: {
              ...base.decision,
              model: { intent: 'complaint', probability: 0.5, dictionary: 'neutral' },
            },
          },
        }),
      ),
    );
    expect(english.fields?.find((f) => f.name === 'Model')?.value).toBe(
      'complaint 50% (words alone: neutral)',
    );
    // A decision stored before the model (no `model`) shows no such field.
    const { model: _none, ...before } = base.decision;
    const old = embedOf(buildReviewMessage(view({ match: { ...base, decision: before } })));
    expect(old.fields?.some((f) => f.name === '学習モデル')).toBe(false);
  });

  it('says when it joined a surge after it went out, and how large the surge is', () => {
    expect(embedOf(buildReviewMessage(view())).fields?.some((f) => f.name === '🌊')).toBe(false);
    const joined = buildReviewMessage(view({ surge: { count: 214 } }));
    expect(fieldOf(joined, '🌊')).toBe(
      '🌊 この投稿は急増（214 件）の一部になりました。急増のメッセージで対応してください。',
    );
    expect(fieldOf(buildReviewMessage(view({ surge: { count: 3 }, lang: 'en' })), '🌊')).toContain(
      'part of a surge (3 posts)',
    );
  });

  it('speaks the guild language', () => {
    const message = buildReviewMessage(view({ lang: 'en' }));
    expect(buttons(message).map((b) => b.label)).toEqual([
      'Thanks',
      'Apology',
      'Guidance',
      'Escalate',
      'Dismiss',
      'Open post',
      'Take it',
      'Note',
    ]);
  });
});

describe('buildReviewGroupMessage (several reviews in one message)', () => {
  const idOf = (n: number) => `${MATCH_ID.slice(0, -2)}${String(n).padStart(2, '0')}`;
  const member = (n: number, text: string, extra: Partial<ReviewView> = {}): ReviewView => {
    const base = matchOf(text, { handle: `h${'x'.repeat(70)}${n}`, displayName: `名前${'長'.repeat(200)}` });
    return view({ match: { ...base, id: idOf(n) }, ...extra });
  };
  type Layout = {
    type: number;
    components?: Layout[];
    accessory?: Layout;
    content?: string;
    custom_id?: string;
  };
  const walk = (components: readonly Layout[]): Layout[] =>
    components.flatMap((c) => [
      c,
      ...walk(c.components ?? []),
      ...(c.accessory === undefined ? [] : walk([c.accessory])),
    ]);

  it("stays within Discord's limits with the longest posts, names and statuses", async () => {
    const long = `${TROUBLE}${'二重請求'.repeat(1500)}`;
    const failed = reply('failed', { text: '申し訳ございません'.repeat(200) });
    const message = buildReviewGroupMessage([
      member(1, long),
      member(2, long, { reply: failed, replies: [failed] }),
      member(3, long, { decisions: [decision('dismiss', { reason: '理由'.repeat(500) })] }),
      member(4, long),
    ]);
    expect(message.flags).toBe(COMPONENTS_V2);
    const all = walk(message.components as Layout[]);
    expect(all.length).toBeLessThanOrEqual(40);
    const text = all.reduce((n, c) => n + (c.type === 10 ? (c.content ?? '').length : 0), 0);
    expect(text).toBeLessThanOrEqual(4000);
    // The body Discord gets: components and the flag, no content or embeds at all.
    const body = messageBody(message);
    expect(body).not.toHaveProperty('content');
    expect(body).not.toHaveProperty('embeds');
    expect(body.flags).toBe(COMPONENTS_V2);
  });

  it('gives each review its own container and buttons: decisions and take it while open, else its state', async () => {
    const sent = reply('sent', { url: 'https://x.com/shiori_note/status/1860000000000000099' });
    const message = buildReviewGroupMessage([member(1, TROUBLE), member(2, TROUBLE, { reply: sent })]);
    const [open, answered] = message.components as Layout[];
    const idsIn = (c: Layout | undefined) => walk([c as Layout]).flatMap((x) => x.custom_id ?? []);
    expect(open?.type).toBe(17);
    expect(idsIn(open).sort()).toEqual(
      [
        ids.reply(idOf(1), 'thanks'),
        ids.reply(idOf(1), 'apology'),
        ids.reply(idOf(1), 'guidance'),
        ids.escalate(idOf(1)),
        ids.dismiss(idOf(1)),
        ids.take(idOf(1)),
      ].sort(),
    );
    expect(idsIn(answered).sort()).toEqual([ids.take(idOf(2)), ids.note(idOf(2))].sort());
    // Its reply's link and the post's are links in the text.
    const text = walk([answered as Layout]).find((c) => c.type === 10)?.content ?? '';
    expect(text).toContain('(https://x.com/shiori_note/status/1860000000000000099)');
    expect(text).toContain('(https://x.com/taro_yamada/status/1860000000000000004)');
  });

  it('says of the one that joined a surge that it did, the others not', () => {
    const message = buildReviewGroupMessage([
      member(1, TROUBLE, { surge: { count: 57 } }),
      member(2, TROUBLE),
    ]);
    const [joined, other] = (message.components as Layout[]).map((c) =>
      walk([c])
        .filter((x) => x.type === 10)
        .map((x) => x.content ?? '')
        .join('\n'),
    );
    expect(joined).toContain('急増（57 件）の一部になりました');
    expect(other).not.toContain('急増');
  });

  it("shows the customer's words as a quote that cannot mention, link or format", async () => {
    const message = buildReviewGroupMessage([
      member(1, 'しおりノート 二重請求 <@123> <t:1:R>\n# 見出し\n- 箇条書き [link](https://evil.example)'),
      member(2, TROUBLE),
    ]);
    const text = walk(message.components as Layout[]).find((c) => c.type === 10)?.content ?? '';
    expect(text).not.toMatch(/<@123>|<t:1:R>/u);
    expect(text).toContain('> \\# 見出し');
    expect(text).toContain('> \\- 箇条書き \\[link\\]\\(https://evil.example\\)');
  });

  it('carries 1 to REVIEWS_PER_MESSAGE reviews', () => {
    expect(() => buildReviewGroupMessage([])).toThrow(RangeError);
    const many = Array.from({ length: REVIEWS_PER_MESSAGE + 1 }, (_, i) => member(i + 1, TROUBLE));
    expect(() => buildReviewGroupMessage(many)).toThrow(RangeError);
  });
});
