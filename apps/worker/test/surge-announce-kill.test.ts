import type { ChildProcess } from 'node:child_process';
import { createSurgeDesk } from '@kikimimi/desk';
import { afterEach, describe, expect, it } from 'vitest';
import { kill, spawnWorker } from './processes.ts';
import { createTestWorld, type TestWorld, waitFor } from './world.ts';

/**
 * A surge's announcement goes out once per platform account even when the worker sending it is killed
 * after the platform made the post but before its answer arrived (X: no idempotency key; the retry
 * finds the earlier post), and when the decision is taken twice at once.
 */
let world: TestWorld | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => kill(child)));
  await world?.close();
  world = undefined;
});

const SURGE_ID = 'surge:7d4f0a52-3b1e-4c9a-9f0e-2a6b8c1d5e70';

describe('a surge announcement and a killed worker', () => {
  it('is posted once per platform when the worker dies mid-send and the form is submitted twice', async () => {
    world = await createTestWorld();
    const w = world;
    const now = Date.now();
    await w.repos.surges.record(
      {
        id: SURGE_ID,
        watchId: 'brand',
        status: 'open',
        detectedAt: now,
        firstAt: now - 60_000,
        lastAt: now,
        count: 25,
        intents: { trouble: 25 },
        platforms: { x: 25 },
        examples: [{ id: 'e1', text: 'しおりノート ログインできない' }],
        perMinute: [{ minute: Math.floor(now / 60_000) * 60_000, count: 25 }],
      },
      [],
    );
    const options = { ...w.workerOptions, leaseTtlMs: 1_500, sweepEveryMs: 1_000, jobLockMs: 2_000 };
    children.push(await spawnWorker(options));
    // X makes the next post at once but answers only after 15 s: the worker is killed before it hears.
    w.x.delayReplyAnswers(15_000, 1);
    const desk = createSurgeDesk({ repos: w.repos, now: () => new Date() });
    const actor = { kind: 'web', id: 'alice', name: 'alice', role: 'editor' } as const;
    const text = 'ただいまログインできない障害が発生しています。復旧まで今しばらくお待ちください。';
    const [first, second] = await Promise.all([
      desk.announce(actor, SURGE_ID, { text }),
      desk.announce(actor, SURGE_ID, { text }),
    ]);
    expect([first.ok, second.ok].sort()).toEqual([false, true]);
    const xPosts = () => w.x.posts().filter((p) => p.text === text);
    await waitFor(() => xPosts().length === 1, 20_000, 'the post on X (its answer held back)');
    await kill(children[0] as ChildProcess);
    children.push(await spawnWorker(options));

    await waitFor(
      async () => (await w.repos.surges.announcements(SURGE_ID)).every((a) => a.state === 'sent'),
      40_000,
      'both announcements recorded as sent',
    );
    const announcements = await w.repos.surges.announcements(SURGE_ID);
    expect(announcements.map((a) => a.platform).sort()).toEqual(['mastodon', 'x']);
    expect(xPosts()).toHaveLength(1);
    expect(announcements.find((a) => a.platform === 'x')?.platformPostId).toBe(xPosts()[0]?.id);
    expect(w.mastodon.statuses().filter((s) => s.content.includes('ただいまログインできない'))).toHaveLength(
      1,
    );
    // Pressed again later: nothing more.
    expect((await desk.announce(actor, SURGE_ID, { text })).ok).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(xPosts()).toHaveLength(1);
    expect((await w.repos.surges.get(SURGE_ID))?.handling).toEqual(['announced']);
  }, 120_000);
});
