/**
 * Bluesky firehose consumption on one core: commits per second decoded (with and without checking
 * each commit against its repository's signing key), posts per second normalised and matched, RSS.
 *
 *   node bench/stream-bench.ts [--posts 1000] [--repeat 10] [--watches 100]
 *
 * 1. Records a real firehose: Bluesky's reference network (@atproto/dev-env: PLC, PDS, AppView) on
 *    the local PostgreSQL/Redis; 20 accounts write `--posts` posts (Japanese/English, about a third
 *    mentioning a brand, links, hashtags, facets) and 3 likes per post (the network mixes posts with
 *    other records); the PDS's `com.atproto.sync.subscribeRepos` frames (CBOR, CAR blocks, signed
 *    commits) are saved as bytes with the accounts' DID documents. Then the network is closed.
 * 2. A fresh Node process (so RSS is the consumer's, not the reference servers') replays the
 *    recording `--repeat` times (sequence numbers renumbered, nothing else touched) from a local
 *    WebSocket server to the connector's firehose reader (@atproto/sync's Firehose: frame decoding,
 *    lexicon validation, commit verification, record decoding) → normalisation into Post → the rules
 *    matcher with `--watches` watches. The server shares that process and its one thread, so the
 *    figures are a lower bound for the consumer alone. DID documents come from the connector's cache
 *    (what a long-running stream sees); authors' handles likewise.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { RichText } from '@atproto/api';
import { type DidDocument, IdResolver, MemoryCache } from '@atproto/identity';
import { Frame, MessageFrame, XrpcStreamServer } from '@atproto/xrpc-server';
import { createMatcher, parseQuery, preparePost } from '@kikimimi/rules';
import { createBrands, createPosts, watchQuery } from '@kikimimi/rules/bench-world';
import { normalizePost } from '../src/bluesky/bluesky-normalize.ts';
import { firehoseEvents } from '../src/bluesky/bluesky-stream.ts';

const { values } = parseArgs({
  options: {
    posts: { type: 'string', default: '1000' },
    repeat: { type: 'string', default: '10' },
    watches: { type: 'string', default: '100' },
    replay: { type: 'string' },
  },
});
const WATCHES = Number(values.watches);
const ACCOUNTS = 20;
const LIKES_PER_POST = 3;

/*
 * Network figures. Sourced: ~130,000 posts an hour at the daily peak in 2026 (≈ 36 posts/s; "Building
 * real-time Bluesky analytics: ingesting 2.2M posts/day from the firehose", dev.to, 2026-03); the
 * relay's firehose at 232 GB/day during the September 2024 surge (jazco.dev, "Jetstream: Shrinking
 * the AT Proto Firehose by >99%", 2024-09-24) — ≈ 2.7 MB/s, ≈ 1,100 commits/s at the ~2.5 kB per
 * frame recorded here. ASSUMED for a surge peak: 300 posts/s within 3,000 commits/s.
 */
const SOURCED_PEAK_HOUR_POSTS_PER_SECOND = 36;
const ASSUMED_PEAK_POSTS_PER_SECOND = 300;
const ASSUMED_PEAK_COMMITS_PER_SECOND = 3_000;

interface Recording {
  readonly posts: number;
  readonly frames: string[]; // base64
  readonly docs: Record<string, DidDocument>;
  readonly handles: Record<string, string>;
}

if (values.replay === undefined) await record();
else await replay(JSON.parse(readFileSync(values.replay, 'utf8')) as Recording);

