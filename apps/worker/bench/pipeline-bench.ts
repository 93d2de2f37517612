/**
 * The worker pipeline against the issue's targets, on this machine. Figures are printed with PASS/MISS
 * against each target, never asserted (a noisy shared machine is no place for timing assertions).
 *
 *   node apps/worker/bench/pipeline-bench.ts [--posts 20000] [--rate 15] [--seconds 20]
 *     [--stream-rate 10] [--stream-seconds 10] [--parts 1,2,3,4] [--compare-node-options '--max-semi-space-size=8']
 *
 * 1. Sustained ingest: posts/s from a poll result to stored decisions and queued review jobs, through
 *    the production `ingestPosts` with pages of 100 generated Japanese/English posts, against real
 *    PostgreSQL (own schema, ANALYZEd after the warm-up page as autovacuum would) and a real BullMQ
 *    notify queue (own prefix). Compared in the same process with the same pages through `storeBatch`
 *    alone (decisions made before timing, nothing queued), with 4 pages in flight (the worker's job
 *    concurrency), and with a fresh schema that is never ANALYZEd (a new install before autovacuum's
 *    first pass, or a server with autovacuum off).
 * 2. Latency, polled: the real worker (startWorker) in a test world polling every 1 s; posts are put on
 *    the stand-in X at a steady rate, and each is timed until its review message is in the stand-in
 *    Discord (found by a token in its text; the stand-in records createdAt).
 * 3. Latency, streamed: the same for posts broadcast on the Mastodon stand-in's stream (polling of
 *    that account slowed to 5 min so that only the stream can deliver them).
 * 4. Worker RSS: the worker in a child process (run-worker.ts) under part 2's load, /proc/<pid>/status
 *    sampled every 250 ms; then again with --compare-node-options, the proposed setting.
 * 5. Discord click → reply on the platform: a reviewer answers review messages one after another
 *    (the category button, then "submit" on the prefilled modal, through the stand-in Discord's gateway);
 *    each is timed from the submit until the reply is on the stand-in X: the interaction, the desk's
 *    transaction with its outbox, the relay, the reply job and the platform call.
 *
 * Everything it creates (schemas, Redis keys, stand-in servers, child processes) is removed at the
 * end, also on failure or Ctrl-C.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createDb, createRepositories, migrate } from '@kikimimi/db';
import { createJobQueues, JOB_IDS } from '@kikimimi/desk';
import { type ConfigInput, type Decision, loadConfig, type Post, type RulesEngine } from '@kikimimi/rules';
import {
  createPostGenerator,
  type DiscordSandboxMessage,
  demoBrand,
  type GeneratedPost,
  type PostGenerator,
  startXSandbox,
} from '@kikimimi/sandbox';
import { Redis } from 'ioredis';
import pino from 'pino';
import { createConnectorCache } from '../src/connectors.ts';
import { createEngineProvider } from '../src/engine-provider.ts';
import { createMetrics } from '../src/metrics.ts';
import type { PipelineDeps } from '../src/pipeline/deps.ts';
import { ingestPosts } from '../src/pipeline/ingest.ts';
import type { Store } from '../src/ports.ts';
import type { RunningWorker } from '../src/worker.ts';
import {
  createTestWorld,
  DATABASE_URL,
  deleteKeys,
  ENCRYPTION_KEY,
  REDIS_URL,
  TEST_CONFIG,
  type TestWorld,
} from '../test/world.ts';

const { values } = parseArgs({
  options: {
    posts: { type: 'string', default: '20000' },
    rate: { type: 'string', default: '15' },
    seconds: { type: 'string', default: '20' },
    'stream-rate': { type: 'string', default: '10' },
    'stream-seconds': { type: 'string', default: '10' },
    parts: { type: 'string', default: '1,2,3,4,5' },
    clicks: { type: 'string', default: '30' },
    /** Part 4 runs the child worker a second time with these node options ('' to skip). */
    'compare-node-options': { type: 'string', default: '--max-semi-space-size=8' },
  },
});
const POSTS = Number(values.posts);
const PAGE_SIZE = 100;
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const STREAM_RATE = Number(values['stream-rate']);
const STREAM_SECONDS = Number(values['stream-seconds']);
const CLICKS = Number(values.clicks);
const PARTS = new Set(values.parts.split(',').map((p) => p.trim()));
const COMPARE_NODE_OPTIONS = values['compare-node-options'].split(/\s+/u).filter((o) => o !== '');
const POLL_INTERVAL_S = 1;
/** After the last post, how long its review message may take before it counts as missing. */
const DRAIN_MS = 10_000;

