/**
 * The web console's inbox and dashboard against issue 5's target, on this machine: with 100,000
 * stored matches, p95 server time < 50 ms at 100 requests/s, the load coming from a second process on
 * loopback. Figures are printed with PASS/MISS, never asserted (a noisy shared machine is no place for
 * timing assertions). About 3½ minutes.
 *
 *   node apps/web/bench/console-bench.ts [--matches 100000] [--rate 100] [--seconds 20]
 *     [--connections 16] [--days 90] [--cache-seconds 5] [--profile what-if|all|none] [--seed 42]
 *     [--plans] [--old-indexes] [--seed-only] [--keep-schema]
 *
 * 1. Seed: a fresh PostgreSQL schema (migrations), 100,000 matches spread over 90 days (more by day
 *    than by night, Japan time; growing volume), both platforms, every intent: posts written by the
 *    sandbox's post generator about the demo brand, decided by the rules engine with the example
 *    configuration (docs/examples/shiori-note.json), some with a recent contact (author cooldown) or a
 *    reached daily cap, so that suppression is the engine's own. The posts the rules did not match are
 *    stored too, as ingest stores every post. Older matches were mostly answered: reply / dismissal /
 *    escalation / manual reply decisions by Discord and web reviewers, their replies (sent, failed,
 *    manual), and first-response times. Stored oldest first with bulk INSERT … SELECT FROM
 *    json_to_recordset in the shapes of ingest.storeBatch (checked first: the same 50 matches stored
 *    both ways give identical rows), secondary indexes rebuilt from their own definitions afterwards,
 *    then VACUUM ANALYZE (what autovacuum does to an insert-only table). An admin, a session (cookie)
 *    and an API token are created through the repositories.
 * 2. Load: the production `startWeb` in a child process (console-server.ts), its dashboard cache set to
 *    --cache-seconds (production default 60 s; 5 s here so that every run includes several background
 *    refreshes of the figures under load); autocannon in this
 *    process sends requests at a fixed rate — request i at start + i/rate, on one of the connections,
 *    or as soon as one is free (autocannon's own --overallRate sends each connection's quota in a burst
 *    at the start of every second, which measures bursts, not a rate) — to /healthz (the baseline),
 *    then to the five console requests, each for --seconds, after 3 s of the same load on each. Reported per
 *    endpoint: the server time (in the child, from the HTTP 'request' event to the response's
 *    'finish'; and the app's own histogram, share ≤ 50 ms), the client latency (autocannon: send →
 *    response) and the latency from the planned send time (counts the wait when every connection is
 *    busy), achieved rate, CPU of the console per request, and who kept the cores busy (console,
 *    PostgreSQL, load generator, other processes: the machine is shared). PASS needs server p95
 *    < 50 ms, ≥ 97 % of the rate and no errors.
 * 3. Why: for each miss, where the CPU went; EXPLAIN (ANALYZE, BUFFERS) of the very statements each
 *    endpoint runs (captured from the repositories), the inbox's also with the other NULLS order in
 *    their ORDER BY (before migration 0003 the keyset indexes were DESC NULLS LAST, which a plain
 *    ORDER BY … DESC cannot use: every page sorted the whole table; --old-indexes measures that).
 * 4. What-if, for the endpoints that missed: the proposed fixes applied to this schema and this child
 *    only (the keyset indexes of 0003, if missing; the index suggested in packages/db's
 *    repositories/stats.ts, EXPLAIN only),
 *    EXPLAIN again and a shorter run of each, under a CPU profile of the console (--profile all:
 *    every endpoint profiled after part 2 as well).
 * 5. Baseline: the two dashboard requests against a second console without the cache
 *    (DASHBOARD_CACHE_SECONDS=0, every request computes the figures), for the ratio.
 *
 * Everything it creates (schema, Redis keys, child process) is removed at the end, also on failure or
 * Ctrl-C. Needs PostgreSQL and Redis (KIKIMIMI_BENCH_DATABASE_URL, KIKIMIMI_BENCH_REDIS_URL).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Actor, createDb, createRepositories, type DbHandle, migrate } from '@kikimimi/db';
import { type Decision, loadConfig, type Post, type RulesEngine } from '@kikimimi/rules';
import { createPostGenerator, demoBrand, type GeneratedPost } from '@kikimimi/sandbox';
import autocannon, { type Client, type Instance } from 'autocannon';
import { Redis } from 'ioredis';
import type pg from 'pg';
import type { BenchRequest, BucketCounts, CollectReply, ProfileReply } from './console-server.ts';

const { values } = parseArgs({
  options: {
    matches: { type: 'string', default: '100000' },
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '20' },
    connections: { type: 'string', default: '16' },
    days: { type: 'string', default: '90' },
    'cache-seconds': { type: 'string', default: '5' },
    profile: { type: 'string', default: 'what-if' },
    seed: { type: 'string', default: '42' },
    plans: { type: 'boolean', default: false },
    /** Leave the seeded schema for manual EXPLAINs (its name is printed; drop it yourself). */
    'keep-schema': { type: 'boolean', default: false },
    'seed-only': { type: 'boolean', default: false },
    /**
     * Recreate the keyset indexes as they were before migration 0003 (DESC NULLS LAST: an order the
     * repositories' ORDER BY … DESC cannot use), to measure the difference.
     */
    'old-indexes': { type: 'boolean', default: false },
  },
});
const MATCHES = Number(values.matches);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const CONNECTIONS = Number(values.connections);
const DAYS = Number(values.days);
const PROFILE = values.profile;
const SEED = Number(values.seed);
const TARGET_P95_MS = 50;
const PROFILE_SECONDS = 3;
/** What-if runs (after the measured ones, only for endpoints that missed). */
const WHAT_IF_SECONDS = Math.min(SECONDS, 8);
/** Unmeasured load on each endpoint before the measured runs. */
const WARM_UP_SECONDS = 3;
/** After a run's last planned request, how long answers are waited for. */
const DRAIN_MS = 5_000;
/** The console's DASHBOARD_CACHE_SECONDS during the measured runs. */
const CACHE_SECONDS = Number(values['cache-seconds']);

const DATABASE_URL = process.env.KIKIMIMI_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.KIKIMIMI_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const EXAMPLE_CONFIG = fileURLToPath(new URL('../../../docs/examples/shiori-note.json', import.meta.url));
const SERVER_SCRIPT = fileURLToPath(new URL('./console-server.ts', import.meta.url));

const SYSTEM: Actor = { kind: 'system', id: 'bench', name: 'console-bench' };
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// ---------------------------------------------------------------------------------------------------
// Clean-up: everything made is registered here and undone in reverse order, whatever happens.