async function record(): Promise<void> {
  const POSTS = Number(values.posts);
  console.log(`kikimimi Bluesky stream benchmark — Node ${process.version}`);
  // Loaded here only: the reference servers' code must not count in the replay's RSS.
  const { startBlueskyNetwork } = await import('../test/bluesky-network.ts');
  const bsky = await startBlueskyNetwork();
  const frames: Uint8Array[] = [];
  const docs: Record<string, DidDocument> = {};
  const handles: Record<string, string> = {};
  try {
    const accounts = await Promise.all(
      Array.from({ length: ACCOUNTS }, (_, i) => bsky.createAccount(`user${i}`)),
    );
    for (const a of accounts) handles[a.did] = a.handle;
    const texts = createPosts(POSTS, createBrands(WATCHES));
    const written: Array<{ uri: string; cid: string }> = [];
    const began = performance.now();
    await Promise.all(
      accounts.map(async (account, k) => {
        for (let i = k; i < texts.length; i += ACCOUNTS) {
          const { text, lang } = texts[i] as { text: string; lang: 'ja' | 'en' };
          const rich = new RichText({ text: i % 7 === 0 ? `${text} #kikimimi` : text });
          rich.detectFacetsWithoutResolution();
          written.push(
            await account.agent.post({
              text: rich.text,
              ...(rich.facets ? { facets: rich.facets } : {}),
              langs: [lang],
              createdAt: new Date().toISOString(),
            }),
          );
          for (let l = 0; l < LIKES_PER_POST; l += 1) {
            const target = written[(i * 31 + l * 17) % written.length] as { uri: string; cid: string };
            await account.agent.like(target.uri, target.cid);
          }
        }
      }),
    );
    const writeSeconds = (performance.now() - began) / 1000;
    const ws = new WebSocket(`${bsky.firehoseUrl}/xrpc/com.atproto.sync.subscribeRepos?cursor=0`);
    ws.binaryType = 'arraybuffer';
    await new Promise<void>((resolve, reject) => {
      let quiet: NodeJS.Timeout | undefined;
      ws.onmessage = (message) => {
        frames.push(new Uint8Array(message.data as ArrayBuffer));
        clearTimeout(quiet);
        quiet = setTimeout(resolve, 2_000);
      };
      ws.onerror = () => reject(new Error('the recording connection failed'));
    });
    ws.close();
    const resolver = new IdResolver({ plcUrl: bsky.net.plc.url, fetch: globalThis.fetch });
    for (const did of Object.keys(handles)) {
      const doc = await resolver.did.resolve(did);
      if (doc) docs[did] = doc;
    }
    const bytes = frames.reduce((n, f) => n + f.length, 0);
    console.log(
      `\n1. Recorded ${frames.length.toLocaleString('en-US')} firehose frames from the reference PDS (${POSTS} posts, ${POSTS * LIKES_PER_POST} likes, account set-up; written in ${writeSeconds.toFixed(1)} s), ${Math.round(bytes / frames.length)} bytes per frame on average`,
    );
  } finally {
    await bsky.close();
  }
  const dir = mkdtempSync(join(tmpdir(), 'kikimimi-stream-bench-'));
  try {
    const file = join(dir, 'recording.json');
    const recording: Recording = {
      posts: Number(values.posts),
      frames: frames.map((f) => Buffer.from(f).toString('base64')),
      docs,
      handles,
    };
    writeFileSync(file, JSON.stringify(recording));
    const child = spawnSync(
      process.execPath,
      [
        fileURLToPath(import.meta.url),
        '--replay',
        file,
        '--repeat',
        String(values.repeat),
        '--watches',
        String(WATCHES),
      ],
      { stdio: 'inherit' },
    );
    if (child.status !== 0) throw new Error(`the replay failed (${child.status ?? child.signal})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function replay(recording: Recording): Promise<void> {
  const REPEAT = Number(values.repeat);
  const decoded = recording.frames.map((b64) => {
    const frame = Frame.fromBytes(Buffer.from(b64, 'base64'));
    if (!frame.isMessage()) throw new Error('an error frame in the recording');
    return { type: frame.header.t ?? '', body: frame.body as Record<string, unknown> };
  });
  const frames: Uint8Array[] = [];
  let seq = 0;
  for (let r = 0; r < REPEAT; r += 1) {
    for (const { type, body } of decoded) {
      seq += 1;
      frames.push(new MessageFrame({ ...body, seq } as never, { type }).toBytes());
    }
  }
  class Prebuilt extends MessageFrame {
    readonly bytes: Uint8Array;
    constructor(bytes: Uint8Array) {
      super({});
      this.bytes = bytes;
    }
    override toBytes(): Uint8Array {
      return this.bytes;
    }
  }
  // Commits per second to serve at; null: as fast as the consumer reads (its backlog then sits in
  // the WebSocket client's buffer, which inflates RSS).
  let pace: number | null = null;
  const http = createServer();
  new XrpcStreamServer({
    server: http,
    handler: async function* (req) {
      const cursor = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('cursor') ?? 0);
      const rate = pace;
      const began = performance.now();
      for (let i = cursor; i < frames.length; i += 1) {
        if (rate !== null) {
          const due = ((i - cursor) / rate) * 1000 - (performance.now() - began);
          if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
        }
        yield new Prebuilt(frames[i] as Uint8Array);
      }
    },
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const service = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;

  const didCache = new MemoryCache(60 * 60 * 1000, 24 * 60 * 60 * 1000);
  for (const [did, doc] of Object.entries(recording.docs)) await didCache.cacheDid(did, doc);
  const idResolver = new IdResolver({ didCache, fetch: () => Promise.reject(new Error('offline')) });
  const handles = new Map(Object.entries(recording.handles));
  const matcher = createMatcher(
    createBrands(WATCHES).map((brand, i) => ({ key: `w${i}`, ast: parseQuery(watchQuery(brand, i)) })),
  );
  const expectedPosts = recording.posts * REPEAT;

  console.log(
    `\n2. Replayed ${frames.length.toLocaleString('en-US')} commits (${REPEAT}× the recording; ${expectedPosts.toLocaleString('en-US')} posts) through the connector's firehose reader in a fresh process, ${WATCHES} watches`,
  );
  const postShare = recording.posts / recording.frames.length;
  console.log(
    'verify commits |    served at | commits/s | posts/s | matched posts | CPU s | share of a core | peak RSS MB',
  );
  const rates: Record<string, { commits: number; posts: number }> = {};
  // The paced run first: its peak RSS is the steady state of a consumer that keeps up (the heap
  // does not shrink back after a full-speed run's backlog).
  const runs: Array<{ verify: boolean; postsPerSecond: number | null }> = [
    { verify: true, postsPerSecond: SOURCED_PEAK_HOUR_POSTS_PER_SECOND },
    { verify: false, postsPerSecond: null },
    { verify: true, postsPerSecond: null },
  ];
  console.log(
    `RSS before the first run (the replay's frames loaded): ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`,
  );
  for (const { verify, postsPerSecond } of runs) {
    pace = postsPerSecond === null ? null : postsPerSecond / postShare;
    // A paced run lasts about 20 s.
    const wanted = postsPerSecond === null ? expectedPosts : Math.min(expectedPosts, postsPerSecond * 20);
    const controller = new AbortController();
    let posts = 0;
    let matched = 0;
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 50);
    const cpu = process.cpuUsage();
    const began = performance.now();
    for await (const event of firehoseEvents(
      {
        service,
        idResolver,
        verify,
        toEvent: async (evt) => {
          if (evt.event === 'delete')
            return { kind: 'delete', platform: 'bluesky', postId: evt.uri.toString() };
          const post = normalizePost({
            uri: evt.uri.toString(),
            record: evt.record,
            author: { did: evt.did, handle: handles.get(evt.did) ?? evt.did, displayName: '' },
            indexedAt: evt.time,
          });
          return 'reason' in post ? null : { kind: evt.event === 'create' ? 'post' : 'edit', post };
        },
      },
      { signal: controller.signal, cursor: '0' },
    )) {
      if (event.kind === 'post') {
        posts += 1;
        if (matcher.match(preparePost(event.post)).length > 0) matched += 1;
      }
      if (posts === wanted) break;
    }
    const seconds = (performance.now() - began) / 1000;
    const used = process.cpuUsage(cpu);
    clearInterval(sampler);
    controller.abort();
    if (posts !== wanted) throw new Error(`expected ${wanted} posts, got ${posts}`);
    const commits = posts / postShare;
    const cpuSeconds = (used.user + used.system) / 1e6;
    if (postsPerSecond === null)
      rates[String(verify)] = { commits: commits / seconds, posts: posts / seconds };
    const servedAt = postsPerSecond === null ? 'full speed' : `${postsPerSecond} posts/s`;
    const cells = [
      String(verify).padEnd(14),
      servedAt.padStart(12),
      Math.round(commits / seconds)
        .toLocaleString('en-US')
        .padStart(9),
      Math.round(posts / seconds)
        .toLocaleString('en-US')
        .padStart(7),
      String(matched).padStart(13),
      cpuSeconds.toFixed(1).padStart(5),
      `${Math.round((cpuSeconds / seconds) * 100)} %`.padStart(15),
      (peakRss / 2 ** 20).toFixed(0).padStart(11),
    ];
    console.log(cells.join(' | '));
  }
  console.log(
    `\nAgainst the network (sourced: ${SOURCED_PEAK_HOUR_POSTS_PER_SECOND} posts/s at the 2026 daily peak hour; ASSUMED surge peak: ${ASSUMED_PEAK_POSTS_PER_SECOND} posts/s, ${ASSUMED_PEAK_COMMITS_PER_SECOND.toLocaleString('en-US')} commits/s):`,
  );
  for (const [verify, rate] of Object.entries(rates)) {
    console.log(
      `  verify ${verify.padEnd(5)}: ${(rate.posts / SOURCED_PEAK_HOUR_POSTS_PER_SECOND).toFixed(1)}× the peak hour's posts; ${(rate.posts / ASSUMED_PEAK_POSTS_PER_SECOND).toFixed(1)}× the assumed surge's posts; ${(rate.commits / ASSUMED_PEAK_COMMITS_PER_SECOND).toFixed(1)}× its commits`,
    );
  }
  http.close();
  process.exit(0);
}
