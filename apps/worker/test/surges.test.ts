import { createDb } from '@kikimimi/db';
import { SURGE_INTENT_SHARE } from '@kikimimi/rules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  channelMatchMessages,
  embedText,
  matchIdsOf,
  matchMessages,
  playScenario,
  type ScenarioResult,
  SURGE_CONFIG,
  surgeMessages,
  surgeThreadMessages,
  watchingSince,
  watchReviewMessages,
} from './surge-scenario.ts';
import { createTestWorld, type TestWorld, waitFor } from './world.ts';

/**
 * Issue 15 end to end over the stand-ins, with real PostgreSQL and Redis: an outage burst among normal
 * traffic becomes one surge message in Discord (whose per-channel rate limit is on), ordinary matches
 * keep their own review messages, and the announcement goes out once per platform however often its
 * form is submitted. The burst is 1,000 posts over 30 s here (the issue says 2 minutes: the benchmark
 * runs that; the test scales time down to stay short).
 */
let world: TestWorld;
let scenario: ScenarioResult;
let watcher: ReturnType<typeof watchReviewMessages>;

beforeAll(async () => {
  world = await createTestWorld({ config: SURGE_CONFIG });
  world.discord.setChannelRateLimit(true);
  await watchingSince(world);
  await world.startWorker();
  watcher = watchReviewMessages(world);
  scenario = await playScenario(world, { burstMs: 30_000, calmMs: 8_000, normalPerSecond: 1 });
  await waitFor(
    async () => (await world.repos.surges.list()).some((s) => s.count >= 900),
    60_000,
    'the surge',
  );
}, 180_000);
afterAll(async () => {
  watcher?.stop();
  await world?.close();
});

type Match = Awaited<ReturnType<TestWorld['repos']['matches']['list']>>[number];
async function storedMatches(): Promise<Match[]> {
  const all: Match[] = [];
  let before: Match | undefined;
  for (;;) {
    const page = await world.repos.matches.list({}, { limit: 500, ...(before ? { before } : {}) });
    all.push(...page);
    if (page.length < 500) return all;
    before = page[page.length - 1];
  }
}

