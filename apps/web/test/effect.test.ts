import type { MatchRecord } from '@kikimimi/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './harness.ts';
import { errorAt, setUpWorld, unescapeHtml, type World } from './inbox-fixtures.ts';

/*
 * The effect of our replies, customer voices and the digest in the console, over real PostgreSQL:
 *   praise (x): replied with template thanks-x, sent 10:00; the customer thanked at 10:20 and then wrote
 *               "=1+2 まだ直りません" at 10:40 (unhappy)
 *   trouble (mastodon): replied without a template, sent 11:00; never answered
 * → 2 replies sent, 1 reacted (50 %), 1 positive, median time to reaction 20 min.
 */

const NOW = new Date('2026-11-24T12:00:00.000Z');
const MIN = 60_000;
let t: TestApp;
let w: World;
const m: Record<string, MatchRecord> = {};

async function sent(match: MatchRecord, ours: string, at: Date, templateId?: string) {
  const actor = { kind: 'web' as const, id: 'u1', name: 'aiko' };
  const accountId = match.platform === 'x' ? w.account.id : w.mastodonAccount.id;
  const { reply } = await t.repos.replies.begin(
    match.id,
    { accountId, text: `返信 ${ours}`, idempotencyKey: `k-${ours}`, actor },
    at,
  );
  await t.repos.reviews.recordDecision(
    match.id,
    'reply',
    actor,
    { category: 'thanks', text: 'x', ...(templateId ? { templateId } : {}) },
    at,
  );
  await t.repos.replies.markSent(
    reply.id,
    { platformReplyId: ours, url: null },
    new Date(at.getTime() + MIN),
    {
      followUntil: new Date(NOW.getTime() + 7 * 86_400_000),
    },
  );
}

async function answer(
  match: MatchRecord,
  id: string,
  ours: string,
  text: string,
  kind: 'thanks' | 'unhappy',
  at: Date,
) {
  const recorded = await t.repos.cases.recordActivity(
    w.account.id,
    {
      kind: 'answer',
      post: { ...match.post, id, text, inReplyTo: ours, createdAt: at.toISOString() },
      reading: { kind, signals: [kind === 'thanks' ? 'ありがとう' : 'まだ直りません'], lang: 'ja' },
    },
    at,
    () => [],
  );
  if (recorded === null) throw new Error(`answer ${id} not recorded`);
}

beforeAll(async () => {
  t = await createTestApp({ now: () => NOW });
  w = await setUpWorld(t);
  m.praise = await w.match('ブクログ最高、ありがとう', {}, new Date('2026-11-24T09:00:00Z'));
  m.trouble = await w.match(
    'ブクログのアプリが落ちる',
    { platform: 'mastodon' },
    new Date('2026-11-24T09:00:00Z'),
  );
  await sent(m.praise, 'r-1', new Date('2026-11-24T09:59:00Z'), 'thanks-x');
  await answer(m.praise, 'a-1', 'r-1', 'ありがとうございます！', 'thanks', new Date('2026-11-24T10:20:00Z'));
  await answer(m.praise, 'a-2', 'r-1', '=1+2 まだ直りません', 'unhappy', new Date('2026-11-24T10:40:00Z'));
  await sent(m.trouble, 'r-2', new Date('2026-11-24T10:59:00Z'));
});
afterAll(async () => {
  await t?.close();
});

const figure = (page: string, id: string) =>
  unescapeHtml(page.match(new RegExp(`data-figure="${id}"[^]*?font-weight:700">([^<]*)<`, 'u'))?.[1] ?? '');