const TARGET = {
  postsPerSecond: 2_000,
  polledP95Ms: 1_000 + POLL_INTERVAL_S * 1_000,
  streamedP95Ms: 1_000,
  rssMb: 300,
  clickToReplyP95Ms: 1_000,
};

const SYSTEM = { kind: 'system', id: 'bench', name: 'pipeline-bench' } as const;
const OWN = demoBrand.officialHandles ?? [];

/**
 * The test world's configuration with a watch for the demo brand the generator writes about, its
 * official accounts as our own, and the production suppression defaults (72 h author cooldown, so the
 * contact-history lookup runs as in production).
 */
const BENCH_CONFIG: ConfigInput = {
  ...TEST_CONFIG,
  watches: [
    {
      id: 'shiori',
      name: 'しおりノート',
      query: 'しおりノート OR shiorinote OR "shiori note" OR しおりnote',
    },
  ],
  suppression: {
    ownAccounts: OWN.flatMap((handle) => [
      { platform: 'x' as const, handle },
      { platform: 'mastodon' as const, handle },
    ]),
  },
};

// ---------------------------------------------------------------------------------------------------
// Clean-up: everything made is registered here and undone in reverse order, whatever happens.

const cleanups: Array<{ what: string; run: () => Promise<unknown> }> = [];
const defer = (what: string, run: () => Promise<unknown>) => cleanups.push({ what, run });
let cleaning: Promise<void> | null = null;
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (let next = cleanups.pop(); next !== undefined; next = cleanups.pop()) {
      try {
        await next.run();
      } catch (error) {
        console.error(`clean-up of ${next.what} failed: ${String(error)}`);
      }
    }
  })();
  return cleaning;
}
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up…`);
    cleanUp().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------------
// Helpers.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (n: number) => (Number.isFinite(n) ? `${fmt(n)} ms` : '—');

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}
function summary(values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

const verdicts: string[] = [];
function verdict(ok: boolean, line: string) {
  const text = `${ok ? 'PASS' : 'MISS'}  ${line}`;
  verdicts.push(text);
  console.log(`   ${text}`);
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

function engineFor(config: ConfigInput): RulesEngine {
  const loaded = loadConfig(config);
  if (!loaded.ok) throw new Error(`bench configuration refused: ${JSON.stringify(loaded.problems)}`);
  return loaded.engine;
}

/** A generated post as a connector would hand it on. */
function toPost(
  generated: GeneratedPost,
  platform: Post['platform'],
  id: string,
  text = generated.text,
): Post {
  const { author } = generated;
  return {
    platform,
    id,
    url:
      platform === 'x'
        ? `https://x.com/${author.handle}/status/${id}`
        : `https://mastodon.example/@${author.handle}/${id}`,
    author: {
      id: author.id,
      handle: author.handle,
      displayName: author.name,
      followers: author.followers,
      protected: false,
    },
    text,
    lang: generated.lang,
    createdAt: new Date().toISOString(),
    repostOf: null,
    inReplyTo: null,
    conversationId: null,
    hashtags: [],
    mentions: [],
  };
}

/** Realistic posts about the demo brand and the chatter around it (no reposts: they are not reviewed). */
const generatorFor = (seed: number): PostGenerator =>
  createPostGenerator({ seed, brands: [demoBrand], mix: { repost: 0 } });

// ---------------------------------------------------------------------------------------------------
// 1. Sustained ingest.