describe('an outage burst among normal traffic', () => {
  it('becomes one surge with one message, not 1,000', async () => {
    const surges = await world.repos.surges.list();
    expect(surges).toHaveLength(1);
    const [surge] = surges;
    if (surge === undefined) throw new Error('no surge');
    // Give the last paced edit its window, then look at Discord.
    await waitFor(
      async () => {
        const now = await world.repos.surges.get(surge.id);
        return surgeMessages(world).some((m) => embedText(m).includes(`${now?.count} `));
      },
      60_000,
      'the surge message showing the final count',
    );
    const latest = await world.repos.surges.get(surge.id);
    expect(surgeMessages(world)).toHaveLength(1);
    const [message] = surgeMessages(world);
    expect(embedText(message as never)).toContain(String(latest?.count));
    // Its watch by the configuration's name, the id beside it.
    expect(embedText(message as never)).toContain('しおりノート (shiori)');
    expect(latest?.count).toBeGreaterThanOrEqual(900);
    expect(latest?.examples.length).toBeGreaterThan(0);
    expect(Object.keys(latest?.platforms ?? {})).toEqual(['x']);
    // Individual review messages: the normal traffic and at most the burst's first posts (before it
    // was a surge; they are edited to say they joined, not deleted).
    const outageIds = new Set([...scenario.added].filter(([, v]) => v.outage).map(([id]) => id));
    const outageMessages = matchMessages(world).filter((m) => {
      const id = /status\/(\d+)/u.exec(embedText(m))?.[1];
      return id !== undefined && outageIds.has(id);
    });
    expect(outageMessages.length).toBeLessThan(60);
    // Those that joined the surge after their own message went out: edited to say so (not deleted).
    const members = new Set(
      (await storedMatches()).filter((m) => m.surgeId === surge.id).map((m) => m.postId),
    );
    const early = outageMessages.filter((m) => members.has(/status\/(\d+)/u.exec(embedText(m))?.[1] ?? ''));
    // How many there are depends on how far the worker lags behind the flood: a loaded machine's worker
    // can see the flood before it has reviewed any of it, and then there are none. (That members whose
    // message went out get an edit is held by surge-hold-back.test on a clock of its own, the edit's
    // text by review-message.test.)
    console.log(
      `outage review messages: ${outageMessages.length}, of them joined the surge: ${early.length}`,
    );
    await waitFor(
      () => early.every((m) => embedText(world.discord.message(m.id) ?? m).includes('🌊')),
      60_000,
      `the early members edited to say they joined the surge (${early.length} of ${outageMessages.length} outage messages)`,
    );
  });

  it('leaves ordinary matches their own review message, each once', { timeout: 240_000 }, async () => {
    const stored = await storedMatches();
    const ordinary = stored.filter((m) => !m.surgeId && !m.suppressed && scenario.added.has(m.postId));
    expect(ordinary.filter((m) => !scenario.added.get(m.postId)?.outage).length).toBeGreaterThan(10);
    // Behind the burst's first posts (reviewed before it was a surge), at Discord's 5 messages per 5 s
    // per channel, several to a message when they wait: the benchmark measures how long (README
    // "Measured").
    await waitFor(
      () => ordinary.every((m) => watcher.firstSeen.has(m.id)),
      180_000,
      'a review message for every ordinary match',
    );
    const perMatch = new Map<string, number>();
    for (const m of matchMessages(world)) {
      for (const id of matchIdsOf(m)) perMatch.set(id, (perMatch.get(id) ?? 0) + 1);
    }
    expect([...perMatch.values()].every((n) => n === 1)).toBe(true);
    // Surge members have none of their own but those reviewed before the surge took them in: with the
    // defaults (no review held for a surge) the flood's first seconds — 92 of 1,000 in a run of this
    // 30-second burst; fewer than 60 with `holdSeconds: 60`.
    const members = stored.filter((m) => m.surgeId);
    expect(members.length).toBeGreaterThan(900);
    expect(members.filter((m) => perMatch.has(m.id)).length).toBeLessThan(members.length * 0.15);
    // While the surge was open, matches of its intents it did not take in, and matches held for it
    // (whatever their intent) that it did not take in, were reviewed in the thread under its message;
    // matches of the intents few or none of its members have, never held, stayed in the review channel.
    const [surge] = await world.repos.surges.list();
    const surgeIntents = new Set(Object.keys(surge?.intents ?? {}));
    const total = Object.values(surge?.intents ?? {}).reduce((a, b) => a + b, 0);
    // Intents of a tenth of its members or fewer (in this scenario: never one of its main ones).
    const minor = (intent: string) => (surge?.intents[intent] ?? 0) <= total / 10;
    const byId = new Map((await storedMatches()).map((m) => [m.id, m]));
    const inThread = surgeThreadMessages(world).flatMap((m) => matchIdsOf(m).map((id) => byId.get(id)));
    expect(inThread.length).toBeGreaterThan(0);
    const held = new Set<string>();
    for (const m of stored) if ((await world.repos.surges.heldUntil(m.id)) !== null) held.add(m.id);
    expect(
      inThread.filter((m) => m === undefined || (!surgeIntents.has(m.decision.intent) && !held.has(m.id))),
    ).toEqual([]);
    // Held for the surge, not taken in, of an intent that is not one of its main ones (the flood's
    // "is it down?" questions, an everyday question caught in the flood), whose review was placed once
    // the surge's message was there: in the thread too. (A review's place is claimed when its job first
    // runs and kept on retries — one that first ran before the surge, then waited for a busy channel or
    // was held back, stays in the review channel.)
    const surgeMessageAt = Date.parse(surgeMessages(world)[0]?.createdAt ?? '') || Number.POSITIVE_INFINITY;
    const database = createDb({ connectionString: world.workerOptions.databaseUrl, schema: world.schema });
    const claimedAt = new Map<string, number>();
    try {
      const { rows } = await database.pool.query<{ match_id: string; created_at: Date }>(
        'SELECT match_id, created_at FROM review_messages',
      );
      for (const row of rows) claimedAt.set(row.match_id, row.created_at.getTime());
    } finally {
      await database.close();
    }
    const heldOther = ordinary.filter(
      (m) =>
        held.has(m.id) &&
        // The surge's message is stored a moment after Discord has it: a second's margin.
        (claimedAt.get(m.id) ?? 0) > surgeMessageAt + 1_000 &&
        (surge?.intents[m.decision.intent] ?? 0) < total * SURGE_INTENT_SHARE,
    );
    console.log(`held for the surge, not taken in, of its minor intents: ${heldOther.length}`);
    expect(heldOther.length).toBeGreaterThan(0);
    const threadIds = new Set(inThread.map((m) => m?.id));
    expect(heldOther.filter((m) => !threadIds.has(m.id)).map((m) => m.decision.intent)).toEqual([]);
    const otherIntents = ordinary.filter(
      (m) =>
        minor(m.decision.intent) &&
        !held.has(m.id) &&
        (scenario.added.get(m.postId)?.at ?? 0) >= scenario.burstStart + 10_000 &&
        (scenario.added.get(m.postId)?.at ?? 0) < scenario.burstEnd,
    );
    const inChannel = new Set(channelMatchMessages(world).flatMap(matchIdsOf));
    expect(otherIntents.length).toBeGreaterThan(0);
    expect(otherIntents.filter((m) => !inChannel.has(m.id))).toEqual([]);
  });

  it("goes on with a case in the surge's thread: its events there, no thread of its own", async () => {
    const [review] = surgeThreadMessages(world);
    if (review === undefined) throw new Error('no review message in the surge thread');
    const before = world.discord.messages(review.channelId).length;
    const customId = JSON.stringify(review.components).match(/kk:tk:[0-9a-f-]{36}/u)?.[0] ?? '';
    const taken = await world.discord.clickButton({
      messageId: review.id,
      customId,
      userId: world.discord.userId('alice'),
    });
    expect(taken.type).toBe('update');
    await waitFor(
      () => world.discord.messages(review.channelId).length > before,
      20_000,
      'the case event in the surge thread',
    );
    expect(world.discord.threads().some((thread) => thread.messageId === review.id)).toBe(false);
  });

  it('posts the announcement once per platform when its form is submitted twice', async () => {
    const [message] = surgeMessages(world);
    if (message === undefined) throw new Error('no surge message');
    const alice = world.discord.userId('alice');
    const announceId = JSON.stringify(message.components).match(/kks:a:[0-9a-f-]{36}/u)?.[0] ?? '';
    const opened = await world.discord.clickButton({
      messageId: message.id,
      customId: announceId,
      userId: alice,
    });
    expect(opened.type).toBe('modal');
    const customId = opened.modal?.customId ?? '';
    const text = 'ただいまログインできない障害が発生しています。復旧までお待ちください。';
    const submit = () =>
      world.discord.submitModal({ customId, userId: alice, messageId: message.id, values: { text } });
    await Promise.all([submit(), submit()]);
    await submit();
    const xPosts = () => world.x.replies().filter((r) => r.inReplyTo === '' && r.text === text);
    const mastodonPosts = () =>
      world.mastodon.statuses().filter((s) => s.content.includes('ただいまログインできない'));
    await waitFor(() => xPosts().length === 1 && mastodonPosts().length === 1, 60_000, 'both announcements');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(xPosts()).toHaveLength(1);
    expect(mastodonPosts()).toHaveLength(1);
    const surge = (await world.repos.surges.list())[0];
    const announcements = await world.repos.surges.announcements(surge?.id ?? '');
    expect(announcements.map((a) => [a.platform, a.state]).sort()).toEqual([
      ['mastodon', 'sent'],
      ['x', 'sent'],
    ]);
    expect(surge?.handling).toContain('announced');
  });

  it('closes the surge: later similar matches are reviewed one by one again', async () => {
    const [message] = surgeMessages(world);
    if (message === undefined) throw new Error('no surge message');
    const alice = world.discord.userId('alice');
    const closeId = JSON.stringify(message.components).match(/kks:c:[0-9a-f-]{36}/u)?.[0] ?? '';
    await world.discord.clickButton({ messageId: message.id, customId: closeId, userId: alice });
    const surge = (await world.repos.surges.list())[0];
    expect(surge?.status).toBe('closed');
    expect(surge?.closedBy).toBe('reviewer');
    const id = world.x.addPost({
      text: 'しおりノート ログインできない…落ちてる？',
      author: { handle: 'latecomer', name: 'late' },
    });
    await waitFor(
      () => matchMessages(world).some((m) => embedText(m).includes(`status/${id}`)),
      25_000,
      'a review message for a match after the close',
    );
    // In the review channel again, not in the closed surge's thread.
    expect(channelMatchMessages(world).some((m) => embedText(m).includes(`status/${id}`))).toBe(true);
  });
});
