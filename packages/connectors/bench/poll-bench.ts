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
