import type { ConfigInput } from '@kikimimi/rules';
import { createPostGenerator, type DiscordSandbox, demoBrand, type GeneratedPost } from '@kikimimi/sandbox';
import { TEST_CONFIG, type TestWorld, waitFor } from './world.ts';

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
  // Normal traffic: the generator's brand posts of every kind (not the outage), evenly spread.
  const normal: { at: number; post: GeneratedPost }[] = [];
  const normalCount = Math.floor(((end - start) / 1000) * perSecond);
  for (let i = 0; i < normalCount; i++) {
    let post = generator.next();
    while (post.brand === undefined) post = generator.next();
    normal.push({ at: start + (i * (end - start)) / normalCount, post });
  }
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

/** Review messages of single matches (every review channel). */
export const matchMessages = (world: TestWorld) =>
  ['review', 'review-x', 'review-mastodon']
    .flatMap((name) => world.discord.messages(world.discord.channelId(name)))
    .filter((m) => !m.ephemeral && /"kk:[a-z]+:/u.test(JSON.stringify(m.components)));

/** The match a review message is for (from its buttons' custom_ids). */
export const matchIdOf = (message: Message): string | null =>
  /"kk:[a-z]+:([0-9a-f-]{36})/u.exec(JSON.stringify(message.components))?.[1] ?? null;

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
      const id = matchIdOf(message);
      if (id !== null && !firstSeen.has(id)) firstSeen.set(id, now);
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