const cleanups: Array<{ what: string; run: () => Promise<unknown> }> = [];
const defer = (what: string, run: () => Promise<unknown>) => cleanups.push({ what, run });
let cleaning: Promise<void> | null = null;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    const started = performance.now();
    const done: string[] = [];
    for (let next = cleanups.pop(); next !== undefined; next = cleanups.pop()) {
      const step = performance.now();
      try {
        await next.run();
        done.push(`${next.what} (${fmt((performance.now() - step) / 1000, 1)} s)`);
      } catch (error) {
        console.error(`clean-up of ${next.what} failed: ${String(error)}`);
      }
    }
    console.log(`   cleaned up in ${fmt((performance.now() - started) / 1000, 1)} s: ${done.join(', ')}`);
  })();
  return cleaning;
}
let child: ChildProcess | null = null;
process.once('exit', () => {
  if (child !== null && child.exitCode === null) child.kill('SIGKILL');
});
process.on('unhandledRejection', (error) => {
  console.error('unhandled rejection:', error);
  process.exitCode = 1;
  cleanUp().finally(() => process.exit(1));
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up…`);
    cleanUp().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------------
// Helpers.

/** Marks a promise awaited later as handled, so that its failure meanwhile does not end the process. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : '—';
const pad = (text: string, width: number) => text.padStart(width);
const padEnd = (text: string, width: number) => text.padEnd(width);

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}
interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}
function summary(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}
const lat = (s: Summary) => `${fmt(s.p50, 1)} / ${fmt(s.p95, 1)} / ${fmt(s.p99, 1)}`;

/** A small seeded PRNG (mulberry32): the same seed gives the same data set. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(weights: ReadonlyArray<readonly [T, number]>): T => {
    const total = weights.reduce((sum, [, w]) => sum + w, 0);
    let r = next() * total;
    for (const [value, w] of weights) {
      r -= w;
      if (r < 0) return value;
    }
    return (weights.at(-1) as readonly [T, number])[0];
  };
  /** Log-normal with this median. */
  const logNormal = (median: number, sigma: number) => {
    const u = Math.max(next(), 1e-12);
    const v = next();
    return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  };
  return { next, pick, logNormal };
}

/** Jiffies per second (getconf CLK_TCK; 100 on Linux). */
const HZ = 100;

/**
 * CPU time in ms: the whole machine (all cores, /proc/stat), every PostgreSQL process (with the
 * children it reaped: parallel workers), and this process (the load generator).
 */
function cpuNow(): { busy: number; postgres: number; bench: number } {
  let busy = 0;
  let postgres = 0;
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const fields = line.trim().split(/\s+/u).slice(1).map(Number);
    busy = fields.reduce((a, b) => a + b, 0) - (fields[3] ?? 0) - (fields[4] ?? 0);
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/u.test(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
        const f = stat
          .slice(close + 2)
          .split(' ')
          .map(Number);
        postgres += (f[11] ?? 0) + (f[12] ?? 0) + (f[13] ?? 0) + (f[14] ?? 0);
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    // not Linux: no breakdown
  }
  const own = process.cpuUsage();
  return {
    busy: (busy * 1000) / HZ,
    postgres: (postgres * 1000) / HZ,
    bench: (own.user + own.system) / 1000,
  };
}

/** Load average and cores, for the record: the machine is shared. */
const loadAverage = () =>
  os
    .loadavg()
    .map((n) => fmt(n, 2))
    .join(' ');

// ---------------------------------------------------------------------------------------------------
// 1. Seed.

type Matched = Extract<Decision, { matched: true }>;
type Status = 'new' | 'suppressed' | 'replied' | 'manual_pending' | 'escalated' | 'dismissed';

interface SeedItem {
  readonly post: Post;
  readonly decision: Decision;
  /** When it was fetched (= the match's created_at). */
  readonly at: number;
}

interface MatchPlan {
  readonly id: string;
  readonly status: Status;
  readonly firstResponseAt: number | null;
  readonly escalated: boolean;
  readonly decisions: ReadonlyArray<{
    kind: string;
    actor: Actor;
    detail: Record<string, unknown>;
    at: number;
  }>;
  readonly reply: {
    readonly text: string;
    readonly state: 'sent' | 'failed' | 'manual_pending' | 'manual_done';
    readonly at: number;
    readonly actor: Actor;
  } | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A row of `posts` as ingest.storeBatch writes it. */
function postRow(item: SeedItem, accountId: string | null) {
  const { post } = item;
  return {
    platform: post.platform,
    post_id: post.id,
    account_id: accountId,
    url: post.url,
    author_id: post.author.id,
    text: post.text,
    lang: post.lang ?? null,
    created_at: post.createdAt,
    post,
    fetched_at: iso(item.at),
  };
}

/** A row of `matches` as ingest.storeBatch writes it, with the review's outcome so far. */
function matchRow(item: SeedItem & { decision: Matched }, accountId: string | null, plan: MatchPlan) {
  const { decision } = item;
  return {
    id: plan.id,
    platform: item.post.platform,
    post_id: item.post.id,
    account_id: accountId,
    watches: decision.watches,
    intent: decision.intent,
    category: decision.category,
    priority: decision.route.priority,
    review_channel: decision.route.reviewChannel,
    decision,
    suppressed: decision.suppressed,
    reasons: decision.suppression.reasons,
    escalated: plan.escalated,
    status: plan.status,
    created_at: iso(item.at),
    first_response_at: plan.firstResponseAt === null ? null : iso(plan.firstResponseAt),
  };
}

interface Tables {
  posts: ReturnType<typeof postRow>[];
  authors: Map<
    string,
    { platform: string; author_id: string; handle: string; display_name: string; followers: number | null }
  >;
  matches: ReturnType<typeof matchRow>[];
  decisions: Array<{
    match_id: string;
    kind: string;
    actor: Actor;
    detail: Record<string, unknown>;
    at: string;
  }>;
  replies: Array<Record<string, unknown>>;
}
const emptyTables = (): Tables => ({
  posts: [],
  authors: new Map(),
  matches: [],
  decisions: [],
  replies: [],
});

async function insertTables(pool: pg.Pool, t: Tables): Promise<void> {
  const json = (rows: unknown) => JSON.stringify(rows);
  if (t.authors.size > 0) {
    await pool.query(
      `INSERT INTO authors (platform, author_id, handle, display_name, followers, updated_at)
       SELECT platform, author_id, handle, display_name, followers, now()
       FROM json_to_recordset($1::json)
         AS x(platform text, author_id text, handle text, display_name text, followers int)
       ON CONFLICT (platform, author_id) DO UPDATE SET handle = excluded.handle,
         display_name = excluded.display_name, followers = excluded.followers, updated_at = excluded.updated_at
       WHERE (authors.handle, authors.display_name, authors.followers)
         IS DISTINCT FROM (excluded.handle, excluded.display_name, excluded.followers)`,
      // In key order, so that two chunks stored at once lock shared authors in the same order.
      [json([...t.authors.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, row]) => row))],
    );
  }
  if (t.posts.length > 0) {
    await pool.query(
      `INSERT INTO posts (platform, post_id, account_id, url, author_id, text, lang, created_at, post, fetched_at)
       SELECT platform, post_id, account_id, url, author_id, text, lang, created_at, post, fetched_at
       FROM json_to_recordset($1::json)
         AS x(platform text, post_id text, account_id uuid, url text, author_id text, text text, lang text,
              created_at timestamptz, post jsonb, fetched_at timestamptz)`,
      [json(t.posts)],
    );
  }
  if (t.matches.length > 0) {
    await pool.query(
      `INSERT INTO matches (id, platform, post_id, account_id, watches, intent, category, priority,
         review_channel, decision, suppressed, suppression_reasons, escalated, status, created_at, first_response_at)
       SELECT id, platform, post_id, account_id, watches, intent, category, priority, review_channel, decision,
         suppressed, reasons, escalated, status, created_at, first_response_at
       FROM json_to_recordset($1::json)
         AS x(id uuid, platform text, post_id text, account_id uuid, watches text[], intent text, category text,
              priority text, review_channel text, decision jsonb, suppressed boolean, reasons text[],
              escalated boolean, status text, created_at timestamptz, first_response_at timestamptz)`,
      [json(t.matches)],
    );
  }
  if (t.decisions.length > 0) {
    await pool.query(
      `INSERT INTO review_decisions (match_id, kind, actor, detail, at)
       SELECT match_id, kind, actor, detail, at
       FROM json_to_recordset($1::json) AS x(match_id uuid, kind text, actor jsonb, detail jsonb, at timestamptz)`,
      [json(t.decisions)],
    );
  }
  if (t.replies.length > 0) {
    await pool.query(
      `INSERT INTO replies (match_id, account_id, text, idempotency_key, state, platform_reply_id, url,
         manual_url, error, attempts, created_by, created_at, updated_at, sent_at)
       SELECT match_id, account_id, text, idempotency_key, state, platform_reply_id, url, manual_url, error,
         attempts, created_by, created_at, updated_at, sent_at
       FROM json_to_recordset($1::json)
         AS x(match_id uuid, account_id uuid, text text, idempotency_key text, state text,
              platform_reply_id text, url text, manual_url text, error text, attempts int, created_by jsonb,
              created_at timestamptz, updated_at timestamptz, sent_at timestamptz)`,
      [json(t.replies)],
    );
  }
}

function addAuthor(t: Tables, post: Post) {
  t.authors.set(`${post.platform}\u0000${post.author.id}`, {
    platform: post.platform,
    author_id: post.author.id,
    handle: post.author.handle,
    display_name: post.author.displayName ?? '',
    followers: post.author.followers ?? null,
  });
}

/** A generated post as a connector would hand it on. */
function toPost(generated: GeneratedPost, platform: Post['platform'], id: string, createdAt: number): Post {
  const { author } = generated;
  const handle =
    platform === 'mastodon' && author.handle.length % 3 === 0
      ? `${author.handle}@fedibird.example`
      : author.handle;
  return {
    platform,
    id,
    url:
      platform === 'x'
        ? `https://x.com/${author.handle}/status/${id}`
        : `https://mastodon.example/@${author.handle}/${id}`,
    author: {
      id: platform === 'x' ? author.id : `m${author.id.slice(0, 12)}`,
      handle,
      displayName: author.name,
      followers: author.followers,
      protected: false,
    },
    text: generated.text,
    lang: generated.lang,
    createdAt: iso(createdAt),
    repostOf: null,
    inReplyTo: null,
    conversationId: null,
    hashtags: [],
    mentions: [],
  };
}

