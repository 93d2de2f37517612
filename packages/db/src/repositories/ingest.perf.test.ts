import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createTestDb,
  decideAll,
  engineFor,
  makePost,
  NOW,
  type TestDb,
  WEB_ACTOR,
} from '../../test/support.ts';

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb('ingest_perf');
});
afterAll(async () => {
  await t?.drop();
});

const PAGES = 10;
const PAGE_SIZE = 1000;

it(`stores ${PAGES} pages of ${PAGE_SIZE} posts (throughput printed, not asserted)`, async () => {
  const accountId = (
    await t.repos.accounts.create({ platform: 'x', label: 'perf', credentials: { t: 1 } }, WEB_ACTOR)
  ).id;
  const engine = engineFor();
  const texts = [
    'ブクログで読書記録つけてる、ほんと便利で助かる',
    'booklogのアプリ、ログインできないんだけど誰か分かる？',
    '今日は雨なので家で本を読んでいます。おすすめあったら教えて',
    'ブクログの本棚、課金したら表示がおかしくなった',
  ];
  // Decisions are made before timing: this measures the database side only.
  const pages = Array.from({ length: PAGES }, (_, p) =>
    decideAll(
      engine,
      Array.from({ length: PAGE_SIZE }, (_, i) => {
        const n = p * PAGE_SIZE + i;
        return makePost(String(10_000_000 + n), `${texts[n % texts.length]} #${n}`, {
          author: {
            id: `u${n % 3000}`,
            handle: `reader${n % 3000}`,
            displayName: `読者${n % 3000}`,
            followers: n % 500,
          },
        });
      }),
    ),
  );
  const matched = pages.flat().filter((item) => item.decision.matched).length;

  const timeAll = async () => {
    const perPage: number[] = [];
    let newMatches = 0;
    let duplicates = 0;
    for (const [p, items] of pages.entries()) {
      const start = performance.now();
      const result = await t.repos.ingest.storeBatch(
        accountId,
        items,
        {
          cursor: {
            accountId,
            sourceKey: 'search:perf',
            outcome: { cursor: String(p), rateLimit: null, postsRead: items.length, requests: 1 },
          },
        },
        NOW,
      );
      perPage.push(performance.now() - start);
      newMatches += result.newMatches.length;
      duplicates += result.duplicates;
    }
    const total = perPage.reduce((a, b) => a + b, 0);
    return { total, perPage, newMatches, duplicates };
  };

  const first = await timeAll();
  const replay = await timeAll();
  const rate = (ms: number) => Math.round((PAGES * PAGE_SIZE * 1000) / ms).toLocaleString('en');
  console.log(
    [
      `storeBatch: ${PAGES} × ${PAGE_SIZE} posts (${matched} matched), one transaction per page`,
      `  first time: ${first.total.toFixed(0)} ms → ${rate(first.total)} posts/s (page: ${Math.min(...first.perPage).toFixed(0)}–${Math.max(...first.perPage).toFixed(0)} ms)`,
      `  replayed:   ${replay.total.toFixed(0)} ms → ${rate(replay.total)} posts/s (all duplicates)`,
    ].join('\n'),
  );
  expect(first.newMatches).toBe(matched);
  expect(first.duplicates).toBe(0);
  expect(replay).toMatchObject({ newMatches: 0, duplicates: PAGES * PAGE_SIZE });
  expect((await t.repos.sources.get(accountId, 'search:perf'))?.cursor).toBe(String(PAGES - 1));
}, 120_000);
