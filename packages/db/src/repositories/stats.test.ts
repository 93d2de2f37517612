import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDb,
  DISCORD_ACTOR,
  decideAll,
  engineFor,
  makePost,
  type TestDb,
  WEB_ACTOR,
} from '../../test/support.ts';
import type { MatchRecord } from '../types.ts';
import { createStatsRepository, type StatsRepository } from './stats.ts';

let t: TestDb;
let stats: StatsRepository;
const engine = engineFor({
  watches: [{ id: 'brand', query: 'ブクログ OR booklog' }],
  escalation: [{ id: 'billing', when: { query: '課金' }, actions: { route: 'billing', priority: 'urgent' } }],
  suppression: { ownAccounts: [{ platform: 'x', handle: 'booklog_official' }], maxAgeHours: 0 },
});
const NOW = new Date('2026-11-24T09:00:00.000Z');
const HOUR = 3_600_000;
const at = (iso: string) => new Date(iso);
const later = (from: Date, hours: number) => new Date(from.getTime() + hours * HOUR);

let seq = 0;
async function store(
  iso: string,
  text: string,
  extra: Parameters<typeof makePost>[2] = {},
): Promise<MatchRecord> {
  const when = at(iso);
  const post = makePost(String(5000 + seq++), text, { createdAt: when.toISOString(), ...extra });
  const { newMatches } = await t.repos.ingest.storeBatch(
    null,
    decideAll(engine, [post], when),
    undefined,
    when,
  );
  const match = newMatches[0];
  if (match === undefined) throw new Error(`"${text}" did not match`);
  return match;
}

const m: Record<string, MatchRecord> = {};

beforeAll(async () => {
  t = await createTestDb('stats');
  stats = createStatsRepository(t.db);
  // Just before the 7-day period in UTC, inside it in Tokyo (08:59 JST on 18 November).
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
  // After `now`: not counted.
  m.future = await store('2026-11-24T09:30:00Z', 'ブクログ最高');

  const { repos } = t;
  // praise: replied after 30 minutes from the web with a template, and sent.
  const r1 = await repos.replies.begin(
    m.praise.id,
    { accountId: crypto.randomUUID(), text: 'ありがとう', idempotencyKey: 'k1', actor: WEB_ACTOR },
    later(m.praise.createdAt, 0.5),
  );
  await repos.reviews.recordDecision(
    m.praise.id,
    'reply',
    WEB_ACTOR,
    { category: 'thanks', templateId: 'thanks-default', text: 'ありがとう' },
    later(m.praise.createdAt, 0.5),
  );
  await repos.matches.setStatus(m.praise.id, 'replied', later(m.praise.createdAt, 0.5));
  await repos.replies.markSent(
    r1.reply.id,
    { platformReplyId: '1', url: null },
    later(m.praise.createdAt, 0.6),
  );
  // trouble: dismissed after 2 hours.
  await repos.reviews.recordDecision(
    m.trouble.id,
    'dismiss',
    DISCORD_ACTOR,
    { reason: '' },
    later(m.trouble.createdAt, 2),
  );
  await repos.matches.setStatus(m.trouble.id, 'dismissed', later(m.trouble.createdAt, 2));
  // billing: escalated by a reviewer after 1 hour (the rule had flagged it already).
  await repos.reviews.recordDecision(
    m.billing.id,
    'escalate',
    DISCORD_ACTOR,
    { target: 'billing' },
    later(m.billing.createdAt, 1),
  );
  await repos.matches.setStatus(m.billing.id, 'escalated', later(m.billing.createdAt, 1));
  // question: replied from Discord after 4 hours (no template recorded), not sent yet.
  await repos.replies.begin(
    m.question.id,
    {
      accountId: crypto.randomUUID(),
      text: 'こちらをご覧ください',
      idempotencyKey: 'k2',
      actor: DISCORD_ACTOR,
    },
    later(m.question.createdAt, 4),
  );
  await repos.reviews.recordDecision(
    m.question.id,
    'reply',
    DISCORD_ACTOR,
    { category: 'guidance', text: '…' },
    later(m.question.createdAt, 4),
  );
  await repos.matches.setStatus(m.question.id, 'replied', later(m.question.createdAt, 4));
  // The edge match (outside the UTC period) answered after 10 hours.
  await repos.reviews.recordDecision(
    m.edge.id,
    'dismiss',
    WEB_ACTOR,
    { reason: 'x' },
    later(m.edge.createdAt, 10),
  );
  await repos.matches.setStatus(m.edge.id, 'dismissed', later(m.edge.createdAt, 10));
});