/**
 * Arrival times of `n` matches over `days` days ending at `end`, ascending: more by day than by night
 * (Japan time), volume growing by half over the period.
 */
function arrivals(n: number, end: number, days: number, random: ReturnType<typeof prng>): number[] {
  // Relative volume by hour of the day in Japan (UTC+9).
  const byHour = [
    0.9, 0.7, 0.45, 0.3, 0.25, 0.3, 0.5, 0.8, 1.1, 1.1, 1.0, 1.1, 1.5, 1.3, 1.0, 1.0, 1.1, 1.2, 1.3, 1.5, 1.7,
    1.9, 1.8, 1.3,
  ];
  const start = end - days * DAY;
  const out: number[] = [];
  while (out.length < n) {
    const t = start + random.next() * (end - start);
    const hour = new Date(t + 9 * HOUR).getUTCHours();
    const growth = 0.67 + 0.33 * ((t - start) / (end - start));
    if (random.next() * 1.9 < (byHour[hour] as number) * growth) out.push(t);
  }
  return out.sort((a, b) => a - b);
}

const DISMISS_REASONS = ['', '対応不要', 'スパム・宣伝', '既に解決済み', 'not about us', '他部署で対応'];
const DISCORD_REVIEWERS = ['mika', 'kenta', 'sora', 'yui', 'haru'];

/** What became of a match by `end`: the reviewers' decisions, its reply, its first response. */
function planReview(
  item: SeedItem & { decision: Matched },
  end: number,
  random: ReturnType<typeof prng>,
  webUsers: readonly Actor[],
): MatchPlan {
  const id = randomUUID();
  const { decision } = item;
  const escalatedByRule = decision.escalations.length > 0;
  if (decision.suppressed) {
    return {
      id,
      status: 'suppressed',
      firstResponseAt: null,
      escalated: escalatedByRule,
      decisions: [],
      reply: null,
    };
  }
  const age = end - item.at;
  const fresh = age < 36 * HOUR;
  const status = random.pick<Status>(
    fresh
      ? [
          ['new', 62],
          ['replied', 16],
          ['dismissed', 12],
          ['escalated', escalatedByRule ? 20 : 3],
          ['manual_pending', 5],
        ]
      : [
          ['new', 5],
          ['replied', 42],
          ['dismissed', 36],
          ['escalated', escalatedByRule ? 40 : 5],
          ['manual_pending', 7],
        ],
  );
  if (status === 'new') {
    return { id, status, firstResponseAt: null, escalated: escalatedByRule, decisions: [], reply: null };
  }
  // First response: a median of 40 minutes, long tail (nights, weekends).
  const firstResponseAt = Math.min(end - 1_000, item.at + random.logNormal(40 * 60_000, 1.1));
  const actor: Actor =
    random.next() < 0.72
      ? {
          kind: 'discord',
          id: String(100_000_000_000_000_000n + BigInt(Math.floor(random.next() * 5))),
          name: random.pick(DISCORD_REVIEWERS.map((n) => [n, 1] as const)),
        }
      : (webUsers[Math.floor(random.next() * webUsers.length)] as Actor);
  const decisions: MatchPlan['decisions'][number][] = [];
  let reply: MatchPlan['reply'] = null;
  const replyDetail = () => {
    const text = decision.reply?.text ?? 'お問い合わせありがとうございます。詳しくはDMでお知らせください。';
    const fromTemplate = decision.reply !== null && random.next() < 0.8;
    return {
      category: decision.category ?? 'custom',
      ...(fromTemplate ? { templateId: decision.reply?.templateId } : {}),
      text,
    };
  };
  switch (status) {
    case 'replied': {
      const detail = replyDetail();
      decisions.push({ kind: 'reply', actor, detail, at: firstResponseAt });
      reply = {
        text: detail.text,
        state: random.next() < 0.97 ? 'sent' : 'failed',
        at: firstResponseAt,
        actor,
      };
      break;
    }
    case 'manual_pending': {
      const detail = replyDetail();
      decisions.push({ kind: 'reply', actor, detail, at: firstResponseAt });
      const done = random.next() < 0.45;
      reply = {
        text: detail.text,
        state: done ? 'manual_done' : 'manual_pending',
        at: firstResponseAt,
        actor,
      };
      if (done) {
        decisions.push({
          kind: 'manual_reply',
          actor,
          detail: { url: `${item.post.url}/reply` },
          at: firstResponseAt + 600_000,
        });
      }
      break;
    }
    case 'dismissed':
      decisions.push({
        kind: 'dismiss',
        actor,
        detail: { reason: random.pick(DISMISS_REASONS.map((r) => [r, 1] as const)) },
        at: firstResponseAt,
      });
      break;
    case 'escalated':
      decisions.push({
        kind: 'escalate',
        actor,
        detail: {
          target:
            decision.escalations[0]?.route ??
            random.pick([
              ['billing', 2],
              ['engineering', 2],
              ['pr', 1],
            ] as const),
        },
        at: firstResponseAt,
      });
      break;
  }
  return {
    id,
    status,
    firstResponseAt,
    escalated: escalatedByRule || status === 'escalated',
    decisions,
    reply,
  };
}

function addMatch(t: Tables, item: SeedItem & { decision: Matched }, accountId: string, plan: MatchPlan) {
  t.matches.push(matchRow(item, accountId, plan));
  for (const d of plan.decisions) {
    t.decisions.push({ match_id: plan.id, kind: d.kind, actor: d.actor, detail: d.detail, at: iso(d.at) });
  }
  if (plan.reply !== null) {
    const r = plan.reply;
    const sent = r.state === 'sent';
    t.replies.push({
      match_id: plan.id,
      account_id: accountId,
      text: r.text,
      idempotency_key: `reply:${plan.id}`,
      state: r.state,
      platform_reply_id: sent ? `${item.post.id}9` : null,
      url: sent ? `${item.post.url}9` : null,
      manual_url: r.state === 'manual_done' ? `${item.post.url}/reply` : null,
      error: r.state === 'failed' ? 'x: 403 You are not allowed to reply to this post' : null,
      attempts: r.state === 'failed' ? 5 : 1,
      created_by: r.actor,
      created_at: iso(r.at),
      updated_at: iso(r.at + 4_000),
      sent_at: sent ? iso(r.at + 3_000) : null,
    });
  }
}

interface Seeded {
  readonly matches: number;
  readonly posts: number;
  readonly byStatus: Record<string, number>;
  readonly byIntent: Record<string, number>;
  readonly byPlatform: Record<string, number>;
  readonly suppressedBy: Record<string, number>;
  readonly decisions: number;
  readonly replies: number;
  readonly seconds: number;
  readonly shapeCheck: string;
}

