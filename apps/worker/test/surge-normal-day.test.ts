import { demoBrand, type GeneratedPost, generateTraffic } from '@kikimimi/sandbox';
import { afterEach, describe, expect, it } from 'vitest';
import { ingestPosts } from '../src/pipeline/ingest.ts';
import { rebuildSurgeRunner, type SurgeRunner } from '../src/pipeline/surge.ts';
import { HOLDING_CONFIG, ingestDeps, SURGE_CONFIG, toPost } from './surge-scenario.ts';
import { createTestWorld, type TestWorld } from './world.ts';

/**
 * A day of generated traffic through the worker's own code path — ingest (rules, storage) → the surge
 * runner (detector, PostgreSQL) → review jobs — with the posts' own times as the clock (not real time):
 * normal traffic makes no surge; the same day with an outage burst makes one.
 */
let world: TestWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function runDay(w: TestWorld, outage: boolean) {
  const start = new Date(Date.now() - 25 * 3_600_000);
  const posts = generateTraffic({
    start,
    hours: 24,
    perHour: 150,
    seed: 24,
    brands: [demoBrand],
    mix: { repost: 0 },
    ...(outage ? { outages: [{ start: new Date(start.getTime() + 14 * 3_600_000) }] } : {}),
  });
  let clock = start.getTime();
  const reviewed: string[] = [];
  /** Reviews put off (`delayMs`): a surge looked to be forming around them. */
  const held: string[] = [];
  /** When each match was judged (the clock of its page). */
  const judgedAt = new Map<string, number>();
  let runner: SurgeRunner | null = null;
  const deps = ingestDeps(
    w,
    {
      notify: async (id) => {
        reviewed.push(id);
      },
      notifyMany: async (ids, options) => {
        (options?.delayMs ? held : reviewed).push(...ids);
      },
      // As the worker does with surges on, minus the queue: straight to the detector's holder.
      review: async (ids) => {
        if (ids.length === 0) return;
        for (const id of ids) judgedAt.set(id, clock);
        await w.repos.surges.markPending(ids);
        await runner?.handle({ matchIds: [...ids] });
      },
    },
    () => new Date(clock),
  );
  /** Held matches to ask about again (the runner's delayed surge jobs), due on the posts' clock. */
  let reconsiders: { due: number; ids: readonly string[] }[] = [];
  runner = await rebuildSurgeRunner(deps, {
    enqueue: (async (name: string, payload: object, options?: { delay?: number }) => {
      if (name === 'surge' && 'reconsiderIds' in payload)
        reconsiders.push({ due: clock + (options?.delay ?? 0), ids: payload.reconsiderIds as string[] });
      return {};
    }) as never,
  });
  const reconsiderDue = async (until: number) => {
    const due = reconsiders.filter((r) => r.due <= until);
    reconsiders = reconsiders.filter((r) => r.due > until);
    for (const r of due) await runner?.handle({ reconsiderIds: [...r.ids] });
  };
  // Pages of 20 posts, the clock at each page's last post.
  for (let i = 0; i < posts.length; i += 20) {
    const page = posts.slice(i, i + 20);
    clock = (page[page.length - 1] as GeneratedPost).createdAt.getTime();
    await reconsiderDue(clock);
    await ingestPosts({ accountId: w.accounts.x, posts: page.map(toPost) }, deps);
    await runner.closeQuiet(clock);
  }
  await reconsiderDue(Number.POSITIVE_INFINITY);
  const outageTexts = new Set(posts.filter((p) => p.scenario === 'outage').map((p) => p.text));
  const stored = await w.repos.surges.history(new Date(0));
  const outageIds = new Set(stored.filter((m) => outageTexts.has(m.text)).map((m) => m.id));
  const heldIds = new Set(held);
  // Matches whose review was made to wait (held for the surge until later than they were judged): by a
  // delayed notify, or held back after they were handed on. (One marked for the surge's thread only is
  // held until the moment it was judged.)
  const waited = stored.filter(
    (m) => m.heldUntil !== null && m.heldUntil > (judgedAt.get(m.id) ?? Number.POSITIVE_INFINITY),
  ).length;
  // Taken in by a reconsider job, or asked at once when the surge had minCount members.
  const reconsidered = stored.filter((m) => heldIds.has(m.id) && m.surgeId !== null).length;
  return {
    posts: posts.length,
    reviewed: reviewed.length,
    held: held.length,
    waited,
    /** Held matches the surge took in when asked again (before their hold ended, or as it did). */
    reconsidered,
    /** Outage matches that got a review message of their own at once. */
    outageAlone: reviewed.filter((id) => outageIds.has(id)).length,
    surges: await w.repos.surges.list(),
  };
}

describe('a day of generated traffic through the worker’s surge path', () => {
  it('makes no surge of normal traffic: every match is reviewed on its own', async () => {
    world = await createTestWorld({ config: HOLDING_CONFIG });
    const day = await runDay(world, false);
    expect(day.posts).toBeGreaterThan(3_000);
    expect(day.surges).toEqual([]);
    expect(day.reviewed).toBeGreaterThan(1_000);
    // Nothing of a normal day looks like a surge forming: no review waits.
    expect(day.held).toBe(0);
  }, 180_000);

  it('makes one surge of the same day with an outage burst in it', async () => {
    world = await createTestWorld({ config: HOLDING_CONFIG });
    const day = await runDay(world, true);
    expect(day.surges).toHaveLength(1);
    expect(day.surges[0]?.count).toBeGreaterThan(900);
    await world.close();
    // The same day without the hold (the default, `holdSeconds: 0`): more of the outage's matches go
    // for a review of their own before the surge is there to take them.
    world = await createTestWorld({ config: SURGE_CONFIG });
    const unheld = await runDay(world, true);
    expect(unheld.held).toBe(0);
    // Not one held back either, once its flood is seen (`holdSeconds: 0` is "never wait").
    expect(unheld.waited).toBe(0);
    expect(day.waited).toBeGreaterThan(0);
    expect(day.held).toBeGreaterThan(0);
    expect(day.reconsidered).toBeGreaterThan(0);
    expect(day.outageAlone).toBeLessThan(unheld.outageAlone * 0.8);
    console.log(
      `outage matches reviewed at once: ${day.outageAlone} with the hold (${day.held} held, ${day.reconsidered} of them taken in when asked again), ${unheld.outageAlone} without`,
    );
  }, 240_000);
});