afterAll(async () => {
  await t?.drop();
});

describe('stats.dashboard', () => {
  it('counts the matches of the last 7 UTC days, day by day, by platform and by intent', async () => {
    const s = await stats.dashboard({ now: NOW, days: 7 });
    expect(s.period.from.toISOString()).toBe('2026-11-18T00:00:00.000Z');
    expect(s.period.to).toEqual(NOW);
    expect(s.daily.map((d) => d.day)).toEqual([
      '2026-11-18',
      '2026-11-19',
      '2026-11-20',
      '2026-11-21',
      '2026-11-22',
      '2026-11-23',
      '2026-11-24',
    ]);
    expect(s.daily.map((d) => d.total)).toEqual([2, 0, 3, 0, 0, 0, 1]);
    expect(s.daily[0]?.byPlatform).toEqual({ x: 1, mastodon: 1 });
    expect(s.daily[2]?.byPlatform).toEqual({ x: 3 });
    expect(s.daily[1]?.byPlatform).toEqual({});
    const intents = (ids: MatchRecord[]) => {
      const out: Record<string, number> = {};
      for (const match of ids) out[match.decision.intent] = (out[match.decision.intent] ?? 0) + 1;
      return out;
    };
    expect(s.daily[0]?.byIntent).toEqual(intents([m.praise, m.trouble] as MatchRecord[]));
    expect(s.daily[2]?.byIntent).toEqual(intents([m.billing, m.own, m.question] as MatchRecord[]));
    expect(s.daily[6]?.byIntent).toEqual(intents([m.recent] as MatchRecord[]));
  });

  it('computes the response rate, the median time to first response and the escalations', async () => {
    const { totals } = await stats.dashboard({ now: NOW, days: 7 });
    expect(totals).toEqual({
      matches: 6,
      suppressed: 1,
      unsuppressed: 5,
      responded: 4,
      responseRate: 0.8,
      // 0.5 h, 1 h, 2 h, 4 h → (1 h + 2 h) / 2
      medianFirstResponseSeconds: 5400,
      escalated: 1,
      escalationDecisions: 1,
      replies: 2,
    });
  });

  it('splits replies by category and template, and suppressed matches by reason', async () => {
    const s = await stats.dashboard({ now: NOW, days: 7 });
    expect(s.replies).toEqual([
      { category: 'guidance', templateId: null, count: 1, posted: 0 },
      { category: 'thanks', templateId: 'thanks-default', count: 1, posted: 1 },
    ]);
    expect(s.suppressedByReason).toEqual([{ reason: 'own_account', count: 1 }]);
  });

  it('counts days in the given time zone', async () => {
    const s = await stats.dashboard({ now: NOW, days: 7, timeZone: 'Asia/Tokyo' });
    expect(s.period.from.toISOString()).toBe('2026-11-17T15:00:00.000Z');
    // The edge match (23:59 UTC on the 17th) is 08:59 on the 18th in Tokyo.
    expect(s.daily[0]).toMatchObject({ day: '2026-11-18', total: 3 });
    expect(s.totals.matches).toBe(7);
    expect(s.totals.responded).toBe(5);
    // 0.5, 1, 2, 4, 10 hours
    expect(s.totals.medianFirstResponseSeconds).toBe(2 * 3600);
  });

  it('gives empty figures for a period without matches', async () => {
    const s = await stats.dashboard({ now: new Date('2020-01-01T00:00:00Z'), days: 30 });
    expect(s.daily).toHaveLength(30);
    expect(s.daily.every((d) => d.total === 0)).toBe(true);
    expect(s.totals.responseRate).toBeNull();
    expect(s.totals.medianFirstResponseSeconds).toBeNull();
    expect(s.replies).toEqual([]);
  });

  it('refuses a bad period or time zone', async () => {
    await expect(stats.dashboard({ now: NOW, days: 0 })).rejects.toThrow(/days/u);
    await expect(stats.dashboard({ now: NOW, days: 7, timeZone: 'Mars/Olympus' })).rejects.toThrow(
      /time zone/u,
    );
  });
});