async function seed(
  database: DbHandle,
  schema: string,
): Promise<Seeded & { sessionToken: string; apiToken: string }> {
  const started = performance.now();
  const { pool } = database;
  const repos = createRepositories(database.db, { encryptionKey: randomBytes(32).toString('hex') });
  const configText = JSON.parse(readFileSync(EXAMPLE_CONFIG, 'utf8')) as Record<string, unknown>;
  const { $schema: _ignored, ...config } = configText;
  const saved = await repos.config.replace(config, SYSTEM);
  if (!saved.ok) throw new Error(`example configuration refused: ${JSON.stringify(saved.problems)}`);
  const loaded = loadConfig(config);
  if (!loaded.ok) throw new Error(`example configuration refused: ${JSON.stringify(loaded.problems)}`);
  const engine: RulesEngine = loaded.engine;

  const admin = await repos.users.create(
    { username: 'bench_admin', password: 'bench password 0123456789', role: 'admin' },
    SYSTEM,
  );
  const editor = await repos.users.create(
    { username: 'bench_editor', password: 'bench password 0123456789', role: 'editor' },
    SYSTEM,
  );
  const webUsers: Actor[] = [admin, editor].map((u) => ({ kind: 'web', id: u.id, name: u.username }));
  const { token: apiToken } = await repos.apiTokens.create(admin.id, 'console-bench', webUsers[0] as Actor);
  const { token: sessionToken } = await repos.sessions.create(admin.id, 12 * 3600, new Date());
  const accounts = {
    x: (
      await repos.accounts.create(
        { platform: 'x', label: 'shiorinote_support', credentials: { accessToken: 'bench' } },
        SYSTEM,
      )
    ).id,
    mastodon: (
      await repos.accounts.create(
        {
          platform: 'mastodon',
          label: 'shiorinote@mastodon.example',
          baseUrl: 'https://mastodon.example',
          credentials: { accessToken: 'bench' },
        },
        SYSTEM,
      )
    ).id,
  };

  const random = prng(SEED);
  const generator = createPostGenerator({
    seed: SEED,
    brands: [demoBrand],
    mix: { repost: 0 },
    authors: 8_000,
  });
  let postSeq = 0;
  const nextPost = (at: number, platform?: Post['platform']) => {
    postSeq += 1;
    const p: Post['platform'] = platform ?? (random.next() < 0.6 ? 'x' : 'mastodon');
    const id =
      p === 'x'
        ? String(1_850_000_000_000_000_000n + BigInt(postSeq) * 4_097n)
        : String(113_000_000_000_000_000n + BigInt(postSeq) * 131n);
    const delay = random.next() < 0.01 ? 3 * DAY : (p === 'x' ? 20_000 : 5_000) + random.next() * 60_000;
    return toPost(generator.next(), p, id, at - delay);
  };
  const decide = (post: Post, at: number): Decision => {
    const r = random.next();
    return engine.decide(post, {
      now: new Date(at),
      // Some authors were answered recently (cooldown), some posts come after the day's cap.
      ...(r < 0.08
        ? {
            contactHistory: [
              {
                platform: post.platform,
                authorId: post.author.id,
                handle: post.author.handle,
                at: iso(at - 20 * HOUR),
              },
            ],
          }
        : {}),
      ...(r > 0.98 ? { repliesToday: { x: 40, mastodon: 80 } } : {}),
    });
  };

  const counts = {
    byStatus: {} as Record<string, number>,
    byIntent: {} as Record<string, number>,
    byPlatform: {} as Record<string, number>,
    suppressedBy: {} as Record<string, number>,
    decisions: 0,
    replies: 0,
    posts: 0,
    matches: 0,
  };
  const count = (t: Tables) => {
    counts.posts += t.posts.length;
    counts.matches += t.matches.length;
    counts.decisions += t.decisions.length;
    counts.replies += t.replies.length;
    for (const m of t.matches) {
      counts.byStatus[m.status] = (counts.byStatus[m.status] ?? 0) + 1;
      counts.byIntent[m.intent] = (counts.byIntent[m.intent] ?? 0) + 1;
      counts.byPlatform[m.platform] = (counts.byPlatform[m.platform] ?? 0) + 1;
      for (const reason of m.reasons) counts.suppressedBy[reason] = (counts.suppressedBy[reason] ?? 0) + 1;
    }
  };

  // Shape check: the same 50 fresh items through ingest.storeBatch and through the bulk rows.
  const end = Date.now() - 60_000;
  const checkItems: Array<{ post: Post; decision: Decision }> = [];
  while (checkItems.filter((i) => i.decision.matched).length < 50) {
    const post = nextPost(end);
    checkItems.push({ post, decision: decide(post, end) });
  }
  const keysOf = checkItems.map((i) => [i.post.platform, i.post.id]);
  const snapshot = async () => {
    const rows = await pool.query<{ p: unknown; m: unknown }>(
      `SELECT to_jsonb(p) AS p, (SELECT to_jsonb(m) FROM matches m WHERE m.platform = p.platform AND m.post_id = p.post_id) AS m
       FROM posts p JOIN json_to_recordset($1::json) AS k(platform text, post_id text)
         ON p.platform = k.platform AND p.post_id = k.post_id ORDER BY p.platform, p.post_id`,
      [JSON.stringify(keysOf.map(([platform, post_id]) => ({ platform, post_id })))],
    );
    return rows.rows;
  };
  const stored = await repos.ingest.storeBatch(accounts.x, checkItems, undefined, new Date(end));
  const viaStoreBatch = await snapshot();
  const ids = new Map(stored.newMatches.map((m) => [`${m.platform}\u0000${m.postId}`, m.id]));
  await pool.query(
    `DELETE FROM matches m USING json_to_recordset($1::json) AS k(platform text, post_id text)
       WHERE m.platform = k.platform AND m.post_id = k.post_id`,
    [JSON.stringify(keysOf.map(([platform, post_id]) => ({ platform, post_id })))],
  );
  await pool.query(
    `DELETE FROM posts p USING json_to_recordset($1::json) AS k(platform text, post_id text)
       WHERE p.platform = k.platform AND p.post_id = k.post_id`,
    [JSON.stringify(keysOf.map(([platform, post_id]) => ({ platform, post_id })))],
  );
  const check = emptyTables();
  for (const item of checkItems) {
    const seedItem = { ...item, at: end };
    check.posts.push(postRow(seedItem, accounts.x));
    addAuthor(check, item.post);
    if (item.decision.matched) {
      const id = ids.get(`${item.post.platform}\u0000${item.post.id}`) as string;
      const status: Status = item.decision.suppressed ? 'suppressed' : 'new';
      const escalated = item.decision.escalations.length > 0;
      addMatch(check, { ...seedItem, decision: item.decision }, accounts.x, {
        id,
        status,
        firstResponseAt: null,
        escalated,
        decisions: [],
        reply: null,
      });
    }
  }
  // storeBatch stamps fetched_at / created_at with its `now`, as the bulk rows do with `at`.
  await insertTables(pool, check);
  const viaBulk = await snapshot();
  const same = JSON.stringify(viaStoreBatch) === JSON.stringify(viaBulk);
  if (!same) {
    throw new Error(
      `shape check failed: bulk rows differ from storeBatch's\nstoreBatch: ${JSON.stringify(viaStoreBatch[0])}\nbulk:       ${JSON.stringify(viaBulk[0])}`,
    );
  }
  count(check);
  const shapeCheck = `${checkItems.length} posts / ${stored.newMatches.length} matches stored by storeBatch and by the bulk rows: identical rows`;

  // The rest, oldest first (as ingest would have stored them), 4,000 matches per statement, the next
  // chunk generated while PostgreSQL stores the previous ones. Secondary indexes (not the unique ones)
  // are dropped meanwhile and rebuilt from their own definitions afterwards: a bulk build is faster.
  const secondary = await pool.query<{ name: string; def: string }>(
    `SELECT quote_ident(c.relname) AS name, pg_get_indexdef(i.indexrelid) AS def
     FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND NOT i.indisunique AND NOT i.indisprimary
       AND i.indrelid::regclass::text IN ('posts', 'matches', 'review_decisions', 'replies', 'authors')`,
    [schema],
  );
  for (const index of secondary.rows) await pool.query(`DROP INDEX ${index.name}`);
  const times = arrivals(MATCHES - counts.matches, end - 5 * 60_000, DAYS, random);
  // Two chunks stored at a time (the next is generated meanwhile): PostgreSQL is the slower side.
  const pending: Promise<void>[] = [];
  let chunk = emptyTables();
  let waited = 0;
  const bulkStart = performance.now();
  for (const at of times) {
    // Posts the rules do not match are stored too (ingest stores every post).
    for (;;) {
      const post = nextPost(at);
      const decision = decide(post, at);
      const item = { post, decision, at };
      if (post.platform === 'bluesky') throw new Error('the bench world has no Bluesky account');
      const accountId = accounts[post.platform];
      chunk.posts.push(postRow(item, accountId));
      addAuthor(chunk, post);
      if (decision.matched) {
        addMatch(
          chunk,
          { ...item, decision },
          accountId,
          planReview({ ...item, decision }, end, random, webUsers),
        );
        break;
      }
    }
    if (chunk.matches.length >= 4_000) {
      const ready = chunk;
      chunk = emptyTables();
      const wait = performance.now();
      if (pending.length >= 2) await pending.shift();
      waited += performance.now() - wait;
      count(ready);
      pending.push(handled(insertTables(pool, ready)));
    }
  }
  const wait = performance.now();
  count(chunk);
  pending.push(handled(insertTables(pool, chunk)));
  await Promise.all(pending);
  waited += performance.now() - wait;
  console.log(
    `   bulk: ${fmt((performance.now() - bulkStart) / 1000, 1)} s, of which ${fmt(waited / 1000, 1)} s waiting for PostgreSQL (the rest: generating posts and deciding them)`,
  );
  const rebuild = performance.now();
  const defs = secondary.rows.map((index) => index.def);
  await Promise.all(
    [0, 1].map(async (lane) => {
      for (let i = lane; i < defs.length; i += 2) await pool.query(defs[i] as string);
    }),
  );
  console.log(
    `   ${defs.length} secondary indexes rebuilt in ${fmt((performance.now() - rebuild) / 1000, 1)} s`,
  );
  const vacuum = performance.now();
  // This schema's tables only (a bare VACUUM would go through every schema of the database).
  const tables = await pool.query<{ name: string }>(
    'SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = $1',
    [schema],
  );
  await pool.query(`VACUUM (ANALYZE) ${tables.rows.map((t) => `"${schema}".${t.name}`).join(', ')}`);
  console.log(`   VACUUM ANALYZE of schema ${schema}: ${fmt((performance.now() - vacuum) / 1000, 1)} s`);
  return {
    ...counts,
    seconds: (performance.now() - started) / 1000,
    shapeCheck,
    sessionToken,
    apiToken,
  };
}

