/**
 * Surges against the issue's targets, on this machine (issue 15): the time from the burst's start to
 * the surge's Discord message (goal < 60 s); the p95 latency of ordinary matches during the burst
 * against before it, in the same run; review messages sent during the burst. Printed, never asserted.
 *
 *   node apps/worker/bench/surge-bench.ts [--burst 1000] [--burst-s 120] [--calm-s 60] [--normal-per-s 1]
 *                                          [--history-h 1] [--hold-s 60] [--arrivals random|even] [--seed 1]
 *
 * The real worker (startWorker) in a test world (real PostgreSQL and Redis; the X stand-in polled by
 * twitter-api-v2 every second as configured, every 2 s in practice: X's search budget of 450 per
 * 15 minutes; the Discord stand-in, spoken to by discord.js, with its per-channel rate limit of 5
 * messages per 5 s on). The scenario (test/surge-scenario.ts) adds normal traffic for `--calm-s`, then
 * the generator's outage burst (`--burst` posts over `--burst-s`) among it, then `--calm-s` of normal
 * traffic again, each post at its time. Normal posts come at random times (a Poisson process seeded by
 * `--seed`), as people post; `--arrivals even`: one every 1/rate s, which keeps one phase against the
 * poll for the whole run (see normalTimes in test/surge-scenario.ts). Latency: from the post's
 * arrival on the stand-in to its review message in Discord (polled every 50 ms). `--history-h`: that
 * many hours of normal traffic at the same rate stored first (decided), so the detector starts knowing
 * the usual, as in a deployment that has been running; 0: one match 30 minutes old only (a deployment
 * that has listened to a quiet watch; without any, nothing would be a surge in the first window
 * watched).
 * `--hold-s`: the configuration's `surges.holdSeconds` (default 0: no match waits for a surge; 60
 * shows what holding saves in review messages against what it costs in latency). Everything it
 * creates is removed.
 * `SURGE_BENCH_DEBUG=1` also prints every ordinary match of the burst as channel (C) or surge thread
 * (T), intent, latency in seconds and when in the burst it was posted;
 * every latency before and during the burst (ms; lines `before:` and `during:`, to pool runs);
 * the surges' intents; messages per 5 s from the burst's start in the review channels (C), the surge's
 * thread (T) and the surge message (S); every single review message from the burst's start per 10 s by
 * what it was (an ordinary match, an outage post reviewed alone, or one that joined the surge later)
 * and how it came to be reviewed alone (f: at once, h: held and let go, a: alike the surge); and the
 * outage posts reviewed alone, the same way as the ordinary matches.
 */
import { parseArgs } from 'node:util';
import { createDb } from '@kikimimi/db';
import { JOB_IDS } from '@kikimimi/desk';
import { SURGE_DEFAULTS } from '@kikimimi/rules';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import {
  arrivalsOptions,
  channelMatchMessages,
  matchIdsOf,
  matchMessages,
  percentile,
  playScenario,
  SURGE_CONFIG,
  storeHistory,
  surgeMessages,
  surgeThreadMessages,
  watchingSince,
  watchReviewMessages,
} from '../test/surge-scenario.ts';
import { createTestWorld, waitFor } from '../test/world.ts';
import { difference, ratio, seconds, spread } from './surge-stats.ts';