/** A schema and a notify queue of their own, and PipelineDeps on them that time each dependency. */
async function createIngestRig() {
  const id = randomBytes(4).toString('hex');
  const schema = `kk_bench_${id}`;
  const prefix = `kk-bench-${id}`;
  const database = createDb({ connectionString: DATABASE_URL, schema });
  defer(`schema ${schema}`, async () => {
    await database.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await database.close();
  });
  await migrate(database.pool);
  const repos = createRepositories(database.db, { encryptionKey: ENCRYPTION_KEY });
  const saved = await repos.config.replace(BENCH_CONFIG, SYSTEM);
  if (!saved.ok) throw new Error(`bench configuration refused: ${JSON.stringify(saved.problems)}`);
  const account = await repos.accounts.create(
    { platform: 'x', label: 'bench-x', credentials: { kind: 'oauth2', accessToken: 'bench' } },
    SYSTEM,
  );

  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  // The production queues and typed enqueue (the job catalogue's options and ids).
  const jobs = createJobQueues(connection, prefix);
  const notifyQueue = jobs.queues.notify;
  defer(`Redis prefix ${prefix}`, async () => {
    await jobs.close();
    await connection.quit();
    await deleteKeys(REDIS_URL, prefix);
  });

  // Time spent in each dependency of ingestPosts (meaningful for the sequential runs only).
  const phases = { storeBatch: 0, lookups: 0, enqueue: 0, jobs: 0 };
  const timed =
    <A extends unknown[], R>(phase: keyof typeof phases, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const start = performance.now();
      try {
        return await fn(...args);
      } finally {
        phases[phase] += performance.now() - start;
      }
    };
  const base: Store = repos;
  const store: Store = {
    ...base,
    ingest: {
      ...base.ingest,
      storeBatch: timed('storeBatch', base.ingest.storeBatch.bind(base.ingest)),
      contactHistory: timed('lookups', base.ingest.contactHistory.bind(base.ingest)),
      repliesToday: timed('lookups', base.ingest.repliesToday.bind(base.ingest)),
    },
  };
  const _retrying = { attempts: 1_000, backoff: { type: 'custom' } } as const;
  const deps: PipelineDeps = {
    store,
    engines: createEngineProvider(store.config),
    connectors: createConnectorCache(async () => {
      throw new Error('the ingest bench polls nothing');
    }),
    notifier: null,
    log: pino({ level: 'silent' }),
    metrics: createMetrics(),
    now: () => new Date(),
    enqueue: {
      // The bench measures ingest and review queuing without the surge detector (surges off).
      review: (matchIds: readonly string[]) => deps.enqueue.notifyMany(matchIds),
      release: async () => {},
      surgeMessage: async () => {},
      // As worker.ts queues a review: one job per match, its id derived from the match.
      notify: timed('enqueue', async (matchId: string) => {
        phases.jobs++;
        await jobs.enqueue('notify', { matchId }, { jobId: JOB_IDS.notify(matchId) });
      }),
      // As worker.ts queues a page's reviews: one bulk add, job ids derived from the matches.
      notifyMany: timed('enqueue', async (matchIds: readonly string[]) => {
        if (matchIds.length === 0) return;
        phases.jobs += matchIds.length;
        await jobs.enqueueMany(
          'notify',
          matchIds.map((matchId) => ({ payload: { matchId }, options: { jobId: JOB_IDS.notify(matchId) } })),
        );
      }),
    },
  };
  const cursorFor = (page: readonly Post[]) => ({
    sourceKey: 'x-search-bench',
    outcome: { cursor: page.at(-1)?.id ?? null, rateLimit: null, postsRead: page.length, requests: 1 },
  });
  return {
    schema,
    pool: database.pool,
    deps,
    base,
    phases,
    notifyQueue,
    cursorFor,
    accountId: account.id,
    ingestPage: (page: Post[]) =>
      ingestPosts({ accountId: account.id, posts: page, cursor: cursorFor(page) }, deps),
    resetPhases: () => Object.assign(phases, { storeBatch: 0, lookups: 0, enqueue: 0, jobs: 0 }),
  };
}