describe('the effect page', () => {
  it('shows the figures, by platform and template, and what customers said back', async () => {
    const res = await t.request('/effect?days=7&tz=UTC', { as: 'viewer' });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(figure(page, 'sent')).toBe('2');
    expect(figure(page, 'reaction-rate')).toBe('50.0%');
    expect(figure(page, 'positive-rate')).toBe('50.0%');
    expect(figure(page, 'time-to-reaction')).toBe('20 分');
    expect(page).toContain('お礼 (X)');
    expect(page).toMatch(/<strong data-kind="thanks">1<\/strong>/u);
    const words = page.slice(page.indexOf('id="answers-table"'));
    expect(unescapeHtml(words)).toContain('=1+2 まだ直りません');
    expect(words.indexOf('まだ直りません')).toBeLessThan(words.indexOf('ありがとうございます！'));
    expect(words).toContain(`/inbox/${m.praise?.id}`);
  });

  it('filters the answers by reading, and the figures by platform and template', async () => {
    const thanks = await (await t.request('/effect?days=7&tz=UTC&kind=thanks', { as: 'viewer' })).text();
    const rows = thanks.slice(thanks.indexOf('id="answers-table"'));
    expect(rows).toContain('ありがとうございます！');
    expect(rows).not.toContain('まだ直りません');
    const mastodon = await (
      await t.request('/effect?days=7&tz=UTC&platform=mastodon', { as: 'viewer' })
    ).text();
    expect(figure(mastodon, 'sent')).toBe('1');
    expect(figure(mastodon, 'reaction-rate')).toBe('0.0%');
    const none = await (await t.request('/effect?days=7&tz=UTC&template=-', { as: 'viewer' })).text();
    expect(figure(none, 'sent')).toBe('1');
  });

  it('says what is wrong with a filter', async () => {
    const res = await t.request('/effect?platform=myspace&kind=angry', { as: 'viewer' });
    expect(res.status).toBe(400);
    const page = await res.text();
    expect(errorAt(page, 'platform')).toBeTruthy();
    expect(errorAt(page, 'kind')).toBeTruthy();
    expect((await t.request('/effect')).status).toBe(303);
  });

  it('exports what customers said back as CSV, formulas neutralised', async () => {
    const res = await t.request('/effect.csv?days=7&tz=UTC', { as: 'viewer' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer());
    const lines = text.split('\r\n');
    expect(lines[0]).toBe(
      '\uFEFFanswered_at,platform,author_handle,answer_text,reading,signals,answer_url,match_id,reply_seq,reply_text,reply_sent_at,template_id',
    );
    expect(lines[1]).toContain(",'=1+2 まだ直りません,unhappy,");
    expect(lines[2]).toContain(',ありがとうございます！,thanks,');
    expect(lines[2]).toContain(',thanks-x');
    expect(lines).toHaveLength(4);
    expect((await t.request('/effect.csv?kind=angry', { as: 'viewer' })).status).toBe(400);
  });

  it('answers as JSON', async () => {
    const res = await t.request('/api/effect?days=7&tz=UTC', { as: 'viewer' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { totals: { sent: number; reactionRate: number } };
    expect(body.totals).toMatchObject({ sent: 2, reactionRate: 0.5 });
    const answers = (await (
      await t.request('/api/effect/answers?days=7&tz=UTC&limit=1', { as: 'viewer' })
    ).json()) as {
      items: Array<{ text: string }>;
      nextCursor: string | null;
    };
    expect(answers.items.map((a) => a.text)).toEqual(['=1+2 まだ直りません']);
    const next = (await (
      await t.request(`/api/effect/answers?days=7&tz=UTC&limit=1&cursor=${answers.nextCursor}`, {
        as: 'viewer',
      })
    ).json()) as { items: Array<{ text: string }> };
    expect(next.items.map((a) => a.text)).toEqual(['ありがとうございます！']);
  });
});

describe('customer voices', () => {
  it('the match page has the voice form for editors, with the escalation routes suggested', async () => {
    const page = await (await t.request(`/inbox/${m.trouble?.id}`, { as: 'editor' })).text();
    expect(page).toContain(`action="/inbox/${m.trouble?.id}/voice"`);
    expect(page).toContain('<option>billing</option>');
    const viewer = await (await t.request(`/inbox/${m.trouble?.id}`, { as: 'viewer' })).text();
    expect(viewer).not.toContain('/voice"');
  });

  it('an editor tags a case for a department; a viewer cannot; an empty department is refused', async () => {
    const viewer = await t.request(`/inbox/${m.trouble?.id}/voice`, {
      as: 'viewer',
      form: { department: 'アプリ開発' },
    });
    expect(viewer.status).toBe(403);
    const empty = await t.request(`/inbox/${m.trouble?.id}/voice`, {
      as: 'editor',
      form: { department: ' ' },
    });
    expect(empty.status).toBe(422);
    expect(errorAt(await empty.text(), 'department')).toBe('部署を入力してください。');
    const res = await t.request(`/inbox/${m.trouble?.id}/voice`, {
      as: 'editor',
      form: { department: 'アプリ開発', summary: 'アプリが落ちるという声' },
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/inbox/${m.trouble?.id}#voice`);
    const events = await t.repos.cases.events(m.trouble?.id as string);
    expect(events.filter((e) => e.kind === 'voice').map((e) => [e.detail.department, e.text])).toEqual([
      ['アプリ開発', 'アプリが落ちるという声'],
    ]);
    expect(t.enqueued.map((j) => j.queue)).toContain('caseUpdate');
    const api = await t.request(`/api/matches/${m.praise?.id}/voice`, {
      as: 'editor',
      json: { department: '営業' },
    });
    expect(api.status).toBe(200);
    expect(await api.json()).toMatchObject({
      ok: true,
      result: 'voice_tagged',
      voice: { department: '営業' },
    });
    const missing = await t.request(`/api/matches/${crypto.randomUUID()}/voice`, {
      as: 'editor',
      json: { department: '営業' },
    });
    expect(missing.status).toBe(404);
  });
});

describe('the digest', () => {
  const period = '?from=2026-11-24T00:00:00.000Z&to=2026-11-25T00:00:00.000Z';

  it('shows the period’s figures and voices', async () => {
    const res = await t.request(`/digest${period}`, { as: 'viewer' });
    expect(res.status).toBe(200);
    const page = unescapeHtml(await res.text());
    expect(figure(page, 'sent')).toBe('2');
    const voices = page.slice(page.indexOf('id="voices-table"'));
    expect(voices).toContain('アプリ開発');
    expect(voices).toContain('アプリが落ちるという声');
    expect(voices).toContain('営業');
    expect(voices).toContain('=1+2 まだ直りません');
    expect(page).toContain('Discord への投稿はオフです');
    const before = await (
      await t.request('/digest?from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z', { as: 'viewer' })
    ).text();
    expect(before).toContain('id="voices-empty"');
  });

  it('refuses a period it cannot show', async () => {
    const res = await t.request('/digest?from=2026-11-25T00:00:00Z&to=2026-11-24T00:00:00Z', {
      as: 'viewer',
    });
    expect(res.status).toBe(400);
    expect((await t.request('/digest.csv?from=yesterday&to=now', { as: 'viewer' })).status).toBe(400);
  });

  it('exports the figures and every voice as CSV', async () => {
    const res = await t.request(`/digest.csv${period}`, { as: 'viewer' });
    expect(res.status).toBe(200);
    const lines = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.arrayBuffer()).split('\r\n');
    expect(lines[0]).toBe('\uFEFFfigure,value');
    expect(lines).toContain('replies_sent,2');
    expect(lines).toContain('reaction_rate,0.5');
    expect(lines).toContain('answers_unhappy,1');
    const header = lines.indexOf(
      'tagged_at,department,summary,platform,author_handle,post_text,post_url,case_state,last_answer,last_answer_reading,tagged_by,match_id',
    );
    expect(header).toBeGreaterThan(0);
    expect(lines[header - 1]).toBe('');
    expect(lines.slice(header + 1).filter((l) => l !== '')).toHaveLength(2);
    expect(lines.find((l) => l.includes(',営業,'))).toContain(",'=1+2 まだ直りません,unhappy,");
  });

  it('answers as JSON', async () => {
    const body = (await (await t.request(`/api/digest${period}`, { as: 'viewer' })).json()) as {
      voices: Array<{ department: string }>;
      effect: { totals: { sent: number } };
    };
    expect(body.effect.totals.sent).toBe(2);
    expect(body.voices.map((v) => v.department).sort()).toEqual(['アプリ開発', '営業']);
  });
});

describe('the cost of following on X', () => {
  it('shows requests per followed case per day on the account', async () => {
    const page = unescapeHtml(await (await t.request('/platforms', { as: 'viewer' })).text());
    // One followed X case (praise), checked every 10 minutes (the default): 144 requests a day, 144 per case.
    expect(page).toContain('追跡中のケース 1 件: 10 分ごとに 1 リクエスト');
    expect(page).toContain('1 日 約 144 リクエスト、ケースあたり 1 日 144.00 リクエスト');
    const api = (await (await t.request('/api/accounts', { as: 'viewer' })).json()) as {
      accounts: Array<{ platform: string; usage: { follow: unknown } }>;
    };
    const x = api.accounts.find((a) => a.platform === 'x');
    expect(x?.usage.follow).toEqual({
      followedCases: 1,
      checkEveryMinutes: 10,
      requestsPerDay: 144,
      requestsPerCasePerDay: 144,
    });
  });
});

describe('the digest channel', () => {
  it('asks for a Discord channel for conversations.digest.channel while the digest is on', async () => {
    const before = await (await t.request('/discord?lang=en', { as: 'admin' })).text();
    expect(before).not.toContain('the digest of customer voices');
    const { config } = await t.repos.config.current();
    const saved = await t.repos.config.replace(
      {
        ...config,
        conversations: { ...config.conversations, digest: { every: 'weekly', channel: 'voices', hour: 8 } },
      },
      { kind: 'system', id: 'test', name: 'test' },
    );
    expect(saved.ok).toBe(true);
    const body = await (await t.request('/discord?lang=en', { as: 'admin' })).text();
    expect(body).toMatch(/Still needs a channel: [^<]*voices/u);
    expect(body).toContain('the digest of customer voices and effect (conversations.digest)');
    const digest = unescapeHtml(await (await t.request('/digest?lang=en', { as: 'viewer' })).text());
    expect(digest).toContain('Posted to Discord #voices every Monday at 8:00 (UTC).');
    // The latest weekly period: Monday 23 November 08:00 UTC back to the Monday before.
    expect(digest).toContain('value="2026-11-16T08:00:00.000Z"');
    expect(digest).toContain('value="2026-11-23T08:00:00.000Z"');
  });
});
