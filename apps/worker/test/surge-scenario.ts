import { createHash } from 'node:crypto';
import type { MatchRecord } from '@kikimimi/db';
import type { ConfigInput, Post } from '@kikimimi/rules';
import {
  createPostGenerator,
  createRandom,
  type DiscordSandbox,
  demoBrand,
  type GeneratedPost,
} from '@kikimimi/sandbox';
import pg from 'pg';
import pino from 'pino';
import { createConnectorCache } from '../src/connectors.ts';
import { createEngineProvider } from '../src/engine-provider.ts';
import { createMetrics } from '../src/metrics.ts';
import type { PipelineDeps } from '../src/pipeline/deps.ts';
import { ingestPosts } from '../src/pipeline/ingest.ts';
import { DATABASE_URL, TEST_CONFIG, type TestWorld, waitFor } from './world.ts';

/**
 * The outage scenario of issue 15 over the stand-ins, shared by apps/worker/test/surges.test.ts and
 * apps/worker/bench/surge-bench.ts: an outage burst of the generator (1,000 near-identical posts)
 * among normal traffic, added to the X stand-in in real time as their times come, while the worker
 * polls it and the Discord stand-in enforces its per-channel rate limit.
 */
export const SURGE_CONFIG: ConfigInput = {
  ...TEST_CONFIG,
  watches: [
    {
      id: 'shiori',
      name: 'しおりノート',
      query: 'しおりノート OR shiorinote OR "shiori note" OR しおりnote',
    },
  ],
  suppression: { authorCooldownHours: 0, maxAgeHours: 0 },
};

/**
 * The same with the surge hold on (`surges.holdSeconds` 60; the default is 0, no review waits): for the
 * tests and the replay of what holding does.
 */
export const HOLDING_CONFIG: ConfigInput = { ...SURGE_CONFIG, surges: { holdSeconds: 60 } };

export type Message = ReturnType<DiscordSandbox['messages']>[number];

export interface ScenarioOptions {
  /** Outage posts (default 1,000). */
  readonly burstCount?: number;
  /** Over how long (default 2 minutes, the issue's). */
  readonly burstMs?: number;
  /** Normal posts per second before, during and after the burst (default 1). */
  readonly normalPerSecond?: number;
  /** Normal traffic alone before the burst, and after it (default 20 s each). */
  readonly calmMs?: number;
  /** How normal posts come: see {@link normalTimes} (default `random`). */
  readonly arrivals?: Arrivals;
  /** The seed of random arrivals' times (the posts themselves are always the same). */
  readonly arrivalSeed?: number;
}

/**
 * `random`: as people post, independently of each other and of anything kikimimi does (a Poisson
 * process: the count's times drawn uniformly over the span, seeded so that a run can be replayed);
 * `even`: one every 1/rate seconds exactly. Even arrivals keep one phase against the poll (X is searched
 * every 2 s), so every normal post waits about as long as the one before it: a latency percentile then
 * says more about that phase, which a run draws by chance, than about the pipeline.
 */
export type Arrivals = 'random' | 'even';

/** The benchmarks' `--arrivals` and `--seed` options, checked: what is wrong is said, naming it. */
export function arrivalsOptions(values: { arrivals: string; seed: string }): {
  arrivals: Arrivals;
  seed: number;
} {
  const { arrivals } = values;
  if (arrivals !== 'random' && arrivals !== 'even')
    throw new Error(`--arrivals: expected random or even, got ${JSON.stringify(arrivals)}`);
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(seed))
    throw new Error(`--seed: expected a whole number, got ${JSON.stringify(values.seed)}`);
  return { arrivals, seed };
}

/** The times (ms, ascending) of `count` normal posts over [start, end). */
export function normalTimes(
  start: number,
  end: number,
  count: number,
  arrivals: Arrivals = 'random',
  seed = 1,
): number[] {
  if (arrivals === 'even')
    return Array.from({ length: count }, (_, i) => start + (i * (end - start)) / count);
  // A stream of its own: the posts' contents (the generator's stream) stay those of an even run.
  const random = createRandom(seed);
  return Array.from({ length: count }, () => start + random.next() * (end - start)).sort((a, b) => a - b);
}