describe('stats.dashboard: surges', () => {
  const SURGE = 'surge:dddddddd-eeee-4fff-8000-111111111111';
  beforeAll(async () => {
    // The edge match (outside the UTC week, inside the Tokyo one), billing (escalated) and question
    // (replied) are one surge.
    const members = [m.edge, m.billing, m.question] as MatchRecord[];
    await t.repos.surges.record(
      {
        id: SURGE,
        watchId: 'brand',
        status: 'open',
        detectedAt: at('2026-11-20T00:10:00Z').getTime(),
        firstAt: at('2026-11-17T23:59:00Z').getTime(),
        lastAt: at('2026-11-20T03:00:00Z').getTime(),
        count: 3,
        intents: { trouble: 3 },
        platforms: { x: 3 },
        examples: [{ id: m.billing?.id ?? '', text: 'ブクログで課金できない' }],
        perMinute: [],
      },
      members.map((x) => x.id),
    );
  });

  it('says how many matches were in surges, day by day, and the figures outside them', async () => {
    const s = await stats.dashboard({ now: NOW, days: 7 });
    // The totals are unchanged: surges are explained beside them.
    expect(s.totals).toMatchObject({ matches: 6, responded: 4, responseRate: 0.8 });
    expect(s.surges).toMatchObject({
      matches: 2,
      responded: 2,
      count: 1,
      // praise (0.5 h) and trouble (2 h) answered, recent not: 2 of 3.
      outside: { unsuppressed: 3, responded: 2, responseRate: 2 / 3, medianFirstResponseSeconds: 4500 },
      more: false,
    });
    expect(s.surges.daily.map((d) => [d.day, d.matches, d.surges])).toEqual([
      ['2026-11-18', 0, 0],
      ['2026-11-19', 0, 0],
      ['2026-11-20', 2, 1],
      ['2026-11-21', 0, 0],
      ['2026-11-22', 0, 0],
      ['2026-11-23', 0, 0],
      ['2026-11-24', 0, 0],
    ]);
    expect(s.surges.list.map((x) => [x.id, x.count, x.handled.members])).toEqual([
      [SURGE, 3, { total: 3, waiting: 0, replied: 1, dismissed: 1, escalated: 1, deleted: 0 }],
    ]);
  });

  it('counts the surge days in the given time zone', async () => {
    const s = await stats.dashboard({ now: NOW, days: 7, timeZone: 'Asia/Tokyo' });
    expect(s.surges.matches).toBe(3);
    expect(s.surges.daily.slice(0, 3).map((d) => d.matches)).toEqual([1, 0, 2]);
  });

  it('has no surges in a quiet period', async () => {
    const s = await stats.dashboard({ now: new Date('2020-01-01T00:00:00Z'), days: 30 });
    expect(s.surges).toMatchObject({ matches: 0, count: 0, list: [], more: false });
    expect(s.surges.outside.responseRate).toBeNull();
    expect(s.surges.daily.every((d) => d.matches === 0)).toBe(true);
  });
});