async function benchIngest(): Promise<void> {
  const pages = Math.ceil(POSTS / PAGE_SIZE);
  console.log(
    `\n1. Sustained ingest: ingestPosts → PostgreSQL + BullMQ notify queue, ${fmt(pages * PAGE_SIZE)} posts in pages of ${PAGE_SIZE} per run`,
  );
  const rig = await createIngestRig();
  const settings = await rig.pool.query<{ name: string; setting: string; unit: string | null }>(
    `SELECT name, setting, unit FROM pg_settings WHERE name IN ('autovacuum', 'synchronous_commit', 'shared_buffers') ORDER BY name`,
  );
  console.log(
    `   PostgreSQL: ${settings.rows.map((r) => `${r.name}=${r.setting}${r.unit && r.unit !== '' ? ` × ${r.unit}` : ''}`).join(', ')}`,
  );

  // Every run gets the same texts (same seed) under its own post ids, so runs are comparable.
  let nextId = 1_000_000_000;
  const makePages = (count: number): Post[][] => {
    const generator = generatorFor(11);
    return Array.from({ length: count }, () =>
      generator.take(PAGE_SIZE).map((g) => toPost(g, 'x', String(nextId++))),
    );
  };

  type Run = { name: string; seconds: number; posts: number; matches: number; pageMs: number[] };
  const runs: Run[] = [];
  const report = (run: Run) => {
    runs.push(run);
    const pageMs = summary(run.pageMs);
    const firstTenth = summary(run.pageMs.slice(0, Math.ceil(run.pageMs.length / 10))).p50;
    const lastTenth = summary(run.pageMs.slice(-Math.ceil(run.pageMs.length / 10))).p50;
    console.log(
      `   ${run.name.padEnd(42)} ${fmt(run.posts / run.seconds).padStart(8)} ${fmt(run.matches / run.seconds).padStart(10)} ${`${fmt(pageMs.p50, 1)} / ${fmt(pageMs.p95, 1)}`.padStart(15)} ${`${fmt(firstTenth, 1)} → ${fmt(lastTenth, 1)}`.padStart(16)}`,
    );
    return run;
  };

  /** Pages one after another (one source, one poll job at a time), or `inFlight` at once. */
  const runIngest = async (
    name: string,
    ingestPage: (page: Post[]) => Promise<{ newMatches: number }>,
    inFlight: number,
  ): Promise<Run> => {
    const work = makePages(pages);
    const pageMs: number[] = [];
    let matches = 0;
    let cursor = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        for (let page = work[cursor++]; page !== undefined; page = work[cursor++]) {
          const began = performance.now();
          const result = await ingestPage(page);
          matches += result.newMatches;
          pageMs.push(performance.now() - began);
        }
      }),
    );
    return { name, seconds: (performance.now() - start) / 1000, posts: pages * PAGE_SIZE, matches, pageMs };
  };

  // Warm-up: one page (JIT, pool connections, the configuration, the queue's scripts). Then the
  // statistics autovacuum would gather on a production server (this one may have it off, see above).
  await rig.ingestPage(makePages(1)[0] as Post[]);
  await rig.pool.query('ANALYZE');
  console.log(
    `   ${'run'.padEnd(42)} ${'posts/s'.padStart(8)} ${'matches/s'.padStart(10)} ${'ms/page p50/p95'.padStart(15)} ${'first→last 10 %'.padStart(16)}`,
  );

  rig.resetPhases();
  const production = report(await runIngest('ingestPosts, one page at a time', rig.ingestPage, 1));
  const breakdown = { ...rig.phases };

  // Baseline: the same pages through storeBatch alone, decisions made before the clock starts.
  const baseline = await (async () => {
    const { engine } = await rig.deps.engines.current();
    const now = new Date();
    const work = makePages(pages).map((page) =>
      page.map((post) => ({
        post,
        decision: engine.decide(post, { now, contactHistory: [], repliesToday: {} }) as Decision,
      })),
    );
    const pageMs: number[] = [];
    let matches = 0;
    const start = performance.now();
    for (const items of work) {
      const began = performance.now();
      const result = await rig.base.ingest.storeBatch(
        rig.accountId,
        items,
        { cursor: { accountId: rig.accountId, ...rig.cursorFor(items.map((i) => i.post)) } },
        new Date(),
      );
      matches += result.newMatches.length;
      pageMs.push(performance.now() - began);
    }
    return report({
      name: 'baseline: storeBatch only, no rules/queue',
      seconds: (performance.now() - start) / 1000,
      posts: pages * PAGE_SIZE,
      matches,
      pageMs,
    });
  })();

  const concurrent = report(await runIngest('ingestPosts, 4 pages in flight', rig.ingestPage, 4));

  // The same in a fresh schema whose tables were never analysed (autovacuum off, as on this server).
  const unanalysed = await createIngestRig();
  await unanalysed.ingestPage(makePages(1)[0] as Post[]);
  const stale = report(await runIngest('ingestPosts, tables never ANALYZEd', unanalysed.ingestPage, 1));

  const perPage = (total: number) => total / pages;
  const total = production.seconds * 1000;
  const rest = total - breakdown.storeBatch - breakdown.lookups - breakdown.enqueue;
  console.log(
    `   ingestPosts per page (one at a time): ${fmt(perPage(total), 2)} ms = storeBatch ${fmt(perPage(breakdown.storeBatch), 2)}` +
      ` + contact/reply lookups ${fmt(perPage(breakdown.lookups), 2)}` +
      ` + enqueue ${fmt(perPage(breakdown.enqueue), 2)} (${fmt(perPage(breakdown.jobs), 1)} jobs in one addBulk a page)` +
      ` + rules and the rest ${fmt(perPage(rest), 2)}`,
  );
  const rate = (run: Run) => run.posts / run.seconds;
  const counts = await rig.notifyQueue.getJobCounts('waiting', 'delayed', 'prioritized');
  console.log(
    `   posts/s ingestPosts ÷ storeBatch-only baseline: ${fmt(rate(production) / rate(baseline), 2)}×` +
      ` · 4 in flight ÷ one at a time: ${fmt(rate(concurrent) / rate(production), 2)}×` +
      ` · never-ANALYZEd ÷ ANALYZEd: ${fmt(rate(stale) / rate(production), 2)}×` +
      ` · notify jobs queued: ${fmt(Object.values(counts).reduce((a, b) => a + b, 0))}`,
  );
  verdict(
    rate(production) >= TARGET.postsPerSecond,
    `sustained ingest, one page at a time: ${fmt(rate(production))} posts/s (target ≥ ${fmt(TARGET.postsPerSecond)})`,
  );
  verdict(
    rate(concurrent) >= TARGET.postsPerSecond,
    `sustained ingest, 4 pages in flight: ${fmt(rate(concurrent))} posts/s (target ≥ ${fmt(TARGET.postsPerSecond)})`,
  );
  verdict(
    rate(stale) >= TARGET.postsPerSecond,
    `sustained ingest on never-ANALYZEd tables (new install / autovacuum off): ${fmt(rate(stale))} posts/s (target ≥ ${fmt(TARGET.postsPerSecond)})`,
  );
}

