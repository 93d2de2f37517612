import type { MatchRecord } from '@kikimimi/db';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DashboardView } from '../src/routes/inbox/shared.ts';
import { createTestApp, type TestApp } from './harness.ts';
import { DISCORD_REVIEWER, makePost, setUpWorld, unescapeHtml, type World } from './inbox-fixtures.ts';

/*
 * A small known week, stored through the repositories, and the figures the dashboard must show:
 *   18 Nov: praise (x) replied after 30 min with template thanks-x and sent; trouble (mastodon)
 *           dismissed after 2 h
 *   20 Nov: billing (x, escalation rule) escalated by a reviewer after 1 h; own account (suppressed);
 *           question (x) replied after 4 h from Discord, no template
 *   24 Nov: complaint (x), not answered
 *   17 Nov 23:59 UTC (outside the UTC week, inside the Tokyo one): praise, dismissed after 10 h
 * → 6 matches, 1 suppressed, 4 of 5 answered (80 %), median (0.5, 1, 2, 4 h) = 1.5 h, 1 escalated.
 */

type DashboardJson = Omit<DashboardView, 'period'> & { period: Record<string, unknown> };

const NOW = new Date('2026-11-24T09:00:00.000Z');
const HOUR = 3_600_000;
let t: TestApp;
let w: World;
const m: Record<string, MatchRecord> = {};

async function respond(
  match: MatchRecord,
  kind: 'reply' | 'dismiss' | 'escalate',
  hours: number,
  detail: Record<string, unknown>,
) {
  const at = new Date(match.createdAt.getTime() + hours * HOUR);
  const actor = kind === 'escalate' ? DISCORD_REVIEWER : { kind: 'web' as const, id: 'u1', name: 'aiko' };
  if (kind === 'reply') {
    await t.repos.replies.begin(
      match.id,
      { accountId: w.account.id, text: String(detail.text), idempotencyKey: `kikimimi-${match.id}`, actor },
      at,
    );
  }
  await t.repos.reviews.recordDecision(match.id, kind, actor, detail, at);
  await t.repos.matches.setStatus(
    match.id,
    kind === 'reply' ? 'replied' : kind === 'dismiss' ? 'dismissed' : 'escalated',
    at,
  );
}

beforeAll(async () => {
  t = await createTestApp({ now: () => NOW });
  w = await setUpWorld(t);
  const store = async (iso: string, text: string, extra = {}) => {
    const at = new Date(iso);
    const [match] = await w.store([makePost(text, { createdAt: at.toISOString(), ...extra })], { at });
    if (!match) throw new Error(text);
    return match;
  };
  m.edge = await store('2026-11-17T23:59:00Z', 'ブクログ最高、ありがとう');
  m.praise = await store('2026-11-18T10:00:00Z', 'ブクログ最高、ありがとう');
  m.trouble = await store('2026-11-18T10:00:00Z', 'ブクログのアプリが落ちる、ログインできない', {
    platform: 'mastodon',
  });
  m.billing = await store('2026-11-20T00:00:00Z', 'ブクログで課金できない');
  m.own = await store('2026-11-20T00:00:00Z', 'ブクログ更新しました', {
    author: { id: 'own', handle: 'booklog_official', displayName: '', followers: 0 },
  });
  m.question = await store('2026-11-20T03:00:00Z', 'ブクログの使い方を教えてください？');
  m.recent = await store('2026-11-24T08:00:00Z', 'ブクログ遅すぎ、最悪');

  await respond(m.praise, 'reply', 0.5, { category: 'thanks', templateId: 'thanks-x', text: 'ありがとう' });
  const sent = await t.repos.replies.forMatch(m.praise.id);
  await t.repos.replies.markSent(
    sent?.id as string,
    { platformReplyId: '1', url: null },
    new Date('2026-11-18T10:31:00Z'),
  );
  await respond(m.trouble, 'dismiss', 2, { reason: '' });
  await respond(m.billing, 'escalate', 1, { target: 'billing' });
  await respond(m.question, 'reply', 4, { category: 'guidance', text: 'こちらへ' });
  await respond(m.edge, 'dismiss', 10, { reason: 'old' });
});

afterAll(async () => {
  await t?.close();
});

const intentCount = (list: MatchRecord[]) => {
  const out: Record<string, number> = {};
  for (const match of list) out[match.decision.intent] = (out[match.decision.intent] ?? 0) + 1;
  return out;
};