export interface ScenarioResult {
  readonly burstStart: number;
  readonly burstEnd: number;
  /** X post id → the time it was added (ms), and whether it is an outage post. */
  readonly added: Map<string, { at: number; outage: boolean; text: string }>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Adds the scenario's posts to the X stand-in in real time; resolves when the last one is added. */
export async function playScenario(world: TestWorld, options: ScenarioOptions = {}): Promise<ScenarioResult> {
  const burstCount = options.burstCount ?? 1_000;
  const burstMs = options.burstMs ?? 120_000;
  const calmMs = options.calmMs ?? 20_000;
  const perSecond = options.normalPerSecond ?? 1;
  const start = Date.now() + 500;
  const burstStart = start + calmMs;
  const end = burstStart + burstMs + calmMs;
  const generator = createPostGenerator({ seed: 15, brands: [demoBrand], now: () => new Date() });
  // Normal traffic: the generator's brand posts of every kind (not the outage), at their times.
  const times = normalTimes(
    start,
    end,
    Math.floor(((end - start) / 1000) * perSecond),
    options.arrivals,
    options.arrivalSeed,
  );
  const normal = times.map((at) => {
    let post = generator.next();
    while (post.brand === undefined) post = generator.next();
    return { at, post };
  });
  const burst = generator
    .outageBurst({ start: new Date(burstStart), count: burstCount, durationMs: burstMs })
    .map((post) => ({ at: post.createdAt.getTime(), post }));
  const timeline = [
    ...normal.map((n) => ({ ...n, outage: false })),
    ...burst.map((b) => ({ ...b, outage: true })),
  ].sort((a, b) => a.at - b.at);
  const added = new Map<string, { at: number; outage: boolean; text: string }>();
  for (const item of timeline) {
    await sleep(item.at - Date.now());
    const now = Date.now();
    const id = world.x.addPost({
      text: item.post.text,
      author: item.post.author,
      lang: item.post.lang,
      createdAt: new Date(now),
    });
    added.set(id, { at: now, outage: item.outage, text: item.post.text });
  }
  return { burstStart, burstEnd: burstStart + burstMs, added };
}

/** A Discord message's embed text. */
export const embedText = (message: Message) => JSON.stringify(message.embeds);

/** Surge messages (in the default review channel) of the world. */
export const surgeMessages = (world: TestWorld) =>
  world.discord
    .messages(world.discord.channelId('review'))
    .filter((m) => !m.ephemeral && /kks:a:/u.test(JSON.stringify(m.components)));

const REVIEW_CHANNELS = ['review', 'review-x', 'review-mastodon'];

/**
 * Review messages of matches: in every review channel, and in the threads under them (a match
 * of a surge's intent that the surge did not take in is reviewed in the thread of the surge's message).
 */
export const matchMessages = (world: TestWorld) => {
  const channels = new Set(REVIEW_CHANNELS.map((name) => world.discord.channelId(name)));
  const threads = world.discord.threads().filter((thread) => channels.has(thread.parentId));
  return [...channels, ...threads.map((thread) => thread.id)]
    .flatMap((id) => world.discord.messages(id))
    .filter((m) => !m.ephemeral && /"kk:[a-z]+:/u.test(JSON.stringify(m.components)));
};

/** Review messages of matches in the review channels themselves (not in threads), in order. */
export const channelMatchMessages = (world: TestWorld) =>
  REVIEW_CHANNELS.flatMap((name) => world.discord.messages(world.discord.channelId(name))).filter(
    (m) => !m.ephemeral && /"kk:[a-z]+:/u.test(JSON.stringify(m.components)),
  );

/** Review messages of matches posted in a surge's thread (`matchMessages` counts them too). */
export const surgeThreadMessages = (world: TestWorld) => {
  const surgeMessageIds = new Set(surgeMessages(world).map((m) => m.id));
  return world.discord
    .threads()
    .filter((thread) => surgeMessageIds.has(thread.messageId))
    .flatMap((thread) => world.discord.messages(thread.id))
    .filter((m) => !m.ephemeral && /"kk:[a-z]+:/u.test(JSON.stringify(m.components)));
};

/**
 * The matches a review message is for (from its buttons' custom_ids): one, or several when reviews
 * share a message in a surge's thread.
 */
export const matchIdsOf = (message: { readonly components: readonly unknown[] }): string[] => [
  ...new Set(
    [...JSON.stringify(message.components).matchAll(/"kk:[a-z]+:([0-9a-f-]{36})/gu)].map(
      (m) => m[1] as string,
    ),
  ),
];

/** The text displays of a message in components v2 (a shared review message: one per review). */
export const textDisplaysOf = (message: { readonly components: readonly unknown[] }): string[] => {
  const walk = (components: readonly unknown[]): string[] =>
    components.flatMap((c) => {
      const component = c as { type?: number; content?: string; components?: unknown[] };
      return [
        ...(component.type === 10 && typeof component.content === 'string' ? [component.content] : []),
        ...walk(component.components ?? []),
      ];
    });
  return walk(message.components);
};

/** When each match's review message was first seen, by match id: polled every 50 ms. */
export function watchReviewMessages(world: TestWorld): {
  firstSeen: Map<string, number>;
  surgeSeenAt: () => number | null;
  stop(): void;
} {
  const firstSeen = new Map<string, number>();
  let surgeAt: number | null = null;
  const timer = setInterval(() => {
    const now = Date.now();
    if (surgeAt === null && surgeMessages(world).length > 0) surgeAt = now;
    for (const message of matchMessages(world)) {
      for (const id of matchIdsOf(message)) if (!firstSeen.has(id)) firstSeen.set(id, now);
    }
  }, 50);
  return { firstSeen, surgeSeenAt: () => surgeAt, stop: () => clearInterval(timer) };
}

export const percentile = (values: readonly number[], p: number): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
};

export { waitFor };

/** A generated post as the X connector would hand it on (an X-like id from the post's ref). */
export const toPost = (g: GeneratedPost): Post => {
  const id = `1${createHash('sha1').update(g.ref).digest('hex').replace(/\D/gu, '').slice(0, 17)}`;
  return {
    platform: 'x',
    id,
    url: `https://x.com/${g.author.handle}/status/${id}`,
    author: {
      id: g.author.id,
      handle: g.author.handle,
      displayName: g.author.name,
      followers: g.author.followers,
      protected: false,
    },
    text: g.text,
    lang: g.lang,
    createdAt: g.createdAt.toISOString(),
    repostOf: null,
    inReplyTo: null,
    conversationId: null,
    hashtags: [],
    mentions: [],
  };
};

/**
 * Deps to run the worker's ingest outside a worker; `review` is where new matches go (default:
 * nowhere) and `now` its clock.
 */
/** An X post by customer `n` (its own account, id and link) saying `text`, posted at `at`. */
export const xPost = (n: number, text: string, at: number = Date.now()): Post => ({
  platform: 'x',
  id: String(n),
  url: `https://x.com/c${n}/status/${n}`,
  author: {
    id: `c${n}`,
    handle: `customer${n}`,
    displayName: `Customer ${n}`,
    followers: 10,
    protected: false,
  },
  text,
  lang: 'ja',
  createdAt: new Date(at).toISOString(),
  repostOf: null,
  inReplyTo: null,
  conversationId: null,
  hashtags: [],
  mentions: [],
});

/** An open surge of the match's watch and intent, `count` members strong, as the detector records one. */
export const surgeSummary = (match: MatchRecord, id: string, at: number, count = 20) => ({
  id,
  watchId: match.decision.watches[0] as string,
  status: 'open' as const,
  detectedAt: at,
  firstAt: at,
  lastAt: at,
  count,
  intents: { [match.decision.intent]: count },
  platforms: { [match.platform]: count },
  examples: [],
  perMinute: [],
});

export function ingestDeps(
  world: TestWorld,
  enqueue: Partial<PipelineDeps['enqueue']> & { review?: PipelineDeps['enqueue']['review'] },
  now: () => Date = () => new Date(),
): PipelineDeps {
  const nothing = async () => {};
  return {
    store: world.repos,
    engines: createEngineProvider(world.repos.config),
    connectors: createConnectorCache(async () => {
      throw new Error('nothing is polled here');
    }),
    notifier: null,
    log: pino({ level: 'silent' }),
    metrics: createMetrics(),
    now,
    enqueue: {
      notify: nothing,
      notifyMany: nothing,
      release: nothing,
      review: nothing,
      surgeMessage: nothing,
      ...enqueue,
    },
  };
}

/**
 * One everyday match stored `minutes` ago (default 30): the deployment has been listening that long. A
 * surge detector compares a flood with what it watched before it, and says nothing is a surge before
 * it has watched a window (README "Surges"): tests that make one call this before starting the worker.
 */
export async function watchingSince(world: TestWorld, minutes = 30): Promise<void> {
  const generator = createPostGenerator({ seed: 17, brands: [demoBrand], now: () => new Date() });
  const post = toPost({
    ...generator.next(),
    text: 'しおりノート 使い始めました',
    createdAt: new Date(Date.now() - minutes * 60_000),
  });
  await ingestPosts({ accountId: world.accounts.x, posts: [post] }, ingestDeps(world, {}));
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  try {
    const { rowCount } = await pool.query(
      `UPDATE "${world.schema}".matches SET status = 'dismissed' WHERE status = 'new'`,
    );
    if (rowCount !== 1) throw new Error(`watchingSince: ${rowCount} matches stored, expected 1`);
  } finally {
    await pool.end();
  }
}

/**
 * Hours of normal traffic before now, stored as a running deployment would have them (matches of
 * the posts' times, already decided): what the surge detector learns the usual from when it starts.
 */
export async function storeHistory(world: TestWorld, hours: number, perSecond: number): Promise<number> {
  const end = Date.now() - 60_000;
  const start = end - hours * 3_600_000;
  const count = Math.floor(hours * 3_600 * perSecond);
  const generator = createPostGenerator({ seed: 16, brands: [demoBrand], now: () => new Date() });
  const deps = ingestDeps(world, {});
  const page: Post[] = [];
  for (let i = 0; i < count; i++) {
    let post = generator.next();
    while (post.brand === undefined) post = generator.next();
    page.push(toPost({ ...post, createdAt: new Date(start + (i * (end - start)) / count) }));
    if (page.length === 500 || i === count - 1) {
      await ingestPosts({ accountId: world.accounts.x, posts: page.splice(0) }, deps);
    }
  }
  // Decided long ago: not work for the reviewers (nor for the sweeper, which re-drives reviews).
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  try {
    await pool.query(`UPDATE "${world.schema}".matches SET status = 'dismissed' WHERE status = 'new'`);
  } finally {
    await pool.end();
  }
  return count;
}