// ---------------------------------------------------------------------------------------------------
// 2–4. Latency and memory in a test world.

interface Sent {
  readonly token: string;
  readonly at: number;
  readonly platformId: string;
  /** The rules match it and do not suppress it: a review message is due. */
  readonly expected: boolean;
}

/** A token in the text finds the post's review message (letters and digits survive quoting). */
const TOKEN = /kkb(\d+)q/u;
let tokenCounter = 0;

/**
 * Puts generated posts on a stand-in at a steady rate, recording when each was added and whether
 * the rules will want a review message for it.
 */
async function steadyLoad(options: {
  rate: number;
  seconds: number;
  seed: number;
  platform: Post['platform'];
  engine: RulesEngine;
  add: (text: string, generated: GeneratedPost) => string;
}): Promise<Sent[]> {
  const generator = generatorFor(options.seed);
  const sent: Sent[] = [];
  const count = Math.round(options.rate * options.seconds);
  const start = performance.now();
  const now = new Date();
  for (let i = 0; i < count; i++) {
    await sleep(start + (i * 1000) / options.rate - performance.now());
    const generated = generator.next();
    const token = `kkb${++tokenCounter}q`;
    const text = `${generated.text} ${token}`;
    const decision = options.engine.decide(toPost(generated, options.platform, token, text), {
      now,
      contactHistory: [],
      repliesToday: {},
    });
    const at = Date.now();
    const platformId = options.add(text, generated);
    sent.push({ token, at, platformId, expected: decision.matched && !decision.suppressed });
  }
  return sent;
}

interface LatencyResult {
  readonly expected: number;
  readonly delivered: number;
  readonly missing: string[];
  readonly unexpected: number;
  readonly total: ReturnType<typeof summary>;
  readonly toStored: ReturnType<typeof summary>;
  readonly storedToMessage: ReturnType<typeof summary>;
}

/**
 * Waits for the review messages of the posts sent, then times each: post added → review message
 * created (the stand-in's createdAt), split at the match's creation time in the database.
 */
async function measureLatency(
  world: TestWorld,
  query: (sql: string, params: unknown[]) => Promise<{ rows: Array<Record<string, unknown>> }>,
  sent: readonly Sent[],
  platform: Post['platform'],
): Promise<LatencyResult> {
  const byToken = new Map(sent.map((s) => [s.token, s]));
  const expected = sent.filter((s) => s.expected);
  const found = new Map<string, DiscordSandboxMessage>();
  const scan = () => {
    for (const message of world.discord.messages()) {
      const token = TOKEN.exec(JSON.stringify(message.embeds))?.[0];
      if (token !== undefined && byToken.has(token) && !found.has(token)) found.set(token, message);
    }
    return expected.every((s) => found.has(s.token));
  };
  const deadline = Math.max(...sent.map((s) => s.at)) + DRAIN_MS;
  while (!scan() && Date.now() < deadline) await sleep(100);

  const { rows } = await query(
    'SELECT post_id, created_at FROM matches WHERE platform = $1 AND post_id = ANY($2::text[])',
    [platform, sent.map((s) => s.platformId)],
  );
  const storedAt = new Map(rows.map((r) => [String(r.post_id), new Date(r.created_at as Date).getTime()]));

  const total: number[] = [];
  const toStored: number[] = [];
  const storedToMessage: number[] = [];
  for (const s of expected) {
    const message = found.get(s.token);
    if (message === undefined) continue;
    const messageAt = Date.parse(message.createdAt);
    total.push(messageAt - s.at);
    const stored = storedAt.get(s.platformId);
    if (stored !== undefined) {
      toStored.push(stored - s.at);
      storedToMessage.push(messageAt - stored);
    }
  }
  return {
    expected: expected.length,
    delivered: total.length,
    missing: expected.filter((s) => !found.has(s.token)).map((s) => s.token),
    unexpected: [...found.keys()].filter((t) => byToken.get(t)?.expected === false).length,
    total: summary(total),
    toStored: summary(toStored),
    storedToMessage: summary(storedToMessage),
  };
}

