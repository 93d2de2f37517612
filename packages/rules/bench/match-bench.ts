/**
 * Matching throughput: kikimimi's single automaton against the naive way (one RegExp per watch,
 * each tried in turn), on the same posts in the same process. Normalisation is included in both.
 *
 *   node bench/match-bench.ts [--posts 20000] [--seconds 1.5]
 *
 * `npm run bench` runs it with `--expose-gc` for steadier memory figures (heap + array buffers).
 */
import { parseArgs } from 'node:util';
import { createMatcher, type MatchEntry } from '../src/match/matcher.ts';
import { normalizeText, splitUrls } from '../src/normalize.ts';
import type { Post } from '../src/post.ts';
import { preparePost } from '../src/prepare.ts';
import { parseQuery } from '../src/query/parse.ts';
import type { QueryNode } from '../src/query-ast.ts';
import { createBrands, createPosts, watchQuery } from './world.ts';

const { values } = parseArgs({
  options: { posts: { type: 'string', default: '20000' }, seconds: { type: 'string', default: '1.5' } },
});
const POSTS = Number(values.posts);
const SECONDS = Number(values.seconds);
const WATCH_COUNTS = [10, 1_000, 10_000];

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
// Typed arrays live outside the JS heap: count both.
const heapMiB = () => {
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return (heapUsed + arrayBuffers) / 2 ** 20;
};

/** Runs `fn(i)` over the posts round-robin for about SECONDS; returns posts per second. */
function throughput(count: number, fn: (i: number) => void, seconds = SECONDS): number {
  for (let i = 0; i < Math.min(count, 2000); i++) fn(i); // warm-up
  let done = 0;
  const start = performance.now();
  const budget = seconds * 1000;
  while (performance.now() - start < budget) {
    for (let k = 0; k < 500; k++) fn((done + k) % count);
    done += 500;
  }
  return done / ((performance.now() - start) / 1000);
}

function positiveTexts(node: QueryNode, out: string[]): string[] {
  if (node.type === 'term' || node.type === 'phrase') out.push(node.normalized);
  if (node.type === 'and' || node.type === 'or') for (const c of node.children) positiveTexts(c, out);
  return out;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');

const brands = createBrands(Math.max(...WATCH_COUNTS));
const posts: Post[] = createPosts(POSTS, brands).map((p, i) => ({
  platform: i % 2 ? 'x' : 'mastodon',
  id: String(i),
  url: `https://example.com/${i}`,
  author: { id: `a${i % 997}`, handle: `user${i % 997}`, displayName: '', followers: 10, protected: false },
  text: p.text,
  lang: p.lang,
  createdAt: '2026-11-24T00:00:00Z',
  repostOf: null,
  inReplyTo: null,
  conversationId: null,
  hashtags: [],
  mentions: [],
}));
const avgLength = posts.reduce((n, p) => n + p.text.length, 0) / posts.length;

console.log(
  `kikimimi match benchmark — Node ${process.version}, ${posts.length} posts (avg ${avgLength.toFixed(0)} chars, ja/en mixed)`,
);
console.log(
  'watches | build ms | patterns | mem MiB  | matched % | automaton posts/s | naive posts/s | ratio',
);

const results = new Map<number, { speed: number; baseline: number }>();
for (const count of WATCH_COUNTS) {
  const asts = brands.slice(0, count).map((b, i) => parseQuery(watchQuery(b, i)));
  gc();
  const heapBefore = heapMiB();
  const buildStart = performance.now();
  const entries: MatchEntry[] = asts.map((ast, i) => ({ key: `w${i}`, ast }));
  const matcher = createMatcher(entries);
  const buildMs = performance.now() - buildStart;
  gc();
  const heap = heapMiB() - heapBefore;

  let matched = 0;
  for (const post of posts) if (matcher.match(preparePost(post)).length > 0) matched++;
  const speed = throughput(posts.length, (i) => matcher.match(preparePost(posts[i] as Post)));

  // Naive: normalise, then one RegExp per watch (its positive words only — generous to the baseline).
  const regexps = asts.map((ast) => {
    const words = positiveTexts(ast, []).map((w) =>
      /^\w/u.test(w) ? `\\b${escapeRegExp(w)}\\b` : escapeRegExp(w),
    );
    return new RegExp(words.join('|'), 'u');
  });
  const baseline = throughput(
    posts.length,
    (i) => {
      const text = normalizeText(splitUrls((posts[i] as Post).text).prose);
      for (const re of regexps) re.test(text);
    },
    count >= 10_000 ? SECONDS * 2 : SECONDS,
  );
  results.set(count, { speed, baseline });
  console.log(
    [
      String(count).padStart(7),
      buildMs.toFixed(0).padStart(8),
      String(matcher.patternCount).padStart(8),
      heap.toFixed(1).padStart(8),
      ((100 * matched) / posts.length).toFixed(1).padStart(9),
      Math.round(speed).toLocaleString('en-US').padStart(17),
      Math.round(baseline).toLocaleString('en-US').padStart(13),
      `${(speed / baseline).toFixed(1)}×`.padStart(6),
    ].join(' | '),
  );
}

const at10 = results.get(10) as { speed: number };
const at1k = results.get(1_000) as { speed: number };
const at10k = results.get(10_000) as { speed: number; baseline: number };
const checks = [
  [
    `≥ 100,000 posts/s at 1,000 watches`,
    at1k.speed >= 100_000,
    `${Math.round(at1k.speed).toLocaleString('en-US')}`,
  ],
  [
    `10,000 watches ≥ ½ of the 10-watch speed`,
    at10k.speed >= at10.speed / 2,
    `${(at10k.speed / at10.speed).toFixed(2)} of it`,
  ],
  [
    `10,000 watches ≥ 20× the naive baseline`,
    at10k.speed >= 20 * at10k.baseline,
    `${(at10k.speed / at10k.baseline).toFixed(1)}×`,
  ],
] as const;
console.log('');
for (const [name, ok, figure] of checks) console.log(`${ok ? 'PASS' : 'MISS'}  ${name}: ${figure}`);