describe('GET /api/dashboard', () => {
  it('gives the figures of the last 7 days', async () => {
    const res = await t.request('/api/dashboard?days=7', { as: 'viewer' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as DashboardJson;
    expect(body.period).toEqual({
      from: '2026-11-18T00:00:00.000Z',
      to: NOW.toISOString(),
      days: 7,
      timeZone: 'UTC',
    });
    expect(body.totals).toEqual({
      matches: 6,
      suppressed: 1,
      unsuppressed: 5,
      responded: 4,
      responseRate: 0.8,
      medianFirstResponseSeconds: 5400,
      escalated: 1,
      escalationDecisions: 1,
      replies: 2,
    });
    expect(body.daily.map((d) => d.total)).toEqual([2, 0, 3, 0, 0, 0, 1]);
    expect(body.daily[0]).toEqual({
      day: '2026-11-18',
      total: 2,
      byPlatform: { x: 1, mastodon: 1 },
      byIntent: intentCount([m.praise, m.trouble] as MatchRecord[]),
    });
    expect(body.replies).toEqual([
      { category: 'guidance', templateId: null, count: 1, posted: 0 },
      { category: 'thanks', templateId: 'thanks-x', count: 1, posted: 1 },
    ]);
    expect(body.suppressedByReason).toEqual([{ reason: 'own_account', count: 1 }]);
  });

  it('counts days in another time zone', async () => {
    const body = (await (
      await t.request('/api/dashboard?days=7&tz=Asia/Tokyo', { as: 'viewer' })
    ).json()) as DashboardJson;
    expect(body.period.from).toBe('2026-11-17T15:00:00.000Z');
    expect(body.totals).toMatchObject({ matches: 7, responded: 5, medianFirstResponseSeconds: 7200 });
    expect(body.daily[0]).toMatchObject({ day: '2026-11-18', total: 3 });
  });

  it('refuses a bad period or time zone, and answers 401 signed out', async () => {
    const res = await t.request('/api/dashboard?days=0&tz=Mars/Base', { as: 'viewer' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { problems: Array<{ path: string }> }).problems.map((p) => p.path)).toEqual(
      ['days', 'tz'],
    );
    expect((await t.request('/api/dashboard')).status).toBe(401);
  });
});

describe('GET /dashboard', () => {
  it('shows the figures, the stacked bar charts (inline SVG with titles) and tables', async () => {
    const res = await t.request('/dashboard?days=7', { as: 'viewer' });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toMatch(/data-figure="matches">.*?>6</su);
    expect(page).toContain('80.0%');
    expect(page).toContain('1 時間 30 分');
    expect(page).toContain('抑制されていない 5 件のうち 4 件');
    // Two charts, each an accessible image with a title and a description, and a table fallback.
    expect(page.match(/<svg role="img" aria-labelledby="by-(platform|intent)-t by-\1-d"/gu)).toHaveLength(2);
    expect(page).toContain('<title id="by-platform-t">日別のマッチ数（プラットフォーム別）</title>');
    expect(page).toContain('<desc id="by-platform-d">7 日間で合計 6 件。最も多い日は 3 件。</desc>');
    expect(page).toContain('<title>2026-11-18 Mastodon: 1</title>');
    expect(page).toContain('<title>2026-11-20 X: 3</title>');
    expect(page).toMatch(
      // X, Mastodon, Bluesky, total.
      /<table id="by-platform-table">.*<th scope="row">2026-11-20<\/th><td>3<\/td><td>0<\/td><td>0<\/td><td>3<\/td>/su,
    );
    expect(page).toMatch(
      /<table id="replies-table">.*ご案内.*お礼.*<span title="thanks-x">お礼 \(X\)<\/span>/su,
    );
    expect(page).toMatch(/<table id="reasons-table">.*自社アカウント<\/td><td>1</su);
    expect(page).toContain('<option value="7" selected>');
  });

  it('speaks English, and keeps a period it does not offer in the form', async () => {
    const page = await (await t.request('/dashboard?days=14&tz=Asia/Tokyo&lang=en', { as: 'viewer' })).text();
    expect(page).toContain('<option value="14" selected>Last 14 days</option>');
    expect(page).toContain('<option value="Asia/Tokyo" selected>');
    expect(page).toContain('Median time to first response');
    expect(page).toContain('2 h 0 min');
  });

  it('falls back to 7 days for a period it cannot show, and sends signed-out visitors to the login', async () => {
    const page = await (await t.request('/dashboard?days=abc&tz=nowhere', { as: 'viewer' })).text();
    expect(page).toContain('<option value="7" selected>');
    expect(page).toContain('<option value="UTC" selected>');
    const res = await t.request('/dashboard');
    expect(res.status).toBe(303);
  });
});

describe('the figures are kept for a minute (DASHBOARD_CACHE_SECONDS)', () => {
  let ct: TestApp;
  let cw: World;
  let at = Date.parse('2026-11-24T09:00:00.000Z');
  const advance = (ms: number) => {
    at += ms;
  };
  const totals = async (query = '') => {
    const res = await ct.request(`/api/dashboard?days=7${query}`, { as: 'viewer' });
    expect(res.status).toBe(200);
    return (await res.json()) as DashboardJson & { asOf: string };
  };
  let seq = 0;
  const arrive = () => {
    seq += 1;
    return cw.match(
      'ブクログ最高、ありがとう',
      { id: `cache-${seq}`, createdAt: new Date(at - HOUR).toISOString() },
      new Date(at - 1_000),
    );
  };

  beforeAll(async () => {
    ct = await createTestApp({ now: () => new Date(at) });
    cw = await setUpWorld(ct);
    await arrive();
  });

  afterAll(async () => {
    await ct?.close();
  });

  it('says as of when, reuses the figures for a minute and recomputes on request', async () => {
    const first = await totals();
    expect(first.totals.matches).toBe(1);
    expect(first.asOf).toBe('2026-11-24T09:00:00.000Z');

    await arrive(); // stored by the worker: the console does not know
    advance(30_000);
    const cached = await totals();
    expect(cached.totals.matches).toBe(1);
    expect(cached.asOf).toBe(first.asOf);

    const page = await (await ct.request('/dashboard?days=7&tz=Asia/Tokyo', { as: 'viewer' })).text();
    expect(page).toContain('2026-11-24 18:00 時点の集計'); // computed now for this time zone
    expect(page).toContain('href="/dashboard?days=7&amp;tz=Asia%2FTokyo&amp;refresh=1"');
    const english = await (await ct.request('/dashboard?days=7&lang=en', { as: 'viewer' })).text();
    expect(english).toContain('as of 2026-11-24 09:00');
    expect(english).toMatch(/id="dashboard-refresh">Refresh</u);

    const refreshed = await totals('&refresh=1');
    expect(refreshed.totals.matches).toBe(2);
    expect(refreshed.asOf).toBe('2026-11-24T09:00:30.000Z');
  });

  it('shows older figures while it recomputes them in the background', async () => {
    const before = await totals();
    await arrive();
    advance(61_000);
    const stale = await totals();
    expect(stale.totals.matches).toBe(before.totals.matches);
    await vi.waitFor(async () => expect((await totals()).totals.matches).toBe(before.totals.matches + 1));
  });

  it('counts a decision made in this console at once', async () => {
    const before = await totals();
    const target = await arrive();
    advance(1_000);
    expect((await totals()).totals.matches).toBe(before.totals.matches); // cached
    const res = await ct.request(`/api/matches/${target.id}/dismiss`, { as: 'editor', json: { reason: '' } });
    expect(res.status).toBe(200);
    const after = await totals();
    expect(after.totals.matches).toBe(before.totals.matches + 1);
    expect(after.totals.responded).toBe(before.totals.responded + 1);
  });

  it('refuses a refresh that is neither true nor false', async () => {
    const res = await ct.request('/api/dashboard?days=7&refresh=soon', { as: 'viewer' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { problems: Array<{ path: string }> }).problems.map((p) => p.path)).toEqual(
      ['refresh'],
    );
    expect((await ct.request('/api/dashboard?days=7&refresh=0', { as: 'viewer' })).status).toBe(200);
  });
});

describe('surges on the dashboard', () => {
  /*
   * 22 Nov: two ordinary matches, one replied after an hour. 23 Nov 14:50 and 15:10 UTC (23:50 and
   * 00:10 in Tokyo): a surge of three (x, x, mastodon), one member replied, announced on X.
   * → 5 matches, 3 in one surge; outside it 1 of 2 answered (50 %); with it 2 of 5.
   */
  let st: TestApp;
  let sw: World;
  const SURGE = 'surge:99999999-8888-4777-8666-555555555555';
  const surgePath = `/surges/${encodeURIComponent(SURGE)}`;

  beforeAll(async () => {
    st = await createTestApp({ now: () => NOW });
    sw = await setUpWorld(st);
    const store = async (iso: string, text: string, extra = {}) => {
      const when = new Date(iso);
      const [match] = await sw.store([makePost(text, { createdAt: when.toISOString(), ...extra })], {
        at: when,
      });
      if (!match) throw new Error(text);
      return match;
    };
    const ordinary = await store('2026-11-22T10:00:00Z', 'ブクログ最高、ありがとう');
    await store('2026-11-22T11:00:00Z', 'ブクログの使い方を教えてください？');
    const members = [
      await store('2026-11-23T14:50:00Z', 'ブクログ 落ちてる？ログインできない'),
      await store('2026-11-23T15:00:00Z', 'ブクログ 落ちてる？ログインできない…'),
      await store('2026-11-23T15:10:00Z', 'ブクログ 落ちてる？ログインできない！', { platform: 'mastodon' }),
    ];
    await st.repos.surges.record(
      {
        id: SURGE,
        watchId: 'brand',
        status: 'open',
        detectedAt: Date.parse('2026-11-23T15:00:00Z'),
        firstAt: Date.parse('2026-11-23T14:50:00Z'),
        lastAt: Date.parse('2026-11-23T15:10:00Z'),
        count: 3,
        intents: { trouble: 3 },
        platforms: { x: 2, mastodon: 1 },
        examples: [{ id: members[0]?.id ?? '', text: 'ブクログ 落ちてる？ログインできない' }],
        perMinute: [],
      },
      members.map((x) => x.id),
    );
    const respondIn = async (match: MatchRecord, hours: number) => {
      const when = new Date(match.createdAt.getTime() + hours * HOUR);
      await st.repos.reviews.recordDecision(
        match.id,
        'reply',
        DISCORD_REVIEWER,
        { category: 'apology', text: 'ご不便をおかけしています' },
        when,
      );
      await st.repos.matches.setStatus(match.id, 'replied', when);
    };
    await respondIn(ordinary, 1);
    await respondIn(members[0] as MatchRecord, 0.5);
    const [announcement] = await st.repos.desk.transaction(async (tx) => {
      const made = await tx.insertAnnouncement(
        SURGE,
        {
          accountId: sw.account.id,
          platform: 'x',
          text: '障害が発生しています',
          idempotencyKey: 'announce-x',
          createdBy: DISCORD_REVIEWER,
        },
        NOW,
      );
      await tx.markSurgeHandled(SURGE, 'announced', NOW);
      return [made];
    });
    await st.repos.surges.markAnnouncementSent(
      announcement?.id ?? '',
      { platformPostId: '77', url: 'https://x.com/brand/status/77' },
      NOW,
    );
  });

  afterAll(async () => {
    await st?.close();
  });

  type SurgeJson = DashboardJson['surges'] & {
    list: Array<DashboardJson['surges']['list'][number] & { href: string; firstAt: string }>;
  };

  it('gives the surges of the period with their size and handling, and the figures outside them (JSON)', async () => {
    const body = (await (
      await st.request('/api/dashboard?days=7', { as: 'viewer' })
    ).json()) as DashboardJson;
    expect(body.totals).toMatchObject({ matches: 5, unsuppressed: 5, responded: 2, responseRate: 0.4 });
    const surges = body.surges as SurgeJson;
    expect(surges).toMatchObject({
      matches: 3,
      responded: 1,
      count: 1,
      outside: { unsuppressed: 2, responded: 1, responseRate: 0.5, medianFirstResponseSeconds: 3600 },
      more: false,
    });
    expect(surges.daily.filter((d) => d.matches > 0)).toEqual([{ day: '2026-11-23', matches: 3, surges: 1 }]);
    expect(surges.list).toHaveLength(1);
    expect(surges.list[0]).toMatchObject({
      id: SURGE,
      href: surgePath,
      count: 3,
      status: 'open',
      watchId: 'brand',
      platforms: { x: 2, mastodon: 1 },
      firstAt: '2026-11-23T14:50:00.000Z',
      handling: ['announced'],
      handled: {
        members: { total: 3, waiting: 2, replied: 1, dismissed: 0, escalated: 0, deleted: 0 },
        announcements: [{ platform: 'x', state: 'sent', url: 'https://x.com/brand/status/77' }],
      },
    });
  });

  it('marks the surge days on the charts in the time zone asked for', async () => {
    const tokyo = (await (
      await st.request('/api/dashboard?days=7&tz=Asia/Tokyo', { as: 'viewer' })
    ).json()) as DashboardJson;
    expect(tokyo.surges.daily.filter((d) => d.matches > 0)).toEqual([
      { day: '2026-11-23', matches: 1, surges: 1 },
      { day: '2026-11-24', matches: 2, surges: 1 },
    ]);
    const page = unescapeHtml(
      await (await st.request('/dashboard?days=7&tz=Asia/Tokyo', { as: 'viewer' })).text(),
    );
    // Both charts, each day with a surge marked, with its figures in the mark's title and the table.
    expect(page.match(/data-surge-day="2026-11-23"/gu)).toHaveLength(2);
    expect(page.match(/data-surge-day="2026-11-24"/gu)).toHaveLength(2);
    expect(page).not.toContain('data-surge-day="2026-11-22"');
    expect(page).toContain('<title>2026-11-24: 急増 1 件、急増の投稿 2 件</title>');
    expect(page).toContain('急増のあった日は 2 日。</desc>');
    expect(page).toMatch(
      /<th scope="col">うち急増<\/th><\/tr>.*<th scope="row">2026-11-24<\/th>(<td>\d+<\/td>)+<td>2<\/td><\/tr>/su,
    );
    // Times of the surge in the dashboard's zone.
    expect(page).toContain('2026-11-23 23:50 Asia/Tokyo');
  });

  it('explains the figures surges swell, and lists each surge with how it was handled (page)', async () => {
    const page = unescapeHtml(await (await st.request('/dashboard?days=7', { as: 'viewer' })).text());
    expect(page).toMatch(/data-figure="matches">.*?>5<.*?うち急増の投稿 3（急増 1 件）/su);
    expect(page).toContain('急増を除くと 50.0%（2 件のうち 1 件）');
    expect(page).toContain('急増を除くと 1 時間 0 分');
    const table = page.slice(page.indexOf('id="surges-table"'));
    expect(table).toContain(`<tr data-surge-id="${SURGE}">`);
    expect(table).toContain(`<a href="${surgePath}"`);
    expect(table).toContain('3 件');
    expect(table).toContain('X 2 · Mastodon 1');
    expect(table).toContain('<span data-announced>告知: X</span> <a href="https://x.com/brand/status/77"');
    expect(table).toContain('<span data-members>未対応 2 · 返信 1</span>');
    expect(table).toContain('継続中');
    expect(table).toContain('ブクログ');
    const english = unescapeHtml(
      await (await st.request('/dashboard?days=7&lang=en', { as: 'viewer' })).text(),
    );
    expect(english).toContain('3 of them in surges (surges: 1)');
    expect(english).toContain('Outside surges: 50.0% (1 of 2)');
    expect(english).toContain('<span data-announced>Announced on X</span>');
    expect(english).toContain('<span data-members>2 waiting · 1 replied</span>');
  });

  it('shows a decision on the surge taken in this console at once, past the cached figures', async () => {
    const before = (await (
      await st.request('/api/dashboard?days=7', { as: 'viewer' })
    ).json()) as DashboardJson;
    expect(before.surges.list[0]?.handled.members.waiting).toBe(2);
    const res = await st.request(`${surgePath}/dismiss`, { method: 'POST', as: 'editor', form: {} });
    expect(res.status).toBe(303);
    const after = (await (
      await st.request('/api/dashboard?days=7', { as: 'viewer' })
    ).json()) as DashboardJson;
    expect(after.surges.list[0]?.handled.members).toMatchObject({ waiting: 0, dismissed: 2, replied: 1 });
    expect(after.surges.list[0]?.handling).toEqual(['announced', 'dismissed']);
    const page = unescapeHtml(await (await st.request('/dashboard?days=7', { as: 'viewer' })).text());
    expect(page).toContain('<span data-members>未対応 0 · 返信 1 · 対応不要 2</span>');
  });
});