function printLatency(result: LatencyResult, sentCount: number) {
  const line = (name: string, s: ReturnType<typeof summary>) =>
    console.log(
      `   ${name.padEnd(34)} p50 ${ms(s.p50).padStart(8)}   p95 ${ms(s.p95).padStart(8)}   max ${ms(s.max).padStart(8)}${s.n === result.delivered ? '' : `   (${s.n} of them)`}`,
    );
  console.log(
    `   ${fmt(sentCount)} posts added, ${fmt(result.expected)} due a review message, ${fmt(result.delivered)} arrived` +
      (result.missing.length > 0
        ? `, ${result.missing.length} MISSING after ${DRAIN_MS / 1000} s (${result.missing.slice(0, 5).join(', ')})`
        : '') +
      (result.unexpected > 0 ? `, ${result.unexpected} posted that the bench did not expect` : ''),
  );
  line('post added → review message', result.total);
  line('  post added → match stored', result.toStored);
  line('  match stored → review message', result.storedToMessage);
}

/** Requests per second a stand-in received on a path while `run` ran. */
async function requestRate<T>(
  count: () => number,
  run: () => Promise<T>,
): Promise<{ result: T; perSecond: number }> {
  const before = count();
  const start = performance.now();
  const result = await run();
  return { result, perSecond: (count() - before) / ((performance.now() - start) / 1000) };
}