const { values } = parseArgs({
  options: {
    burst: { type: 'string', default: '1000' },
    'burst-s': { type: 'string', default: '120' },
    'calm-s': { type: 'string', default: '60' },
    'normal-per-s': { type: 'string', default: '1' },
    'history-h': { type: 'string', default: '1' },
    'hold-s': { type: 'string', default: String(SURGE_DEFAULTS.holdSeconds) },
    arrivals: { type: 'string', default: 'random' },
    seed: { type: 'string', default: '1' },
  },
});
const { arrivals, seed } = arrivalsOptions(values);
const world = await createTestWorld({
  config: { ...SURGE_CONFIG, surges: { holdSeconds: Number(values['hold-s']) } },
});
try {
  world.discord.setChannelRateLimit(true);
  const historyHours = Number(values['history-h']);
  if (historyHours > 0) {
    const stored = await storeHistory(world, historyHours, Number(values['normal-per-s']));
    console.log(`history: ${stored} posts of normal traffic over the ${historyHours} h before now, stored`);
  } else {
    await watchingSince(world, 30);
    console.log('history: one match 30 minutes before now, stored');
  }
  await world.startWorker();
  const watcher = watchReviewMessages(world);
  const burstMs = Number(values['burst-s']) * 1000;
  const calmMs = Number(values['calm-s']) * 1000;
  const scenario = await playScenario(world, {
    burstCount: Number(values.burst),
    burstMs,
    calmMs,
    normalPerSecond: Number(values['normal-per-s']),
    arrivals,
    arrivalSeed: seed,
  });
  // Every match reviewed one way or the other (its own message, or a member of a surge).
  const stored = async () => {
    const all = [];
    let before: Awaited<ReturnType<typeof world.repos.matches.list>>[number] | undefined;
    for (;;) {
      const page = await world.repos.matches.list({}, { limit: 500, ...(before ? { before } : {}) });
      all.push(...page);
      if (page.length < 500) return all;
      before = page[page.length - 1];
    }
  };
  const matches = await waitFor(
    async () => {
      const all = await stored();
      const done = all
        .filter((m) => scenario.added.has(m.postId))
        .every((m) => m.suppressed || m.surgeId || watcher.firstSeen.has(m.id));
      return done ? all : null;
    },
    300_000,
    'every match reviewed',
  );
  watcher.stop();
  const surgeAt = watcher.surgeSeenAt();
  const ordinary = matches.filter((m) => !m.surgeId && !m.suppressed && scenario.added.has(m.postId));
  const latency = (from: number, to: number) =>
    ordinary
      .filter((m) => {
        const added = scenario.added.get(m.postId);
        return added !== undefined && !added.outage && added.at >= from && added.at < to;
      })
      .map((m) => (watcher.firstSeen.get(m.id) as number) - (scenario.added.get(m.postId)?.at as number));
  const before = latency(0, scenario.burstStart);
  const during = latency(scenario.burstStart, scenario.burstEnd);
  // Where the time goes: post → match stored (polling, ingest), stored → review message (surge job,
  // notify job, Discord).
  const split = ordinary.filter((m) => {
    const added = scenario.added.get(m.postId);
    return (
      added !== undefined && !added.outage && added.at >= scenario.burstStart && added.at < scenario.burstEnd
    );
  });
  const storedIn = split.map((m) => m.createdAt.getTime() - (scenario.added.get(m.postId)?.at as number));
  const reviewedIn = split.map((m) => (watcher.firstSeen.get(m.id) as number) - m.createdAt.getTime());
  const calm = ordinary.filter((m) => {
    const added = scenario.added.get(m.postId);
    return added !== undefined && !added.outage && added.at < scenario.burstStart;
  });
  const calmStoredIn = calm.map((m) => m.createdAt.getTime() - (scenario.added.get(m.postId)?.at as number));
  const calmReviewedIn = calm.map((m) => (watcher.firstSeen.get(m.id) as number) - m.createdAt.getTime());
  const inBurst = (m: { createdAt: string }) => {
    const at = Date.parse(m.createdAt);
    return at >= scenario.burstStart && at < scenario.burstEnd + 60_000;
  };
  const sentDuring = matchMessages(world).filter(inBurst).length;
  const inThread = new Set(surgeThreadMessages(world).flatMap(matchIdsOf));
  const threadDuring = surgeThreadMessages(world).filter(inBurst);
  const sentInThread = threadDuring.length;
  const reviewsInThread = threadDuring.reduce((n, m) => n + matchIdsOf(m).length, 0);
  const ordinaryDuring = split.filter((m) => !inThread.has(m.id));
  const duringInChannel = ordinaryDuring.map(
    (m) => (watcher.firstSeen.get(m.id) as number) - (scenario.added.get(m.postId)?.at as number),
  );
  const surges = await world.repos.surges.list();
  console.log(
    `surge bench: ${values.burst} outage posts over ${values['burst-s']} s among ${values['normal-per-s']} normal post/s (${arrivals === 'even' ? 'evenly spaced' : `at random times, seed ${values.seed}`}; ${values['calm-s']} s calm before and after); holdSeconds ${values['hold-s']}; Discord rate limit on`,
  );
  console.log(
    `  surges: ${surges.length} (${surges.map((s) => `${s.count} members`).join(', ')}); surge messages: ${surgeMessages(world).length}`,
  );
  console.log(
    `  burst start → surge message: ${seconds(surgeAt === null ? null : surgeAt - scenario.burstStart)} (goal < 60 s)`,
  );
  console.log(
    `  ordinary matches, post → review message: before the burst p95 ${seconds(percentile(before, 95))} (n=${before.length}); during it p95 ${seconds(percentile(during, 95))} (n=${during.length}; ${ratio(percentile(during, 95), percentile(before, 95))} before)`,
  );
  console.log(
    `    by chance (p95 of resamples, 5th–95th percentile): before ${spread(before)}, during ${spread(during)}`,
  );
  console.log(`    p95 during − before, 90% of resamples: ${difference(before, during)}`);
  console.log(
    `    of which post → stored p95 ${seconds(percentile(storedIn, 95))} (before ${seconds(percentile(calmStoredIn, 95))}), stored → review message p95 ${seconds(percentile(reviewedIn, 95))} (before ${seconds(percentile(calmReviewedIn, 95))})`,
  );
  if (process.env.SURGE_BENCH_DEBUG) {
    // The two halves at the median and the 75th percentile, before and during, in the review channels
    // and in the thread: whether a slower burst is in polling and storing or in reviewing.
    const quantiles = (xs: readonly number[]) =>
      `p50 ${seconds(percentile(xs, 50))} p75 ${seconds(percentile(xs, 75))} (n=${xs.length})`;
    const reviewedWhere = (thread: boolean) =>
      split
        .filter((m) => inThread.has(m.id) === thread)
        .map((m) => (watcher.firstSeen.get(m.id) as number) - m.createdAt.getTime());
    console.log(
      `halves: post → stored before ${quantiles(calmStoredIn)}, during ${quantiles(storedIn)}; stored → review before ${quantiles(calmReviewedIn)}, during in the channels ${quantiles(reviewedWhere(false))}, in the thread ${quantiles(reviewedWhere(true))}`,
    );
  }
  if (process.env.SURGE_BENCH_DEBUG) {
    // Stored → review message in two: the surge job (the detector, one page at a time) until the
    // match's notify job was created, and that job until its message. And each surge job of the
    // burst's first 30 s: when it began and how long it took (s from the burst's start).
    const connection = new Redis(world.workerOptions.redisUrl, { maxRetriesPerRequest: null });
    try {
      const notify = new Queue('notify', { connection, prefix: world.prefix });
      const surgeQueue = new Queue('surge', { connection, prefix: world.prefix });
      const queued = new Map<string, number>();
      for (const m of split) {
        const job = await notify.getJob(JOB_IDS.notify(m.id));
        if (job !== undefined) queued.set(m.id, job.timestamp);
      }
      const judged = split.filter((m) => queued.has(m.id));
      const surgeStep = judged.map((m) => (queued.get(m.id) as number) - m.createdAt.getTime());
      const notifyStep = judged.map(
        (m) => (watcher.firstSeen.get(m.id) as number) - (queued.get(m.id) as number),
      );
      console.log(
        `stored → review during: surge job p50 ${seconds(percentile(surgeStep, 50))} p95 ${seconds(percentile(surgeStep, 95))}, notify job p50 ${seconds(percentile(notifyStep, 50))} p95 ${seconds(percentile(notifyStep, 95))} (n=${judged.length} of ${split.length})`,
      );
      const surgeJobs = (await surgeQueue.getJobs(['completed'], 0, 999))
        .filter((j) => j.processedOn !== undefined && j.finishedOn !== undefined)
        .map((j) => ({
          at: (j.processedOn as number) - scenario.burstStart,
          took: (j.finishedOn as number) - (j.processedOn as number),
          waited: (j.processedOn as number) - j.timestamp,
        }))
        .filter(({ at }) => at >= -2_000 && at < 30_000)
        .sort((a, b) => a.at - b.at);
      console.log(
        `surge jobs, burst's first 30 s (start+took, waited): ${surgeJobs.map(({ at, took, waited }) => `${(at / 1000).toFixed(1)}+${(took / 1000).toFixed(2)}(${(waited / 1000).toFixed(2)})`).join(' ')}`,
      );
      await notify.close();
      await surgeQueue.close();
    } finally {
      connection.disconnect();
    }
  }
  if (process.env.SURGE_BENCH_DEBUG) {
    // With ":h<s>" when it was held for a surge (that many seconds after it was stored), ":a" when it
    // was reviewed at once as resembling the surge.
    const marks = new Map<string, string>();
    for (const m of split) {
      const until = await world.repos.surges.heldUntil(m.id);
      if (until === null) continue;
      const held = (until.getTime() - m.createdAt.getTime()) / 1000;
      marks.set(m.id, held < 0.5 ? ':a' : `:h${held.toFixed(0)}`);
    }
    console.log(
      split
        .map(
          (m) =>
            `${inThread.has(m.id) ? 'T' : 'C'}:${m.decision.intent}:${(((watcher.firstSeen.get(m.id) as number) - (scenario.added.get(m.postId)?.at as number)) / 1000).toFixed(1)}@${(((scenario.added.get(m.postId)?.at as number) - scenario.burstStart) / 1000).toFixed(0)}${marks.get(m.id) ?? ''}`,
        )
        .join(' '),
    );
  }
  if (process.env.SURGE_BENCH_DEBUG) {
    // When the surge became one, from the burst's start: on the posts' clock (the detector's), stored,
    // its message in Discord, its thread, the thread's first message.
    const [first] = surges;
    if (first !== undefined) {
      const database = createDb({ connectionString: world.workerOptions.databaseUrl, schema: world.schema });
      try {
        const { rows } = await database.pool.query<{ created_at: Date }>(
          'SELECT created_at FROM surges WHERE id = $1',
          [first.id],
        );
        const thread = world.discord.threads().find((t) => t.messageId === first.messageId);
        const threadMessages = thread === undefined ? [] : world.discord.messages(thread.id);
        const since = (at: number | undefined) =>
          at === undefined || Number.isNaN(at) ? '–' : seconds(at - scenario.burstStart);
        // The first minute of the thread and of the review channel from the burst's start: each message
        // as seconds since the burst began × the reviews it carries.
        const firstMinute = (messages: typeof threadMessages) =>
          messages
            .map((m) => ({ at: Date.parse(m.createdAt) - scenario.burstStart, n: matchIdsOf(m).length }))
            .filter(({ at, n }) => at >= 0 && at < 60_000 && n > 0)
            .map(({ at, n }) => `${(at / 1000).toFixed(1)}×${n}`)
            .join(' ');
        console.log(`thread's first minute: ${firstMinute(threadMessages)}`);
        console.log(`review channels' first minute: ${firstMinute(channelMatchMessages(world))}`);
        console.log(
          `surge timeline: detected ${since(first.detectedAt.getTime())} (posts' clock), stored ${since(rows[0]?.created_at.getTime())}, message ${since(surgeAt ?? undefined)}, thread ${since(Date.parse(thread?.createdAt ?? ''))}, its first review ${since(Date.parse(threadMessages[0]?.createdAt ?? ''))}`,
        );
      } finally {
        await database.close();
      }
    }
    // The latencies before and during the burst in ms, to pool runs: `before: …` and `during: …`.
    console.log(`before: ${before.join(' ')}`);
    console.log(`during: ${during.join(' ')}`);
    console.log(JSON.stringify((await world.repos.surges.list()).map((x) => x.intents)));
    const per5 = new Map<string, number>();
    const all = ['review', 'review-x', 'review-mastodon'].flatMap((name) => {
      const review = world.discord.channelId(name);
      return [
        ...world.discord.messages(review),
        ...world.discord
          .threads()
          .filter((t) => t.parentId === review)
          .flatMap((t) => world.discord.messages(t.id)),
      ];
    });
    const channelIds = new Set(
      ['review', 'review-x', 'review-mastodon'].map((n) => world.discord.channelId(n)),
    );
    for (const m of all) {
      if (m.ephemeral) continue;
      const k = `${Math.floor((Date.parse(m.createdAt) - scenario.burstStart) / 5000) * 5}:${m.channelId === world.discord.channelId('review') ? 'S' : channelIds.has(m.channelId) ? 'C' : 'T'}`;
      per5.set(k, (per5.get(k) ?? 0) + 1);
    }
    console.log(
      [...per5]
        .sort((a, b) => Number.parseInt(a[0], 10) - Number.parseInt(b[0], 10))
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    );
  }
  if (process.env.SURGE_BENCH_DEBUG) {
    // Every single-match message in the review channels from the burst's start, by what it was: an
    // ordinary match, an outage post reviewed alone, or one that joined the surge after its message.
    const byPostId = new Map(matches.map((m) => [m.id, m]));
    const kinds = new Map<string, number>();
    for (const m of matchMessages(world)) {
      const at = Date.parse(m.createdAt) - scenario.burstStart;
      // (The first review of a shared message stands for it.)
      const match = byPostId.get(matchIdsOf(m)[0] ?? '');
      if (at < 0 || match === undefined) continue;
      const added = scenario.added.get(match.postId);
      // How it came to be reviewed alone: f(resh), h(eld and let go) or a(like the surge).
      const until = await world.repos.surges.heldUntil(match.id);
      const how = until === null ? 'f' : until.getTime() - match.createdAt.getTime() < 500 ? 'a' : 'h';
      const kind = `${inThread.has(match.id) ? 'T' : 'C'}:${added?.outage ? (match.surgeId ? 'outage-joined-later' : 'outage-alone') : 'ordinary'}/${how}@${Math.floor(at / 10_000) * 10}`;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    }
    console.log(`messages by kind per 10 s: ${[...kinds].map(([k, v]) => `${k}=${v}`).join(' ')}`);
  }
  if (process.env.SURGE_BENCH_DEBUG)
    console.log(
      'outage alone: ' +
        ordinary
          .filter((m) => scenario.added.get(m.postId)?.outage)
          .map(
            (m) =>
              `${inThread.has(m.id) ? 'T' : 'C'}:${m.decision.intent}:${(((watcher.firstSeen.get(m.id) as number) - (scenario.added.get(m.postId)?.at as number)) / 1000).toFixed(1)}@${(((scenario.added.get(m.postId)?.at as number) - scenario.burstStart) / 1000).toFixed(0)}`,
          )
          .join(' '),
    );
  console.log(
    `    those reviewed in the review channel itself p95 ${seconds(percentile(duringInChannel, 95))} (n=${duringInChannel.length}); in the surge's thread: ${split.length - ordinaryDuring.length}`,
  );
  console.log(
    `  review messages created from the burst's start to 60 s after its end: ${sentDuring}, of them ${sentInThread} in the surge's thread carrying ${reviewsInThread} reviews (outage posts reviewed outside the surge: ${ordinary.filter((m) => scenario.added.get(m.postId)?.outage).length})`,
  );
} finally {
  await world.close();
}
