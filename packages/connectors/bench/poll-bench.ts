/**
 * Connector throughput against the local stand-ins, and X query packing.
 *
 *   node bench/poll-bench.ts [--posts 5000]
 *
 * 1. Posts normalised per second per connector: a burst of generated Japanese/English posts is put on
 *    each stand-in and drained through the real client library (HTTP on loopback, JSON, zod, HTML →
 *    text, normalisation into Post), with the largest page each platform allows.
 * 2. X requests per poll cycle for 10, 100 and 1,000 watches: one recent-search query per watch
 *    (the naive way) against kikimimi's packing into ≤ 512-character queries.
 * 3. Mastodon hashtag polls with and without the late-federation window: 30 simulated minutes of a
 *    tag at 1, 10 and 40 posts a minute, polled every 30 s, with 3 % of posts federating 5 minutes
 *    late (remote ids carry their creation time, so those land below the cursor). Requests per poll
 *    and late posts delivered.
 */
import { parseArgs } from 'node:util';
import { compileXQueries, parseQuery } from '@kikimimi/rules';
import { createBrands, watchQuery } from '@kikimimi/rules/bench-world';
import { createPostGenerator, demoBrand, startMastodonSandbox, startXSandbox } from '@kikimimi/sandbox';
import { createMastodonConnector } from '../src/mastodon/index.ts';
import type { Connector, PollSource } from '../src/types.ts';
import { createXConnector } from '../src/x/index.ts';

const { values } = parseArgs({ options: { posts: { type: 'string', default: '5000' } } });
const POSTS = Number(values.posts);
const KEYWORD = 'kikimimibench';

async function drainAll(connector: Connector, source: PollSource, cursor: string | null, pageSize: number) {
  let posts = 0;
  let requests = 0;
  for (;;) {
    const result = await connector.poll(source, cursor, { pageSize, pageBudget: 1_000 });
    posts += result.posts.length;
    requests += result.pages;
    cursor = result.cursor;
    if (result.caughtUp) return { posts, requests };
  }
}

async function measure(
  name: string,
  connector: Connector,
  source: PollSource,
  pageSize: number,
  add: (text: string, handle: string, lang: 'ja' | 'en') => void,
) {
  const generator = createPostGenerator({ seed: 7, brands: [demoBrand], mix: { repost: 0 } });
  add(`${KEYWORD} seed`, 'seed', 'ja');
  const start = await connector.poll(source, null, { pageSize });
  for (const post of generator.take(POSTS)) add(`${KEYWORD} ${post.text}`, post.author.handle, post.lang);
  const began = performance.now();
  const { posts, requests } = await drainAll(connector, source, start.cursor, pageSize);
  const seconds = (performance.now() - began) / 1000;
  if (posts !== POSTS) throw new Error(`${name}: expected ${POSTS} posts, got ${posts}`);
  console.log(
    `${name.padEnd(9)} | ${String(posts).padStart(6)} | ${String(pageSize).padStart(9)} | ${String(requests).padStart(8)} | ${Math.round(
      posts / seconds,
    )
      .toLocaleString('en-US')
      .padStart(13)}`,
  );
}

console.log(`kikimimi connector benchmark — Node ${process.version}`);
console.log('\n1. Polling the stand-ins (HTTP on loopback, real client libraries, parse + normalise)');
console.log('connector |  posts | page size | requests | posts/s');

{
  const x = await startXSandbox({ rateLimit: { limit: 100_000, windowSeconds: 900 } });
  const connector = createXConnector({
    baseUrl: x.url,
    credentials: { kind: 'oauth2', accessToken: x.bearerToken },
  });
  await measure(
    'x',
    connector,
    { platform: 'x', kind: 'search', key: 'bench', query: KEYWORD },
    100,
    (text, handle, lang) => x.addPost({ text, author: { handle }, lang }),
  );
  await x.close();
}
{
  const m = await startMastodonSandbox({ rateLimit: { limit: 100_000, windowSeconds: 300 } });
  const connector = createMastodonConnector({ url: m.url, accessToken: m.accessToken });
  await measure(
    'mastodon',
    connector,
    { platform: 'mastodon', kind: 'hashtag', key: 'bench', tag: KEYWORD },
    40,
    (text, handle, lang) =>
      m.addPost({ text: text.replace(KEYWORD, `#${KEYWORD}`), author: { handle }, lang }),
  );
  await m.close();
}