async function benchWorld(): Promise<void> {
  const world = await createTestWorld({ config: BENCH_CONFIG, pollIntervalSeconds: POLL_INTERVAL_S });
  defer('test world', () => world.close());
  const database = createDb({ connectionString: DATABASE_URL, schema: world.schema, max: 2 });
  defer('bench pool', () => database.close());
  const query = (sql: string, params: unknown[]) => database.pool.query(sql, params);
  const engine = engineFor(BENCH_CONFIG);

  // The stand-in X gives X's app budget (450 searches / 15 min), which the worker's adaptive interval
  // turns into a poll every ~2 s whatever the configuration says. To time a 1 s poll interval, the
  // X account is pointed at a stand-in with a larger budget (as an X plan with more requests would).
  const x = await startXSandbox({ rateLimit: { limit: 100_000, windowSeconds: 900 } });
  defer('X stand-in', () => x.close());
  await world.repos.accounts.update(
    world.accounts.x,
    { baseUrl: x.url, credentials: { kind: 'oauth2', accessToken: x.bearerToken } },
    SYSTEM,
  );
  const SEARCH = '/2/tweets/search/recent';
  const addToX = (text: string, g: GeneratedPost) =>
    x.addPost({
      text,
      author: { handle: g.author.handle, name: g.author.name, followers: g.author.followers },
      lang: g.lang,
    });
  const addToMastodon = (text: string, g: GeneratedPost) =>
    world.mastodon.addPost({
      text,
      author: { handle: g.author.handle, name: g.author.name, followers: g.author.followers },
      lang: g.lang,
    });
  /** The worker has polled X at least twice: cursors are set, later posts are new to it. */
  const polling = async () => {
    const seen = x.requestCount(SEARCH);
    await waitUntil(() => x.requestCount(SEARCH) >= seen + 2, 20_000, 'the worker to poll the stand-in X');
  };

  let worker: RunningWorker | null = null;
  if (PARTS.has('2')) {
    console.log(
      `\n2. Latency, polled: real worker in this process, poll interval ${POLL_INTERVAL_S} s, ${RATE} posts/s on the stand-in X for ${SECONDS} s`,
    );
    worker = await world.startWorker();
    await polling();
    const { result: sent, perSecond } = await requestRate(
      () => x.requestCount(SEARCH),
      () => steadyLoad({ rate: RATE, seconds: SECONDS, seed: 21, platform: 'x', engine, add: addToX }),
    );
    const result = await measureLatency(world, query, sent, 'x');
    printLatency(result, sent.length);
    console.log(
      `   X searches during the load: ${fmt(perSecond, 2)}/s (an effective poll interval of ${fmt(1000 / perSecond)} ms)`,
    );
    verdict(
      result.missing.length === 0 && result.total.p95 < TARGET.polledP95Ms,
      `polled p95 ${ms(result.total.p95)} (target < 1 s + poll interval ${POLL_INTERVAL_S} s = ${ms(TARGET.polledP95Ms)})${result.missing.length > 0 ? `; ${result.missing.length} never arrived` : ''}`,
    );
  }

  if (PARTS.has('3')) {
    console.log(
      `\n3. Latency, streamed: Mastodon public stream, ${STREAM_RATE} posts/s for ${STREAM_SECONDS} s (that account's polling slowed to 5 min)`,
    );
    await worker?.close();
    await world.repos.accounts.update(
      world.accounts.mastodon,
      { streamEnabled: true, pollIntervalSeconds: 300 },
      SYSTEM,
    );
    worker = await world.startWorker();
    await waitUntil(() => world.mastodon.streamConnections >= 1, 20_000, 'the worker to open the stream');
    const sent = await steadyLoad({
      rate: STREAM_RATE,
      seconds: STREAM_SECONDS,
      seed: 31,
      platform: 'mastodon',
      engine,
      add: addToMastodon,
    });
    const result = await measureLatency(world, query, sent, 'mastodon');
    printLatency(result, sent.length);
    verdict(
      result.missing.length === 0 && result.total.p95 < TARGET.streamedP95Ms,
      `streamed p95 ${ms(result.total.p95)} (target < ${ms(TARGET.streamedP95Ms)})${result.missing.length > 0 ? `; ${result.missing.length} never arrived` : ''}`,
    );
  }
  await worker?.close();
  worker = null;

  if (PARTS.has('5')) {
    console.log(
      `\n5. Discord click → reply on X: ${CLICKS} review messages answered one after another (submit → reply on the stand-in X)`,
    );
    worker = await world.startWorker();
    await polling();
    const alice = world.discord.userId('alice');
    const times: number[] = [];
    for (let i = 0; i < CLICKS; i++) {
      const token = `click${i}x${randomBytes(3).toString('hex')}`;
      const postId = x.addPost({
        text: `しおりノート 使い方がわからない ${token}`,
        author: { handle: `clicker_${i}_${token.slice(-4)}` },
        lang: 'ja',
      });
      const review = await world.discord.waitForMessage(
        (m) => JSON.stringify(m.embeds).includes(token),
        20_000,
      );
      const rows = review.components as Array<{ components: Array<{ custom_id?: string }> }>;
      const replyButton = rows.flatMap((row) => row.components).find((b) => b.custom_id?.startsWith('kk:r:'));
      const opened = await world.discord.clickButton({
        messageId: review.id,
        customId: replyButton?.custom_id ?? '',
        userId: alice,
      });
      const started = performance.now();
      await world.discord.submitModal({
        customId: opened.modal?.customId ?? '',
        userId: alice,
        messageId: review.id,
      });
      const deadline = Date.now() + 20_000;
      while (!x.replies().some((r) => r.inReplyTo === postId)) {
        if (Date.now() > deadline) throw new Error(`no reply on X for click ${i}`);
        await sleep(2);
      }
      times.push(performance.now() - started);
    }
    const clicks = summary(times);
    console.log(
      `   submit → reply on X: p50 ${ms(clicks.p50)} · p95 ${ms(clicks.p95)} · max ${ms(clicks.max)} (n=${clicks.n})`,
    );
    verdict(
      clicks.p95 < TARGET.clickToReplyP95Ms,
      `Discord submit → reply on the platform p95 ${ms(clicks.p95)} (target < ${ms(TARGET.clickToReplyP95Ms)})`,
    );
    await worker.close();
  }

  if (PARTS.has('4')) {
    console.log(
      `\n4. Worker RSS: the worker in a child process under part 2's load (${RATE} posts/s on X for ${SECONDS} s${PARTS.has('3') ? ', Mastodon stream held' : ''})`,
    );
    const variants: Array<{ label: string; execArgv: string[] }> = [{ label: 'node defaults', execArgv: [] }];
    if (COMPARE_NODE_OPTIONS.length > 0)
      variants.push({ label: COMPARE_NODE_OPTIONS.join(' '), execArgv: COMPARE_NODE_OPTIONS });
    for (const [i, variant] of variants.entries()) {
      const child = await startChildWorker(world, variant.execArgv);
      const rss = sampleRss(child.pid);
      const atStart = rss.current();
      await polling();
      const sent = await steadyLoad({
        rate: RATE,
        seconds: SECONDS,
        seed: 41 + i,
        platform: 'x',
        engine,
        add: addToX,
      });
      const result = await measureLatency(world, query, sent, 'x');
      const samples = rss.stop();
      const heap = await child.memory();
      await child.stop();
      const peak = Math.max(samples.max, samples.hwm);
      console.log(
        `   ${variant.label.padEnd(26)} RSS when ready ${fmt(atStart, 1)} MB · max sampled ${fmt(samples.max, 1)} MB (${samples.count} samples) · VmHWM ${fmt(samples.hwm, 1)} MB` +
          ` · V8 after the load: ${heap}` +
          ` · review messages ${result.delivered}/${result.expected}, p95 ${ms(result.total.p95)}`,
      );
      verdict(
        peak < TARGET.rssMb,
        `worker RSS peak ${fmt(peak, 1)} MB with ${variant.label} (target < ${TARGET.rssMb} MB)${i > 0 ? ' — the proposed setting' : ''}`,
      );
    }
  }
}