// ---------------------------------------------------------------------------------------------------
// 2. The console in a child process, and paced load with autocannon.

function startChild(options: Record<string, string | number>): Promise<{ url: string }> {
  const started = fork(SERVER_SCRIPT, [], {
    // The flag kikimimi's bin, `npm start` and the Dockerfile run Node with (and any diagnostics
    // asked for, e.g. KIKIMIMI_BENCH_CHILD_FLAGS=--trace-gc).
    execArgv: [
      '--max-semi-space-size=8',
      ...(process.env.KIKIMIMI_BENCH_CHILD_FLAGS ?? '').split(' ').filter((flag) => flag !== ''),
    ],
    env: { ...process.env, KIKIMIMI_BENCH_WEB: JSON.stringify(options) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  child = started;
  defer('console child process', async () => {
    if (started.exitCode !== null) return;
    const exited = new Promise((resolve) => started.once('exit', resolve));
    started.send({ cmd: 'close' } satisfies BenchRequest);
    await Promise.race([exited, sleep(8_000)]);
    if (started.exitCode === null) started.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the console did not start within 30 s')), 30_000);
    started.once('exit', (code) => reject(new Error(`the console exited (${code}) before it was ready`)));
    started.once('message', (message: { kind: string; url: string }) => {
      clearTimeout(timer);
      if (message.kind === 'ready') resolve(message);
      else reject(new Error(`unexpected message from the console: ${JSON.stringify(message)}`));
    });
  });
}

/** One request/answer over IPC (the child answers in order). */
function ask<T>(request: BenchRequest): Promise<T> {
  const target = child;
  if (target === null) throw new Error('no console process');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${request.cmd}`)), 20_000);
    target.once('message', (message: T & { kind: string; message?: string }) => {
      clearTimeout(timer);
      if (message.kind === 'error') reject(new Error(message.message));
      else resolve(message);
    });
    target.send(request);
  });
}

interface Endpoint {
  readonly key: string;
  readonly label: string;
  readonly path: string;
  /** The same work through the repositories, for EXPLAIN. */
  readonly explain?: { readonly title: string; readonly work: Work };
  readonly headers: Record<string, string>;
}

interface LoadResult {
  readonly client: Summary;
  /** From the planned send time: includes waiting for a free connection. */
  readonly planned: Summary;
  /** Answers per second over the run (sending stops after `seconds`; answers are awaited a little longer). */
  readonly achievedRate: number;
  readonly sent: number;
  readonly plannedCount: number;
  readonly errors: number;
  readonly non2xx: number;
}

/**
 * Requests to `url` at `rate` per second for `seconds`: request i is sent at start + i/rate, or as soon
 * as one of the connections is free if none is then (a saturated server is not sent more than the
 * connections can carry: what was not sent by the end counts against the achieved rate). Answers
 * still missing DRAIN_MS after the end are abandoned.
 */
function pacedLoad(
  url: string,
  headers: Record<string, string>,
  rate: number,
  seconds: number,
): Promise<LoadResult> {
  const interval = 1000 / rate;
  const plannedCount = Math.round(rate * seconds);
  const start = performance.now() + 20;
  const stopSending = start + seconds * 1000;
  let issued = 0;
  const client: number[] = [];
  const planned: number[] = [];
  const slotOf = new WeakMap<Client, number>();
  let errors = 0;
  let non2xx = 0;
  let lastAnswer = start;
  return new Promise((resolve, reject) => {
    let instance: Instance | null = null;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      instance?.stop();
    };
    const drain = setTimeout(finish, seconds * 1000 + DRAIN_MS);
    instance = autocannon(
      {
        url,
        headers,
        connections: CONNECTIONS,
        duration: seconds + 60,
        timeout: 30,
        setupClient(c: Client) {
          const send = c._doRequest;
          c._doRequest = function paced(this: Client, ...args: unknown[]) {
            if (issued >= plannedCount || performance.now() >= stopSending) return;
            const slot = start + issued * interval;
            issued += 1;
            const fire = () => {
              if (c.destroyed || finished) return;
              slotOf.set(c, slot);
              send.apply(c, args);
            };
            const wait = slot - performance.now();
            if (wait <= 0) fire();
            else setTimeout(fire, wait);
          };
        },
      },
      (error, result) => {
        clearTimeout(drain);
        if (error) {
          reject(error);
          return;
        }
        resolve({
          client: summary(client),
          planned: summary(planned),
          achievedRate: client.length / (Math.max(seconds * 1000, lastAnswer - start) / 1000),
          sent: issued,
          plannedCount,
          errors: errors + result.errors + result.timeouts,
          non2xx,
        });
      },
    );
    instance.on('response', (c: Client, statusCode: number, _bytes: number, responseTime: number) => {
      const now = performance.now();
      lastAnswer = now;
      client.push(responseTime);
      planned.push(now - (slotOf.get(c) ?? now));
      if (statusCode >= 400) non2xx += 1;
      if (client.length >= issued && (issued >= plannedCount || now >= stopSending)) finish();
    });
    instance.on('reqError', () => {
      errors += 1;
    });
  });
}

/** Share of requests at or under 50 ms in the app's own histogram (its bucket 0.05). */
function histogramShare(histogram: Record<string, BucketCounts>): string {
  const parts: string[] = [];
  for (const [route, buckets] of Object.entries(histogram)) {
    const all = buckets['+Inf'] ?? 0;
    if (all === 0) continue;
    parts.push(`${route}: ${fmt((100 * (buckets['0.05'] ?? 0)) / all, 1)} % ≤ 50 ms (n=${fmt(all)})`);
  }
  return parts.join('; ');
}

/** Cores used during a run (of os.cpus().length), by whom. */
interface CpuShare {
  readonly console: number;
  readonly postgres: number;
  readonly loadGenerator: number;
  readonly others: number;
}

interface Measured {
  readonly endpoint: Endpoint;
  readonly load: LoadResult;
  readonly server: Summary;
  readonly collect: CollectReply;
  readonly cpu: CpuShare;
  readonly pass: boolean;
}

async function measure(base: string, endpoint: Endpoint, seconds: number): Promise<Measured> {
  await ask({ cmd: 'reset' });
  const before = cpuNow();
  const load = await pacedLoad(base + endpoint.path, endpoint.headers, RATE, seconds);
  const after = cpuNow();
  const collect = await ask<CollectReply>({ cmd: 'collect' });
  const server = summary(collect.serverMs);
  const wall = collect.wallMs;
  const consoleMs = collect.cpuMs.user + collect.cpuMs.system;
  const postgresMs = after.postgres - before.postgres;
  const benchMs = after.bench - before.bench;
  const cpu: CpuShare = {
    console: consoleMs / wall,
    postgres: postgresMs / wall,
    loadGenerator: benchMs / wall,
    others: Math.max(0, after.busy - before.busy - consoleMs - postgresMs - benchMs) / wall,
  };
  const pass =
    server.p95 < TARGET_P95_MS && load.achievedRate >= RATE * 0.97 && load.errors === 0 && load.non2xx === 0;
  return { endpoint, load, server, collect, cpu, pass };
}

function printHeader() {
  console.log(
    `   ${padEnd('endpoint', 40)} ${pad('req/s', 6)} ${pad('server p50/p95/p99 ms', 22)} ${pad('client p50/p95/p99', 20)} ${pad('planned p95/p99', 16)} ${pad('console ms/req', 14)}  verdict`,
  );
}

function printRow(m: Measured) {
  const { load, server, collect, cpu } = m;
  const cpuPerReq = (collect.cpuMs.user + collect.cpuMs.system) / Math.max(1, server.n);
  const verdict = m.pass ? 'PASS' : 'MISS';
  const problems = load.errors + load.non2xx > 0 ? ` (${load.errors} errors, ${load.non2xx} non-2xx)` : '';
  const unsent =
    load.sent < load.plannedCount
      ? `; only ${fmt(load.sent)} of ${fmt(load.plannedCount)} planned requests could be sent (every connection busy)`
      : '';
  const abandoned = collect.inFlight > 0 ? `, ${collect.inFlight} still running at the end` : '';
  console.log(
    `   ${padEnd(`${m.endpoint.key} ${m.endpoint.label}`, 40)} ${pad(fmt(load.achievedRate, 1), 6)} ${pad(lat(server), 22)} ${pad(lat(load.client), 20)} ${pad(`${fmt(load.planned.p95, 1)} / ${fmt(load.planned.p99, 1)}`, 16)} ${pad(fmt(cpuPerReq, 2), 14)}  ${verdict}${problems}`,
  );
  console.log(
    `      ${fmt(server.n)} requests answered in ${fmt(collect.wallMs / 1000, 1)} s${abandoned}${unsent}; server max ${fmt(server.max, 1)} ms; cores busy: console ${fmt(cpu.console, 2)}, PostgreSQL ${fmt(cpu.postgres, 2)}, load generator ${fmt(cpu.loadGenerator, 2)}, other processes ${fmt(cpu.others, 2)} (of ${os.cpus().length}); event-loop delay p99 ${fmt(collect.eventLoopDelayMs.p99, 1)} ms; app histogram: ${histogramShare(collect.histogram) || '—'}`,
  );
}

// ---------------------------------------------------------------------------------------------------
// 3. Why: the statements behind each endpoint, EXPLAIN ANALYZEd; CPU profiles.

interface Captured {
  readonly text: string;
  readonly values: unknown[];
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Actual Total Time'?: number;
  'Rows Removed by Filter'?: number;
  'Heap Fetches'?: number;
  'Sort Method'?: string;
  Strategy?: string;
  Filter?: string;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}
interface ExplainResult {
  Plan: PlanNode;
  'Planning Time': number;
  'Execution Time': number;
  JIT?: { Functions: number; Timing: { Total: number } };
}

function planLines(node: PlanNode, depth: number, out: string[], maxLines: number) {
  if (out.length >= maxLines) return;
  const on = node['Relation Name'] ? ` on ${node['Relation Name']}` : '';
  const idx = node['Index Name'] ? ` using ${node['Index Name']}` : '';
  const strategy = node.Strategy && node.Strategy !== 'Plain' ? ` (${node.Strategy})` : '';
  const extra = [
    node['Rows Removed by Filter'] ? `removed by filter ${fmt(node['Rows Removed by Filter'])}` : '',
    node['Heap Fetches'] !== undefined ? `heap fetches ${fmt(node['Heap Fetches'])}` : '',
    node['Sort Method'] ? node['Sort Method'] : '',
  ]
    .filter(Boolean)
    .join(', ');
  out.push(
    `${'  '.repeat(depth)}${node['Node Type']}${strategy}${on}${idx}: rows ${fmt(node['Actual Rows'] ?? 0)}×${node['Actual Loops'] ?? 1}, ${fmt(node['Actual Total Time'] ?? 0, 2)} ms${extra ? `, ${extra}` : ''}`,
  );
  for (const sub of node.Plans ?? []) planLines(sub, depth + 1, out, maxLines);
}

type Work = (
  repos: ReturnType<typeof createRepositories>,
  stats: ReturnType<typeof createRepositories>['stats'],
) => Promise<unknown>;

/** A statement rewritten to show what a change to the repository's SQL would do. */
interface Rewrite {
  readonly label: string;
  readonly apply: (text: string) => string;
}

/** The inbox's keyset ORDER BY with the other NULLS order: DESC ↔ DESC NULLS LAST. */
function swapNulls(label: string): Rewrite {
  const plain = /order by "matches"\."created_at" desc, "matches"\."id" desc/iu;
  const nullsLast = /order by "matches"\."created_at" desc nulls last, "matches"\."id" desc nulls last/iu;
  return {
    label,
    apply: (text) =>
      plain.test(text)
        ? text.replace(
            plain,
            'order by "matches"."created_at" desc nulls last, "matches"."id" desc nulls last',
          )
        : text.replace(nullsLast, 'order by "matches"."created_at" desc, "matches"."id" desc'),
  };
}

/** The keyset indexes as migrations 0000/0002 made them, before 0003 (for --old-indexes). */
const OLD_INDEXES = [
  'CREATE INDEX matches_status_created_idx ON matches (status, created_at DESC NULLS LAST, id DESC NULLS LAST)',
  'CREATE INDEX matches_created_idx ON matches (created_at DESC NULLS LAST, id DESC NULLS LAST)',
  'CREATE INDEX matches_platform_created_idx ON matches (platform, created_at DESC NULLS LAST, id DESC NULLS LAST)',
];

async function explainOne(
  database: DbHandle,
  text: string,
  params: unknown[],
): Promise<ExplainResult | undefined> {
  // Twice: the first warms the cache (as the load did); the second counts.
  let result: ExplainResult | undefined;
  for (let i = 0; i < 2; i++) {
    const rows = await database.pool.query<{ 'QUERY PLAN': ExplainResult[] }>({
      text: `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`,
      values: params,
    });
    result = rows.rows[0]?.['QUERY PLAN'][0];
  }
  return result;
}

function printPlan(result: ExplainResult, prefix: string, text: string | null, maxLines?: number) {
  const jit = result.JIT
    ? `, JIT ${fmt(result.JIT.Timing.Total, 1)} ms (${result.JIT.Functions} functions)`
    : '';
  const oneLine = text === null ? '' : text.replace(/\s+/gu, ' ').trim();
  const shown = oneLine.length > 140 ? `${oneLine.slice(0, 137)}…` : oneLine;
  console.log(
    `     ${prefix}${fmt(result['Execution Time'], 2)} ms execution, ${fmt(result['Planning Time'], 2)} ms planning${jit}${shown ? ` — ${shown}` : ''}`,
  );
  const lines: string[] = [];
  planLines(result.Plan, 0, lines, maxLines ?? (values.plans ? 60 : 8));
  for (const line of lines) console.log(`         ${line}`);
}

/**
 * Runs `work` on repositories over a pool that records every statement, then EXPLAIN ANALYZEs each
 * (and, with `rewrite`, the rewritten statement too). Returns the total execution time.
 */
async function explainAll(
  database: DbHandle,
  title: string,
  work: Work,
  options: { readonly rewrite?: Rewrite; readonly compact?: boolean } = {},
): Promise<number> {
  const { rewrite, compact = false } = options;
  const captured: Captured[] = [];
  const pool = database.pool as pg.Pool & { query: (...args: unknown[]) => unknown };
  const original = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  pool.query = ((config: unknown, params?: unknown[]) => {
    const text = typeof config === 'string' ? config : (config as { text: string }).text;
    const vals = params ?? (config as { values?: unknown[] }).values ?? [];
    captured.push({ text, values: vals });
    return original(config, params);
  }) as typeof pool.query;
  try {
    const repos = createRepositories(database.db, { encryptionKey: randomBytes(32).toString('hex') });
    await work(repos, repos.stats);
  } finally {
    pool.query = original as typeof pool.query;
  }
  console.log(`   ${title}`);
  let total = 0;
  const totalLine = () => {
    if (captured.length > 1) console.log(`     = ${fmt(total, 1)} ms of execution in all`);
  };
  for (const statement of captured) {
    const result = await explainOne(database, statement.text, statement.values);
    if (result === undefined) continue;
    total += result['Execution Time'];
    printPlan(result, '· ', statement.text, compact ? 0 : undefined);
    const rewritten = rewrite?.apply(statement.text);
    if (rewrite !== undefined && rewritten !== undefined && rewritten !== statement.text) {
      const after = await explainOne(database, rewritten, statement.values);
      if (after !== undefined) printPlan(after, `→ ${rewrite.label}: `, null, compact ? 0 : undefined);
    }
  }
  totalLine();
  return total;
}

function printProfile(what: string, p: ProfileReply) {
  const busy = p.totalMs - p.idleMs;
  console.log(
    `      CPU profile of the console during ${what}: busy ${fmt(busy)} of ${fmt(p.totalMs)} ms (${fmt((100 * busy) / p.totalMs)} %), GC ${fmt(p.gcMs)} ms; self time by package: ${p.byPackage
      .slice(0, 8)
      .map((b) => `${b.pkg} ${fmt((100 * b.selfMs) / Math.max(1, busy))} %`)
      .join(', ')}`,
  );
  console.log(
    `      top functions: ${p.top.map((f) => `${f.fn}${f.where ? ` (${f.where})` : ''} ${fmt(f.selfMs)} ms`).join('; ')}`,
  );
}

/** --profile all: each endpoint again for PROFILE_SECONDS under a CPU profile. */
async function profile(base: string, endpoint: Endpoint) {
  await ask({ cmd: 'profile-start' });
  await pacedLoad(base + endpoint.path, endpoint.headers, RATE, PROFILE_SECONDS);
  printProfile(
    `${endpoint.key} (${PROFILE_SECONDS} s at ${RATE}/s)`,
    await ask<ProfileReply>({ cmd: 'profile-stop', top: 8 }),
  );
}

// ---------------------------------------------------------------------------------------------------

async function main() {
  const benchStart = performance.now();
  const id = randomBytes(4).toString('hex');
  const schema = `kk_bench_web_${id}`;
  const prefix = `kk-bench-web-${id}`;
  console.log(
    `kikimimi console benchmark — Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${fmt(os.totalmem() / 2 ** 30, 1)} GiB`,
  );
  console.log(
    `   target: p95 server time < ${TARGET_P95_MS} ms at ${RATE} requests/s with ${fmt(MATCHES)} matches; each endpoint ${SECONDS} s, ${CONNECTIONS} connections, paced`,
  );

  const database = createDb({ connectionString: DATABASE_URL, schema, applicationName: 'console-bench' });
  defer(`schema ${schema}`, async () => {
    if (values['keep-schema'])
      console.log(`   schema ${schema} kept (--keep-schema): DROP SCHEMA ${schema} CASCADE`);
    else await database.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await database.close();
  });
  const version = await database.pool.query<{ v: string; jit: string }>(
    "SELECT split_part(version(), ' on ', 1) AS v, current_setting('jit') AS jit",
  );
  console.log(
    `   ${version.rows[0]?.v} (jit ${version.rows[0]?.jit}), schema ${schema}, Redis prefix ${prefix}`,
  );
  defer(`Redis prefix ${prefix}`, async () => {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  });
  await migrate(database.pool);

  // 1. Seed.
  console.log(`\n1. Seed (${DAYS} days, generator seed ${SEED})`);
  const seeded = await seed(database, schema);
  const share = (record: Record<string, number>, total = seeded.matches) =>
    Object.entries(record)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${fmt((100 * n) / total, 1)} %`)
      .join(', ');
  console.log(`   shape check: ${seeded.shapeCheck}`);
  console.log(
    `   ${fmt(seeded.matches)} matches of ${fmt(seeded.posts)} posts, ${fmt(seeded.decisions)} review decisions, ${fmt(seeded.replies)} replies in ${fmt(seeded.seconds, 1)} s`,
  );
  console.log(`   status: ${share(seeded.byStatus)}`);
  console.log(`   intent: ${share(seeded.byIntent)}; platform: ${share(seeded.byPlatform)}`);
  console.log(`   suppression reasons: ${share(seeded.suppressedBy)}`);

  if (values['old-indexes']) {
    for (const ddl of OLD_INDEXES) {
      await database.pool.query(`DROP INDEX ${ddl.split(' ')[2]}`);
      await database.pool.query(ddl);
    }
    await database.pool.query('ANALYZE matches');
    console.log(
      '   --old-indexes: the three matches keyset indexes recreated as before migration 0003 (DESC NULLS LAST)',
    );
  }
  // Whether the keyset indexes are in the order of the repositories' ORDER BY … DESC (NULLS FIRST).
  const keyset = await database.pool.query<{ def: string }>(
    "SELECT indexdef AS def FROM pg_indexes WHERE schemaname = $1 AND indexname = 'matches_created_idx'",
    [schema],
  );
  const indexesInQueryOrder = !/NULLS LAST/iu.test(keyset.rows[0]?.def ?? '');
  console.log(`   keyset index: ${keyset.rows[0]?.def.replace(/ ON \S+\./u, ' ON ') ?? 'missing'}`);
  if (values['seed-only']) return;

  // 2. The console in a child process.
  const childOptions = {
    databaseUrl: DATABASE_URL,
    databaseSchema: schema,
    redisUrl: REDIS_URL,
    redisPrefix: prefix,
    encryptionKey: randomBytes(32).toString('hex'),
  };
  const started = await startChild({ ...childOptions, dashboardCacheSeconds: CACHE_SECONDS });
  const base = started.url;
  console.log(
    `\n2. Load — console (startWeb, DASHBOARD_CACHE_SECONDS=${CACHE_SECONDS}) in child process pid ${child?.pid} at ${base}`,
  );
  const cookie = { cookie: `kk_session=${seeded.sessionToken}`, 'accept-language': 'ja' };
  const bearer = { authorization: `Bearer ${seeded.apiToken}` };

  // The filtered inbox's second page: follow the first page's "next" link, as a browser would.
  const filter = 'status=new&platform=x&intent=trouble';
  const first = await fetch(`${base}/inbox?${filter}`, { headers: cookie });
  const firstHtml = await first.text();
  const nextHref = /<a href="(\/inbox\?[^"]*)" rel="next">/u.exec(firstHtml)?.[1]?.replaceAll('&amp;', '&');
  if (first.status !== 200 || nextHref === undefined) {
    throw new Error(`/inbox?${filter}: ${first.status}, no next link — is the data set too small?`);
  }
  const cursor = new URLSearchParams(nextHref.split('?')[1]).get('before') ?? '';
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const before = { createdAt: new Date(decoded[0] as string), id: decoded[1] as string };
  const apiFilter = 'status=new,escalated&platform=x&intent=trouble&limit=50';
  const now = () => new Date();
  const endpoints: Endpoint[] = [
    { key: '(0)', label: 'GET /healthz (baseline)', path: '/healthz', headers: {} },
    {
      key: '(a)',
      label: 'GET /inbox (first page)',
      path: '/inbox',
      headers: cookie,
      explain: {
        title: '(a) inbox, first page: matches.list({}, { limit: 51 })',
        work: (repos) => repos.matches.list({}, { limit: 51 }),
      },
    },
    {
      key: '(b)',
      label: 'GET /inbox filtered, page 2',
      path: nextHref,
      headers: cookie,
      explain: {
        title:
          "(b) inbox filtered, page 2: matches.list({ status: 'new', platform: 'x', intent: 'trouble' }, { limit: 51, before })",
        work: (repos) =>
          repos.matches.list({ status: 'new', platform: 'x', intent: 'trouble' }, { limit: 51, before }),
      },
    },
    {
      key: '(c)',
      label: 'GET /api/matches filtered',
      path: `/api/matches?${apiFilter}`,
      headers: bearer,
      explain: {
        title:
          "(c) API filtered: matches.list({ status: ['new', 'escalated'], platform: 'x', intent: 'trouble' }, { limit: 51 })",
        work: (repos) =>
          repos.matches.list(
            { status: ['new', 'escalated'], platform: 'x', intent: 'trouble' },
            { limit: 51 },
          ),
      },
    },
    {
      key: '(d)',
      label: 'GET /dashboard?days=30',
      path: '/dashboard?days=30',
      headers: cookie,
      explain: {
        title: "(d) dashboard: stats.dashboard({ days: 30, timeZone: 'UTC' })",
        work: (_repos, stats) => stats.dashboard({ now: now(), days: 30, timeZone: 'UTC' }),
      },
    },
    {
      key: '(e)',
      label: 'GET /api/dashboard?days=90',
      path: '/api/dashboard?days=90',
      headers: bearer,
      explain: {
        title: "(e) dashboard: stats.dashboard({ days: 90, timeZone: 'UTC' })",
        work: (_repos, stats) => stats.dashboard({ now: now(), days: 90, timeZone: 'UTC' }),
      },
    },
  ];
  console.log(`   (b) = ${nextHref.length > 90 ? `${nextHref.slice(0, 90)}…` : nextHref}`);

  // Every endpoint answers as it should before it is measured; then a warm-up (JIT, pools, caches).
  const sizes: string[] = [];
  const firstMs: string[] = [];
  for (const e of endpoints) {
    const sent = performance.now();
    const response = await fetch(base + e.path, { headers: e.headers });
    const body = await response.text();
    firstMs.push(`${e.key} ${fmt(performance.now() - sent, 1)} ms`);
    const ok =
      response.status === 200 &&
      (e.key === '(a)' || e.key === '(b)'
        ? body.includes('<table class="inbox"')
        : e.key === '(c)'
          ? (JSON.parse(body) as { items: unknown[] }).items.length > 0
          : e.key === '(e)'
            ? (JSON.parse(body) as { totals: { matches: number } }).totals.matches >= MATCHES * 0.99
            : true);
    if (!ok) throw new Error(`${e.key} ${e.path}: ${response.status} ${body.slice(0, 300)}`);
    sizes.push(`${e.key} ${fmt(Buffer.byteLength(body) / 1024, 1)} KiB`);
  }
  const warm = performance.now();
  // A console that has been up for a while: every endpoint for WARM_UP_SECONDS at the target rate
  // (JIT tiers, pools, the heap grown to its working size), not measured.
  for (const e of endpoints) await pacedLoad(base + e.path, e.headers, RATE, WARM_UP_SECONDS);
  console.log(`   response sizes: ${sizes.join(', ')}`);
  console.log(
    `   first request of each (client time; the dashboard's computes its figures): ${firstMs.join(', ')}`,
  );
  console.log(
    `   all endpoints answer 200 with content; warm-up ${fmt((performance.now() - warm) / 1000, 1)} s\n`,
  );

  printHeader();
  const results: Measured[] = [];
  for (const e of endpoints) {
    const m = await measure(base, e, SECONDS);
    results.push(m);
    printRow(m);
    await sleep(500);
  }
  console.log(
    '\n   server = in the console process, from the HTTP request event to the response finished; client = autocannon,',
  );
  console.log(
    '   send → response; planned = from the planned send time (includes waiting for one of the connections);',
  );
  console.log(
    '   console ms/req = CPU of the console process per request; cores busy = CPU time / wall time, by process.',
  );

  // 3. Why.
  const isInbox = (e: Endpoint) => ['(a)', '(b)', '(c)'].includes(e.key.slice(0, 3));
  const missed = results.filter((r) => r.endpoint.key !== '(0)' && !r.pass);
  console.log('\n3. Why');
  for (const r of missed) {
    const { cpu } = r;
    const where =
      cpu.postgres > 1.2 && cpu.postgres > 3 * cpu.console
        ? `the time is in PostgreSQL (${fmt(cpu.postgres, 2)} cores busy, the console ${fmt(cpu.console, 2)})`
        : `the console used ${fmt(cpu.console, 2)} cores, PostgreSQL ${fmt(cpu.postgres, 2)}, other processes ${fmt(cpu.others, 2)}`;
    console.log(`   ${r.endpoint.key} missed: ${where}`);
  }
  console.log('   Statements behind each endpoint (captured from the repositories; EXPLAIN ANALYZE, warm):');
  for (const e of endpoints) {
    if (e.explain) {
      const rewrite = indexesInQueryOrder
        ? swapNulls('query and index orders differing, as before migration 0003 (ORDER BY … DESC NULLS LAST)')
        : swapNulls(
            'with ORDER BY created_at DESC NULLS LAST, id DESC NULLS LAST (the order of the indexes)',
          );
      await explainAll(database, e.explain.title, e.explain.work, isInbox(e) ? { rewrite } : {});
    }
  }
  if (PROFILE === 'all') {
    for (const e of endpoints.slice(1)) await profile(base, e);
  }

  // 4. What-if: the proposed fixes, tried on this schema / in this child only.
  const after: Measured[] = [];
  if (missed.length > 0) {
    console.log(
      '\n4. What-if for the endpoints that missed: the proposed fixes applied to this schema / this console process only',
    );
  }
  const inboxMissed = missed.filter((r) => isInbox(r.endpoint));
  if (inboxMissed.length > 0 && indexesInQueryOrder) {
    console.log('   (inbox: its indexes are already in the order of its queries; nothing to try here)');
  }
  if (inboxMissed.length > 0 && !indexesInQueryOrder) {
    // The keyset indexes in the order the queries ask for (plain DESC is DESC NULLS FIRST), as
    // migration 0003 makes them.
    const started = performance.now();
    for (const ddl of [
      'CREATE INDEX matches_created_nf_idx ON matches (created_at DESC, id DESC)',
      'CREATE INDEX matches_status_created_nf_idx ON matches (status, created_at DESC, id DESC)',
      'CREATE INDEX matches_platform_created_nf_idx ON matches (platform, created_at DESC, id DESC)',
    ]) {
      await database.pool.query(ddl);
      console.log(`   ${ddl};`);
    }
    await database.pool.query('ANALYZE matches');
    console.log(`   (built in ${fmt((performance.now() - started) / 1000, 1)} s)`);
    for (const r of inboxMissed) {
      if (r.endpoint.explain) {
        await explainAll(database, r.endpoint.explain.title, r.endpoint.explain.work, { compact: true });
      }
    }
  }
  const dashboardMissed = missed.filter((r) => !isInbox(r.endpoint));
  if (dashboardMissed.length > 0) {
    const ddl =
      'CREATE INDEX matches_created_stats_idx ON matches (created_at) INCLUDE (platform, intent, suppressed, escalated, first_response_at, suppression_reasons)';
    await database.pool.query(ddl);
    await database.pool.query('VACUUM (ANALYZE) matches');
    console.log(`   ${ddl}; (suggested in stats.ts)`);
    for (const r of dashboardMissed) {
      if (r.endpoint.explain) {
        await explainAll(database, r.endpoint.explain.title, r.endpoint.explain.work, { compact: true });
      }
    }
    await database.pool.query('DROP INDEX matches_created_stats_idx');
    console.log('   (index dropped again)');
  }
  const retried = indexesInQueryOrder ? [] : inboxMissed;
  if (retried.length > 0) {
    console.log('');
    printHeader();
  }
  for (const r of retried) {
    // The re-run is profiled (sampling every 0.5 ms costs a little): what is left once the fix is in.
    const profiled = PROFILE !== 'none';
    if (profiled) await ask({ cmd: 'profile-start' });
    const m = await measure(base, { ...r.endpoint, key: `${r.endpoint.key}'` }, WHAT_IF_SECONDS);
    after.push(m);
    printRow(m);
    if (profiled) printProfile(`${m.endpoint.key}`, await ask<ProfileReply>({ cmd: 'profile-stop', top: 6 }));
  }

  // 5. Baseline: the same dashboard requests with every request computing its figures.
  const isDashboard = (e: Endpoint) => ['(d)', '(e)'].includes(e.key);
  const baseline: Measured[] = [];
  if (CACHE_SECONDS > 0) {
    const uncached = await startChild({ ...childOptions, dashboardCacheSeconds: 0 });
    console.log(
      `\n5. Baseline: the dashboard without its cache — a second console (DASHBOARD_CACHE_SECONDS=0, pid ${child?.pid}), ${WHAT_IF_SECONDS} s each`,
    );
    printHeader();
    for (const e of endpoints.filter(isDashboard)) {
      await (await fetch(uncached.url + e.path, { headers: e.headers })).arrayBuffer();
      const m = await measure(
        uncached.url,
        { ...e, key: `${e.key}0`, label: `${e.label} no cache` },
        WHAT_IF_SECONDS,
      );
      baseline.push(m);
      printRow(m);
      await sleep(500);
    }
  }

  console.log(`\nSummary (load average ${loadAverage()})`);
  const line = (r: Measured, label: string) =>
    console.log(
      `   ${r.pass ? 'PASS' : 'MISS'}  ${padEnd(`${r.endpoint.key} ${label}`, 52)} server p95 ${pad(fmt(r.server.p95, 1), 7)} ms at ${pad(fmt(r.load.achievedRate, 1), 5)} req/s (client p95 ${fmt(r.load.client.p95, 1)} ms)`,
    );
  for (const r of results) line(r, r.endpoint.label);
  for (const r of after) line(r, `${r.endpoint.label.replace(/^GET /u, '')} + indexes of 0003`);
  for (const r of baseline) {
    const cached = results.find((c) => c.endpoint.key === r.endpoint.key.slice(0, 3));
    line(r, r.endpoint.label);
    if (cached) {
      console.log(
        `         ${r.endpoint.key.slice(0, 3)} with the ${CACHE_SECONDS} s cache: server p95 ${fmt(cached.server.p95, 1)} ms vs ${fmt(r.server.p95, 1)} ms without — ${fmt(r.server.p95 / cached.server.p95, 0)}× lower`,
      );
    }
  }
  console.log(`   total ${fmt((performance.now() - benchStart) / 1000, 1)} s (clean-up follows)`);
}

try {
  await main();
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
} finally {
  await cleanUp();
  // fetch's idle keep-alive sockets (undici) would keep the process up for a few more seconds.
  process.exit();
}
