/**
 * Conversations against the target, on this machine: the time from a customer's answer on the
 * platform to its message in the case's Discord thread, against the follow interval (target: p95 <
 * interval + 1 s). Printed with PASS/MISS, never asserted (a noisy shared machine is no place for
 * timing assertions).
 *
 *   node apps/worker/bench/conversation-bench.ts [--cases 40] [--interval-ms 5000] [--spread-s 15]
 *
 * The real worker (startWorker) in a test world (real PostgreSQL and Redis, the X and Mastodon
 * stand-ins spoken to by twitter-api-v2 and masto, the Discord stand-in by discord.js) with its follow
 * job every `--interval-ms` (production: conversations.checkEveryMinutes). `--cases` posts (half on X,
 * half on Mastodon) are answered through the desk; once every reply is out, each customer answers at a
 * random moment over `--spread-s` seconds, and each answer is timed from the moment it is on the stand-in
 * until the stand-in Discord has it in the thread (its createdAt). Everything it creates is removed at
 * the end.
 */
import { parseArgs } from 'node:util';
import { createDesk } from '@kikimimi/desk';
import { createTestWorld, waitFor } from '../test/world.ts';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '40' },
    'interval-ms': { type: 'string', default: '5000' },
    'spread-s': { type: 'string', default: '15' },
  },
});
const cases = Number(values.cases);
const intervalMs = Number(values['interval-ms']);
const spreadMs = Number(values['spread-s']) * 1000;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

const world = await createTestWorld();
try {
  await world.startWorker({ followEveryMs: intervalMs });
  const desk = createDesk({ repos: world.repos, now: () => new Date() });
  const actor = { kind: 'system', id: 'bench', name: 'bench' } as const;

  // The posts, and our replies to them through the desk (the worker sends them).
  const posted: Array<{ platform: 'x' | 'mastodon'; postId: string; handle: string }> = [];
  for (let i = 0; i < cases; i++) {
    const handle = `customer${i}`;
    const platform = i % 2 === 0 ? 'x' : 'mastodon';
    const postId =
      platform === 'x'
        ? world.x.addPost({ text: `shiorinote sync is broken (${i})`, author: { handle }, lang: 'en' })
        : world.mastodon.addPost({
            text: `しおりノートの同期ができない (${i}) #しおりノート`,
            author: { handle },
            hashtags: ['しおりノート'],
          });
    posted.push({ platform, postId, handle });
  }
  const matchOf = async (platform: 'x' | 'mastodon', postId: string) =>
    (await world.repos.matches.list({ platform }, { limit: 500 })).find((m) => m.postId === postId);
  for (const p of posted) {
    const match = await waitFor(() => matchOf(p.platform, p.postId), 60_000, `the match of ${p.postId}`);
    const outcome = await desk.reply(actor, match.id, {
      text: 'ご不便をおかけしております。確認いたします。',
    });
    if (!outcome.ok) throw new Error(`reply refused: ${outcome.code}`);
  }
  const ourReply = (p: (typeof posted)[number]) =>
    (p.platform === 'x' ? world.x.replies() : world.mastodon.replies()).find((r) => r.inReplyTo === p.postId);
  await waitFor(() => posted.every((p) => ourReply(p) !== undefined), 120_000, 'every reply to go out');
  // Followed from the moment the replies are recorded as sent.
  await waitFor(
    async () => {
      for (const p of posted)
        if ((await matchOf(p.platform, p.postId))?.caseState !== 'waiting') return false;
      return true;
    },
    60_000,
    'every case to wait for its customer',
  );
  // Let each account's first look (which starts its cursor "from now") happen before anyone answers.
  await new Promise((resolve) => setTimeout(resolve, intervalMs * 1.5));

  // Each customer answers at a random moment; timed until the answer is in the Discord thread.
  const answered = new Map<string, number>();
  await Promise.all(
    posted.map(async (p, i) => {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * spreadMs));
      const ours = ourReply(p);
      if (ours === undefined) throw new Error('our reply vanished');
      const token = `answer-token-${i}`;
      const text = `thanks, that helped! ${token}`;
      if (p.platform === 'x') world.x.addReply(ours.id, { text, author: { handle: p.handle }, lang: 'en' });
      else world.mastodon.addReply(ours.id, { text, author: { handle: p.handle } });
      answered.set(token, Date.now());
    }),
  );
  const latencies: number[] = [];
  await waitFor(
    () => {
      latencies.length = 0;
      for (const [token, at] of answered) {
        const message = world.discord.messages().find((m) => m.content.includes(token));
        if (message === undefined) return false;
        latencies.push(Date.parse(message.createdAt) - at);
      }
      return true;
    },
    intervalMs * 4 + spreadMs + 60_000,
    'every answer in its thread',
  );
  latencies.sort((a, b) => a - b);
  const p95 = percentile(latencies, 95);
  const target = intervalMs + 1000;
  console.log(`conversation bench: ${cases} cases (X and Mastodon), follow interval ${seconds(intervalMs)}`);
  console.log(
    `answer on the platform → Discord thread: p50 ${seconds(percentile(latencies, 50))}, p95 ${seconds(p95)}, max ${seconds(latencies.at(-1) ?? Number.NaN)}`,
  );
  console.log(
    `target p95 < interval + 1 s = ${seconds(target)}: ${p95 < target ? 'PASS' : 'MISS'} (p95 / target = ${(p95 / target).toFixed(2)})`,
  );
} finally {
  await world.close();
}