const RUN_WORKER = fileURLToPath(new URL('./run-worker.ts', import.meta.url));

/** Resolves with `promise`, or rejects after `ms` (the timer never outlives the race). */
async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Starts run-worker.ts on the world's options; resolves once it says it is ready. */
async function startChildWorker(world: TestWorld, execArgv: readonly string[]) {
  const child = spawn(process.execPath, [...execArgv, RUN_WORKER], {
    env: {
      ...process.env,
      KIKIMIMI_WORKER_OPTIONS: JSON.stringify({ ...world.workerOptions, migrate: false }),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let answer: ((memory: string) => void) | null = null;
  /** The child's V8 heap figures, asked for on its stdin. */
  const memory = async () => {
    const reply = new Promise<string>((resolve) => {
      answer = resolve;
    });
    child.stdin?.write('memory\n');
    return within(reply, 2_000, 'no answer').catch(() => '?');
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin?.end();
      child.kill('SIGTERM');
      await within(exited, 10_000, 'the child worker did not stop within 10 s').catch(() => {
        child.kill('SIGKILL');
        return exited;
      });
    }
    children.delete(child);
  };
  defer(`child worker ${child.pid}`, stop);
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const ready = new Promise<number>((resolve) =>
    lines.on('line', (line) => {
      try {
        const message = JSON.parse(line) as { pid?: number; ready?: boolean; memory?: string };
        if (message.ready === true && typeof message.pid === 'number') resolve(message.pid);
        if (typeof message.memory === 'string') answer?.(message.memory);
      } catch {
        // Not our line.
      }
    }),
  );
  const pid = await within(
    Promise.race([
      ready,
      exited.then(() => {
        throw new Error(
          `the child worker exited (${child.exitCode ?? child.signalCode}) before it was ready`,
        );
      }),
    ]),
    30_000,
    'the child worker was not ready within 30 s',
  );
  return { pid, stop, memory };
}

/** VmRSS of a process every 250 ms, and its VmHWM (peak) at the end, in MB. */
function sampleRss(pid: number) {
  const read = (field: 'VmRSS' | 'VmHWM') => {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, 'mu').exec(status)?.[1];
    return kb === undefined ? Number.NaN : Number(kb) / 1024;
  };
  let max = 0;
  let count = 0;
  const sample = () => {
    try {
      max = Math.max(max, read('VmRSS'));
      count++;
    } catch {
      // The process is gone; the report says so through the sample count.
    }
  };
  sample();
  const timer = setInterval(sample, 250);
  return {
    current: () => read('VmRSS'),
    stop() {
      clearInterval(timer);
      sample();
      return { max, count, hwm: read('VmHWM') };
    },
  };
}

// ---------------------------------------------------------------------------------------------------

const cpus = os.cpus();
console.log(
  `kikimimi worker pipeline benchmark — Node ${process.version}, ${cpus.length} CPUs (${cpus[0]?.model.trim() ?? '?'}), load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(
  `targets: ≥ ${fmt(TARGET.postsPerSecond)} posts/s sustained ingest · polled p95 < 1 s + poll interval · streamed p95 < 1 s · worker RSS < ${TARGET.rssMb} MB`,
);
const began = performance.now();
try {
  if (PARTS.has('1')) await benchIngest();
  if (PARTS.has('2') || PARTS.has('3') || PARTS.has('4')) await benchWorld();
} catch (error) {
  console.error('\nbenchmark failed:', error);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
console.log(
  `\nsummary (${fmt((performance.now() - began) / 1000, 1)} s, load average now ${os.loadavg()[0]?.toFixed(2)}):`,
);
for (const line of verdicts) console.log(`   ${line}`);
// Everything is closed; if a stray handle still keeps the loop alive, say so rather than hang.
setTimeout(() => {
  console.error(`left open after clean-up: ${process.getActiveResourcesInfo().join(', ')}; exiting anyway`);
  process.exit(process.exitCode ?? 0);
}, 3_000).unref();
