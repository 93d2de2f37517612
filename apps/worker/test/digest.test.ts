import { JOB_IDS } from '@kikimimi/desk';
import { loadConfig, type Post, postSchema } from '@kikimimi/rules';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestKey } from '../src/pipeline/digest.ts';
import { surgeSummary } from './surge-scenario.ts';
import { createTestWorld, REDIS_URL, TEST_CONFIG, type TestWorld, waitFor } from './world.ts';

/*
 * The scheduled digest end to end: the real worker with its job scheduler, real PostgreSQL and Redis,
 * the Discord stand-in. A period is posted once: again ticks find its job; after Redis lost the job,
 * the audit entry keeps it from being posted twice.
 */

const SYSTEM = { kind: 'system', id: 'test', name: 'test' } as const;
const HOUR = 3_600_000;
let world: TestWorld;
let periodEnd: Date;

const config = (every: 'daily' | 'off', hour: number) => ({
  ...TEST_CONFIG,
  conversations: { digest: { every, channel: 'pr', hour } },
});

beforeAll(async () => {
  // The period that ended last: a day up to this UTC hour's start (the organisation's zone is UTC).
  const now = new Date();
  periodEnd = new Date(Math.floor(now.getTime() / HOUR) * HOUR);
  world = await createTestWorld({
    config: config('daily', periodEnd.getUTCHours()),
    pollIntervalSeconds: 3600,
  });
  const loaded = loadConfig(config('daily', periodEnd.getUTCHours()));
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  const post: Post = postSchema.parse({
    platform: 'x',
    id: '9001',
    url: 'https://x.com/reader/status/9001',
    author: { id: 'r1', handle: 'reader', displayName: 'Reader', followers: 3 },
    text: 'しおりノートの検索が遅い、@everyone 直してほしい',
    createdAt: new Date(periodEnd.getTime() - 3 * HOUR).toISOString(),
  });
  const [match] = (
    await world.repos.ingest.storeBatch(
      world.accounts.x,
      [{ post, decision: loaded.engine.decide(post, { now: new Date(periodEnd.getTime() - 3 * HOUR) }) }],
      undefined,
      new Date(periodEnd.getTime() - 3 * HOUR),
    )
  ).newMatches;
  if (match === undefined) throw new Error('no match');
  await world.repos.desk.transaction(async (tx) => {
    await tx.tagVoice(
      match.id,
      { actor: SYSTEM, department: 'アプリ開発', summary: '検索の速さ' },
      new Date(periodEnd.getTime() - HOUR),
    );
    // After the period: in the next digest, not this one.
    await tx.tagVoice(
      match.id,
      { actor: SYSTEM, department: '営業', summary: '' },
      new Date(periodEnd.getTime() + 1),
    );
  });
  // The match was one of a surge of the period, which a reviewer closed without answering it.
  const at = periodEnd.getTime() - 3 * HOUR;
  await world.repos.surges.record(
    {
      ...surgeSummary(match, 'surge:12345678-1234-4234-8234-123456789012', at, 1),
      status: 'closed',
      examples: [{ id: match.id, text: post.text }],
      closedAt: at + 60_000,
      closedBy: 'reviewer',
    },
    [match.id],
  );
});
afterAll(async () => {
  await world?.close();
});

describe('the digest', () => {
  it('posts the period that ended to its channel once, with its voices, effect figures and surges', async () => {
    const pr = world.discord.channelId('pr');
    const worker = await world.startWorker({ digestTickMs: 300 });
    const [message] = await waitFor(
      () => {
        const messages = world.discord.messages(pr);
        return messages.length > 0 ? messages : undefined;
      },
      20_000,
      'the digest in #pr',
    );
    expect(message?.content).toContain('お客さまの声とご返信の効果');
    expect(message?.content).toContain('アプリ開発');
    expect(message?.content).toContain('検索の速さ');
    expect(message?.content).not.toContain('営業');
    // Text from outside never pings.
    expect(message?.content).not.toContain('@everyone');
    expect(message?.content).toContain('返信 0 件');
    // The period's surge, with its size and how it was handled.
    expect(message?.content).toContain('🌊 **急増 1 件**');
    expect(message?.content).toMatch(
      /\n• .* · \*\*1 件\*\* · しおりノート · X 1 · 告知なし · 未対応 1 · 終了\n/u,
    );

    // More ticks: the period's job exists, nothing new.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(world.discord.messages(pr)).toHaveLength(1);

    // Redis lost the period's job: the next tick queues it again, the audit entry keeps it from a second post.
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue('digest', { connection, prefix: world.prefix });
    try {
      const id = JOB_IDS.digest(periodEnd);
      await waitFor(
        async () => (await queue.getJob(id))?.finishedOn !== undefined,
        10_000,
        'the period job done',
      );
      await (await queue.getJob(id))?.remove();
      await waitFor(
        async () => (await queue.getJob(id))?.finishedOn !== undefined,
        10_000,
        'the period job again',
      );
      expect((await queue.getJob(id))?.returnvalue).toEqual({ outcome: 'already_posted' });
    } finally {
      await queue.close();
      connection.disconnect();
    }
    expect(world.discord.messages(pr)).toHaveLength(1);
    const audit = await world.repos.audit.list({ action: 'digest.posted', limit: 10 });
    expect(audit.map((e) => e.target)).toEqual([digestKey(periodEnd)]);
    await worker.close();
  });

  it('is not scheduled while off', async () => {
    const saved = await world.repos.config.replace(config('off', 0), SYSTEM);
    expect(saved.ok).toBe(true);
    const worker = await world.startWorker({ digestTickMs: 300 });
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue('digest', { connection, prefix: world.prefix });
    try {
      await waitFor(
        async () => (await queue.getJobSchedulers(0, -1)).length === 0,
        10_000,
        'no digest scheduler',
      );
    } finally {
      await queue.close();
      connection.disconnect();
      await worker.close();
    }
  });
});
