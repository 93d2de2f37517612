import type { Post } from '@kikimimi/rules';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nonceFor } from '../src/discord/notifier.ts';
import { ingestPosts } from '../src/pipeline/ingest.ts';
import { rebuildSurgeRunner, type SurgeRunner } from '../src/pipeline/surge.ts';
import { ingestDeps, SURGE_CONFIG, storeHistory, watchingSince, xPost } from './surge-scenario.ts';
import { createTestWorld, DATABASE_URL, type TestWorld } from './world.ts';

/**
 * With the default configuration (`surges.holdSeconds` 0: no review waits for a surge), an outage's
 * first posts, before its surge exists, are reviewed at once in the review channel like everything
 * else. Those the detector sees a surge forming around (the flood of their intent) are marked, and
 * whichever job forms the channel's next message takes the everyday reviews waiting there first.
 */
let world: TestWorld;
let runner: SurgeRunner | null = null;
let clock = Date.now();
const atOnce: string[] = [];
const delayed: string[] = [];

/** The outage's first posts, each in words of its own. */
const OUTAGE = [
  'しおりノートにログインできない',
  'ｼｵﾘﾉｰﾄ開けないんだけど、ずっとエラー',
  'shiori note login fails every time',
  'しおりノートのアプリが起動しない',
  'Shiori Note is not loading at all for me',
  'しおりノートで同期エラーが出て進まない',
  'しおりnote 読み込みが終わらない助けて',
  'しおりノートが真っ白な画面のまま動かない',
  'shiori note app crashes right after the splash screen',
  'しおりノート、サーバーエラーって出て本棚が表示されない',
  'getting a server error on Shiori Note every single time',
  'しおりノートの読み込みがぐるぐるしたまま終わらない',
];
const EVERYDAY = 'しおりノートのダークモードの色、落ち着いてて好き';

let serial = 0;
const post = (text: string): Post => {
  serial++;
  clock += 300;
  return xPost(7_100_000 + serial, text, clock);
};

const likelyOf = async (ids: readonly string[]) => {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  try {
    const { rows } = await pool.query<{ id: string; surge_likely: boolean }>(
      `SELECT id, surge_likely FROM "${world.schema}".matches WHERE id = ANY($1)`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.surge_likely]));
  } finally {
    await pool.end();
  }
};

beforeAll(async () => {
  world = await createTestWorld({ config: SURGE_CONFIG });
  await watchingSince(world);
  await storeHistory(world, 0.25, 0.2);
}, 60_000);
afterAll(async () => {
  await world?.close();
});

describe("an outage's first posts, nothing held", () => {
  it('are reviewed at once, after the everyday matches waiting in the review channel', async () => {
    const deps = ingestDeps(
      world,
      {
        notifyMany: async (ids, options) => {
          (options?.delayMs ? delayed : atOnce).push(...ids);
        },
        review: async (ids) => {
          if (ids.length === 0) return;
          await world.repos.surges.markPending(ids);
          await runner?.handle({ matchIds: [...ids] });
        },
      },
      () => new Date(clock),
    );
    runner = await rebuildSurgeRunner(deps, { enqueue: (async () => ({})) as never });
    // The outage's first posts, one page at a time, and an everyday post of another intent in the last.
    for (const text of OUTAGE) await ingestPosts({ accountId: world.accounts.x, posts: [post(text)] }, deps);
    await ingestPosts({ accountId: world.accounts.x, posts: [post(EVERYDAY)] }, deps);
    // Nothing waits (holdSeconds 0), no surge yet.
    expect(delayed).toEqual([]);
    expect(atOnce).toHaveLength(OUTAGE.length + 1);
    expect(await world.repos.surges.list()).toEqual([]);
    const rows = await world.repos.surges.history(new Date(0), atOnce);
    const byText = new Map(rows.map((r) => [r.text, r.id]));
    const likely = await likelyOf(atOnce);
    const everyday = byText.get(EVERYDAY) as string;
    expect(likely.get(everyday)).toBe(false);
    // Once its flood is seen (half of `minCount` within ten seconds), the flood's posts are marked.
    const marked = OUTAGE.filter((text) => likely.get(byText.get(text) as string));
    expect(marked.length).toBeGreaterThan(0);
    expect(marked).toContain(OUTAGE.at(-1));
    // …and none of them is held: reviewed now.
    for (const id of atOnce) expect(await world.repos.surges.heldUntil(id)).toBeNull();

    // The marked ones' reviews wait in a busy review channel, the everyday one claimed last: the next
    // message, whoever's job forms it, takes the everyday review first.
    const ids = [...marked.map((text) => byText.get(text) as string), everyday];
    for (const id of ids) await world.repos.reviews.claimMessage(id, '556000', nonceFor(id));
    const leader = byText.get(OUTAGE.at(-1) as string) as string;
    const group = await world.repos.reviews.formGroup(leader, 2, new Date(clock));
    expect([...(group?.matchIds ?? [])].sort()).toEqual([leader, everyday].sort());
  });
});