// A measurement, not a test: seeding 100,000 matches and timing queries on a shared 2-core machine
// belongs to a benchmark run (KIKIMIMI_PERF=1 npx vitest run src/repositories/stats.test.ts), not to npm test.
describe.skipIf(process.env.KIKIMIMI_PERF !== '1')(
  'stats.dashboard with 100,000 matches (timings printed, not asserted)',
  () => {
    let big: TestDb;
    beforeAll(async () => {
      big = await createTestDb('stats_perf');
      const started = performance.now();
      // 100,000 matches over 90 days; 1 in 7 suppressed, about half answered (by reply), 5 % escalated.
      // Rows as wide as real ones: the decision jsonb of a real match (signals, suggested reply).
      const decision = JSON.stringify(
        engine.decide(makePost('1', 'ブクログ最高、ありがとう、ほんとに便利で助かってます'), { now: NOW }),
      );
      await big.pool.query(`
      INSERT INTO posts (platform, post_id, url, author_id, text, created_at, post)
      SELECT CASE WHEN i % 3 = 0 THEN 'mastodon' ELSE 'x' END, i::text, 'https://x.com/a/status/' || i,
             'a' || (i % 5000), 'post ' || i, '2026-11-24T00:00:00Z'::timestamptz - (i * interval '77 seconds'), '{}'
      FROM generate_series(1, 100000) AS i`);
      await big.pool.query(
        `
      INSERT INTO matches (platform, post_id, watches, intent, category, priority, review_channel, decision,
                           suppressed, suppression_reasons, escalated, status, created_at, first_response_at)
      SELECT CASE WHEN i % 3 = 0 THEN 'mastodon' ELSE 'x' END, i::text, ARRAY['brand'],
             (ARRAY['praise','complaint','trouble','question','neutral'])[1 + i % 5], 'thanks', 'normal', 'review', $1::jsonb,
             i % 7 = 0, CASE WHEN i % 7 = 0 THEN ARRAY['author_cooldown'] ELSE '{}' END, i % 20 = 0,
             CASE WHEN i % 7 = 0 THEN 'suppressed' WHEN i % 5 < 3 THEN 'replied' ELSE 'new' END,
             '2026-11-24T00:00:00Z'::timestamptz - (i * interval '77 seconds'),
             CASE WHEN i % 7 <> 0 AND i % 5 < 3
                  THEN '2026-11-24T00:00:00Z'::timestamptz - (i * interval '77 seconds') + ((i % 240) * interval '1 minute')
             END
      FROM generate_series(1, 100000) AS i`,
        [decision],
      );
      await big.pool.query(`
      INSERT INTO review_decisions (match_id, kind, actor, detail, at)
      SELECT id, 'reply', '{"kind":"web","id":"u","name":"u"}',
             jsonb_build_object('category', (ARRAY['thanks','apology','guidance'])[1 + (hashtext(id::text) & 3) % 3],
                                'templateId', 't' || ((hashtext(id::text) & 7) % 4),
                                'text', 'ご利用いただきありがとうございます！これからもよろしくお願いします。'), first_response_at
      FROM matches WHERE status = 'replied'`);
      await big.pool.query(`
      INSERT INTO replies (match_id, account_id, text, idempotency_key, state, created_by)
      SELECT id, gen_random_uuid(), 'thanks', 'k-' || id, CASE WHEN hashtext(id::text) % 2 = 0 THEN 'sent' ELSE 'pending' END,
             '{"kind":"web","id":"u","name":"u"}'
      FROM matches WHERE status = 'replied'`);
      await big.pool.query('VACUUM ANALYZE');
      console.log(`stats perf: 100,000 matches generated in ${Math.round(performance.now() - started)} ms`);
    }, 120_000);
    afterAll(async () => {
      await big?.drop();
    });

    const measure = async (days: number, label: string) => {
      const repo = createStatsRepository(big.db);
      const now = new Date('2026-11-24T00:00:00Z');
      await repo.dashboard({ now, days }); // warm-up
      const times: number[] = [];
      let last: Awaited<ReturnType<StatsRepository['dashboard']>> | undefined;
      for (let i = 0; i < 30; i++) {
        const start = performance.now();
        last = await repo.dashboard({ now, days, timeZone: 'Asia/Tokyo' });
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      const pct = (p: number) =>
        (times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0).toFixed(1);
      console.log(
        `stats perf (${label}): ${days} days, ${last?.totals.matches} matches in the period: p50 ${pct(0.5)} ms, p95 ${pct(0.95)} ms, max ${pct(1)} ms`,
      );
      return last;
    };

    it.each([7, 30, 90])('last %i days, existing indexes', async (days) => {
      const last = await measure(days, 'existing indexes');
      expect(last?.totals.matches).toBeGreaterThan(0);
    });

    it.each([7, 30, 90])('last %i days, with the suggested covering indexes', async (days) => {
      await big.pool.query(`
      CREATE INDEX IF NOT EXISTS matches_created_stats_idx ON matches (created_at)
        INCLUDE (platform, intent, suppressed, escalated, first_response_at, suppression_reasons, surge_id)`);
      await big.pool.query(
        'CREATE INDEX IF NOT EXISTS review_decisions_kind_at_idx ON review_decisions (kind, at)',
      );
      await big.pool.query('VACUUM ANALYZE matches, review_decisions');
      const last = await measure(days, 'suggested indexes');
      expect(last?.totals.matches).toBeGreaterThan(0);
    });
  },
);
