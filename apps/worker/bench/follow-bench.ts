/**
 * The cost of following cases on X (issue 11, "Measured"): 1,000 open cases, each our reply on the X
 * stand-in, followed for a simulated day by the production `handleFollow` (the follow job) with a fake
 * clock: one check every `conversations.checkEveryMinutes`, during which a share of the customers
 * answer at random times (a fixed seed). Prints, per check interval, the requests the stand-in served
 * (its `usage()`, per endpoint), requests per followed case per day against the goal (≤ 0.2), the posts
 * read (as X bills them) and whether every answer was recorded in its case.
 *
 *   node apps/worker/bench/follow-bench.ts [--cases 1000] [--every 5,10,15] [--answer-share 0.3]
 *
 * Real PostgreSQL (an own schema per interval, dropped at the end); the X stand-in in this process.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { createDb, createRepositories, migrate } from '@kikimimi/db';
import { loadConfig, type Post, postSchema } from '@kikimimi/rules';
import { startXSandbox, type XSandbox } from '@kikimimi/sandbox';
import pino from 'pino';
import { connectorFor, createConnectorCache } from '../src/connectors.ts';
import { createEngineProvider } from '../src/engine-provider.ts';
import { createMetrics } from '../src/metrics.ts';
import type { PipelineDeps } from '../src/pipeline/deps.ts';
import { handleFollow } from '../src/pipeline/follow.ts';
import { DATABASE_URL, ENCRYPTION_KEY } from '../test/world.ts';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '1000' },
    every: { type: 'string', default: '5,10,15' },
    'answer-share': { type: 'string', default: '0.3' },
  },
});
const CASES = Number(values.cases);
const INTERVALS = values.every.split(',').map(Number);
const ANSWER_SHARE = Number(values['answer-share']);
const GOAL = 0.2;
const MIN = 60_000;
const DAY_MINUTES = 24 * 60;
const SYSTEM = { kind: 'system', id: 'bench', name: 'bench' } as const;
const T0 = new Date('2026-11-24T00:00:00.000Z');

/** A small seeded PRNG (mulberry32): the same answers at the same minutes every run. */
function random(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Row {
  every: number;
  checks: number;
  requests: Record<string, number>;
  total: number;
  perCase: number;
  postsRead: number;
  billed: number;
  answers: number;
  recorded: number;
  measuredRequests: number;
  ms: number;
}

async function run(x: XSandbox, every: number): Promise<Row> {
  const schema = `kk_follow_bench_${randomBytes(4).toString('hex')}`;
  const database = createDb({ connectionString: DATABASE_URL, schema, max: 4 });
  try {
    await migrate(database.pool);
    const repos = createRepositories(database.db, { encryptionKey: ENCRYPTION_KEY });
    const configInput = {
      watches: [{ id: 'brand', query: 'しおりノート' }],
      suppression: { maxAgeHours: 0 },
      conversations: { checkEveryMinutes: every },
    };
    const saved = await repos.config.replace(configInput, SYSTEM);
    if (!saved.ok) throw new Error(JSON.stringify(saved.problems));
    const loaded = loadConfig(configInput);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const account = await repos.accounts.create(
      {
        platform: 'x',
        label: 'bench-x',
        baseUrl: x.url,
        credentials: { kind: 'oauth2', accessToken: x.bearerToken },
        pollIntervalSeconds: 3600,
      },
      SYSTEM,
    );

    // The open cases: the customer's post, our reply on the stand-in, the match and the sent reply.
    const cases: Array<{ customer: { handle: string; id: string }; ours: string }> = [];
    const posts: Post[] = [];
    const tag = randomBytes(3).toString('hex');
    for (let i = 0; i < CASES; i++) {
      const handle = `c${tag}${i}`;
      const postId = x.addPost({ text: `しおりノートが開かない ${i}`, author: { handle, name: `客 ${i}` } });
      const tweet = x.posts().find((p) => p.id === postId);
      const customer = { handle, id: tweet?.authorId ?? '' };
      const ours = x.addPost({
        text: `@${handle} ご不便をおかけしております`,
        author: { handle: x.account.username, id: x.account.id, name: x.account.name },
        inReplyTo: postId,
      });
      cases.push({ customer, ours });
      posts.push(
        postSchema.parse({
          platform: 'x',
          id: postId,
          url: `https://x.com/${handle}/status/${postId}`,
          author: { id: customer.id, handle, displayName: `客 ${i}`, followers: 1 },
          text: `しおりノートが開かない ${i}`,
          createdAt: T0.toISOString(),
        }),
      );
    }
    const matchIds: string[] = [];
    for (let i = 0; i < posts.length; i += 200) {
      const items = posts
        .slice(i, i + 200)
        .map((post) => ({ post, decision: loaded.engine.decide(post, { now: T0 }) }));
      const { newMatches } = await repos.ingest.storeBatch(account.id, items, undefined, T0);
      const byPost = new Map(newMatches.map((m) => [m.postId, m.id]));
      for (const post of posts.slice(i, i + 200)) matchIds.push(byPost.get(post.id) ?? '');
    }
    if (matchIds.some((id) => id === '')) throw new Error('not every post matched');
    for (let i = 0; i < CASES; i++) {
      const matchId = matchIds[i] as string;
      const { reply } = await repos.replies.begin(
        matchId,
        {
          accountId: account.id,
          text: 'ご不便をおかけしております',
          idempotencyKey: `k-${matchId}`,
          actor: SYSTEM,
        },
        T0,
      );
      await repos.replies.markSent(reply.id, { platformReplyId: cases[i]?.ours ?? '', url: null }, T0, {
        followUntil: new Date(T0.getTime() + 7 * 86_400_000),
      });
    }

    // Who answers, and at which minute of the day (after the first check: the first check finds "now").
    const rand = random(20261124 + every);
    const answers = cases
      .map((c, i) => ({
        i,
        c,
        at: 1 + Math.floor(rand() * (DAY_MINUTES - 1)),
        answers: rand() < ANSWER_SHARE,
      }))
      .filter((a) => a.answers)
      .sort((a, b) => a.at - b.at);

    let clock = T0;
    const deps: PipelineDeps = {
      store: repos,
      engines: createEngineProvider(repos.config),
      connectors: createConnectorCache(async (a) => connectorFor(a, await repos.accounts.credentials(a.id))),
      enqueue: {
        notify: async () => {},
        notifyMany: async () => {},
        release: async () => {},
        review: async () => {},
        surgeMessage: async () => {},
      },
      notifier: null,
      log: pino({ level: 'silent' }),
      metrics: createMetrics(),
      now: () => clock,
    };

    x.resetUsage();
    x.resetRateLimit();
    const started = performance.now();
    let next = 0;
    let checks = 0;
    for (let minute = 0; minute < DAY_MINUTES; minute += every) {
      clock = new Date(T0.getTime() + minute * MIN);
      while (next < answers.length && (answers[next]?.at ?? Infinity) <= minute) {
        const a = answers[next] as (typeof answers)[number];
        x.addReply(a.c.ours, { text: 'ありがとうございます！助かりました', author: a.c.customer });
        next++;
      }
      // Simulated minutes pass between checks: X's 15-minute window would have reset.
      x.resetRateLimit();
      const outcome = await handleFollow({ accountId: account.id }, deps);
      if (outcome.outcome !== 'followed') throw new Error(`check at minute ${minute}: ${outcome.outcome}`);
      checks++;
    }
    const ms = performance.now() - started;
    const usage = x.usage();
    const recorded = await database.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${schema}".case_events WHERE kind = 'answer'`,
    );
    const measured = await repos.sources.usage(account.id, T0, new Date(T0.getTime() + DAY_MINUTES * MIN));
    return {
      every,
      checks,
      requests: Object.fromEntries(Object.entries(usage.endpoints).map(([k, v]) => [k, v.requests])),
      total: usage.requests,
      perCase: usage.requests / CASES,
      postsRead: Object.values(usage.endpoints).reduce((sum, e) => sum + e.postsRead, 0),
      billed: usage.billedPostReads,
      answers: next,
      recorded: recorded.rows[0]?.n ?? 0,
      measuredRequests: measured.reduce((sum, d) => sum + d.requests, 0),
      ms,
    };
  } finally {
    await database.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await database.close();
  }
}

const x = await startXSandbox();
try {
  console.log(
    `following ${CASES} open cases on the X stand-in for a simulated day; ${Math.round(ANSWER_SHARE * 100)} % of customers answer once`,
  );
  for (const every of INTERVALS) {
    const row = await run(x, every);
    const verdict = row.perCase <= GOAL ? 'PASS' : 'MISS';
    console.log(
      [
        `checkEveryMinutes ${row.every}: ${row.checks} checks`,
        `  requests ${row.total} (${Object.entries(row.requests)
          .map(([k, v]) => `${k}: ${v}`)
          .join(', ')}); kikimimi's usage_daily counted ${row.measuredRequests}`,
        `  requests per followed case per day: ${row.perCase.toFixed(3)} (goal ≤ ${GOAL}: ${verdict})`,
        `  posts read ${row.postsRead}, billed post reads ${row.billed} (${(row.billed / CASES).toFixed(3)} per case)`,
        `  answers ${row.answers}, recorded in their cases ${row.recorded}`,
        `  ${(row.ms / 1000).toFixed(1)} s for the simulated day`,
      ].join('\n'),
    );
  }
} finally {
  await x.close();
}