console.log('\n2. X recent-search requests per poll cycle (one request per query when nothing new arrives)');
console.log('watches | naive (one query per watch) | kikimimi (packed, ≤ 512 chars) | fewer requests');
const brands = createBrands(1_000);
for (const count of [10, 100, 1_000]) {
  const watches = brands
    .slice(0, count)
    .map((brand, i) => ({ id: `w${i}`, ast: parseQuery(watchQuery(brand, i)) }));
  const plan = compileXQueries(watches, { maxLength: 512, excludeReposts: true });
  if (plan.problems.length > 0) throw new Error(plan.problems[0]?.message);
  const longest = Math.max(...plan.queries.map((q) => q.query.length));
  console.log(
    `${String(count).padStart(7)} | ${String(count).padStart(27)} | ${`${plan.queries.length} (longest ${longest} chars)`.padStart(30)} | ${(count / plan.queries.length).toFixed(1)}×`,
  );
}

console.log(
  '\n3. Mastodon hashtag polls every 30 s for 30 simulated minutes; 3 % of posts federate 5 minutes late',
);
console.log('posts/min |  late window | polls | requests | requests/poll | late delivered | duplicates');
for (const perMinute of [1, 10, 40]) {
  for (const lateWindowMs of [0, 5 * 60_000, undefined]) {
    const m = await startMastodonSandbox({ rateLimit: { limit: 1_000_000, windowSeconds: 300 } });
    const connector = createMastodonConnector({
      url: m.url,
      accessToken: m.accessToken,
      ...(lateWindowMs === undefined ? {} : { lateWindowMs }),
    });
    const source: PollSource = { platform: 'mastodon', kind: 'hashtag', key: 'late', tag: 'latebench' };
    const MINUTES = 30;
    const start = Date.now() - (MINUTES + 10) * 60_000;
    const add = (at: number, n: number) =>
      m.addPost({
        text: `#latebench ${n}`,
        author: { handle: `u${n % 50}@remote.example` },
        createdAt: new Date(at),
      });
    add(start - 1000, -1);
    let cursor = (await connector.poll(source, null)).cursor;
    const delivered = new Map<string, number>();
    const lateIds = new Set<string>();
    const waiting: Array<{ due: number; at: number; n: number }> = [];
    let n = 0;
    let polls = 0;
    let requests = 0;
    const interval = 60_000 / perMinute;
    let next = start;
    for (let tick = start + 30_000; tick <= start + MINUTES * 60_000; tick += 30_000) {
      for (; next < tick; next += interval) {
        n++;
        // Every 33rd post arrives five minutes after it was written.
        if (n % 33 === 0) waiting.push({ due: next + 5 * 60_000, at: next, n });
        else add(next, n);
      }
      for (const item of waiting.filter((w) => w.due <= tick)) {
        lateIds.add(add(item.at, item.n));
        waiting.splice(waiting.indexOf(item), 1);
      }
      for (;;) {
        const result = await connector.poll(source, cursor, { pageSize: 40, pageBudget: 5 });
        polls++;
        requests += result.pages;
        for (const post of result.posts) delivered.set(post.id, (delivered.get(post.id) ?? 0) + 1);
        cursor = result.cursor;
        if (result.caughtUp) break;
      }
    }
    const lateDelivered = [...lateIds].filter((id) => delivered.has(id)).length;
    const duplicates = [...delivered.values()].filter((count) => count > 1).length;
    console.log(
      `${String(perMinute).padStart(9)} | ${(lateWindowMs === undefined ? '10 (default)' : lateWindowMs === 0 ? 'off' : `${lateWindowMs / 60_000} min`).padStart(11)} | ${String(polls).padStart(5)} | ${String(requests).padStart(8)} | ${(requests / polls).toFixed(2).padStart(13)} | ${`${lateDelivered}/${lateIds.size}`.padStart(14)} | ${String(duplicates).padStart(10)}`,
    );
    await m.close();
  }
}
