import { createDesk } from '@kikimimi/desk';
import type { Post } from '@kikimimi/rules';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASE_EVENT_WAIT_MS, createDiscordNotifier, nonceFor } from '../src/discord/notifier.ts';
import { type BotMessage, DiscordBusyError, type DiscordPort } from '../src/discord/port.ts';
import { createEngineProvider } from '../src/engine-provider.ts';
import { createMetrics } from '../src/metrics.ts';
import { ingestPosts } from '../src/pipeline/ingest.ts';
import { ingestDeps, matchIdsOf, surgeSummary, xPost } from './surge-scenario.ts';
import { createTestWorld, type TestWorld } from './world.ts';

/**
 * A review message's place is claimed before it is sent (so a retry after a crash finds the same
 * message). When Discord refuses the send before posting anything (a busy channel) the claim stays,
 * waiting: the next job that gets the channel may take it along in its message, and its own next
 * attempt sends where it was claimed.
 */
let world: TestWorld;
const ids: string[] = [];
let serial = 0;

const post = (text: string): Post => xPost(8_100_000 + ++serial, text);

beforeAll(async () => {
  world = await createTestWorld();
  const deps = ingestDeps(world, {
    notifyMany: async (matchIds) => void ids.push(...matchIds),
    review: async (matchIds) => void ids.push(...matchIds),
  });
  await ingestPosts(
    {
      accountId: world.accounts.x,
      posts: [
        post('shiorinote 本棚の並び替えが便利'),
        post('shiorinote バーコードが読めない'),
        post('shiorinote ログインできない'),
      ],
    },
    deps,
  );
}, 60_000);
afterAll(async () => {
  await world?.close();
});

/** A Discord port that sends as `send` says; unless given, a free channel, edits ignored, no threads. */
const portWith = (given: Pick<DiscordPort, 'send'> & Partial<DiscordPort>): DiscordPort => ({
  pace: () => ({ waitMs: 0, inUse: false }),
  async edit() {},
  async thread() {
    throw new Error('no thread');
  },
  ...given,
});
const notifierWith = (
  given: Pick<DiscordPort, 'send'> & Partial<DiscordPort>,
  {
    now = () => new Date(),
    gather,
  }: { now?: () => Date; gather?: (channelId: string) => Promise<void> } = {},
) =>
  createDiscordNotifier({
    store: world.repos,
    engines: createEngineProvider(world.repos.config),
    discord: portWith(given),
    metrics: createMetrics(),
    now,
    ...(gather === undefined ? {} : { gather }),
  });

describe('a review message refused by a busy channel', () => {
  it('keeps its claim, waiting, and is sent where it was claimed', async () => {
    expect(ids).toHaveLength(3);
    const [fresh, earlier] = ids as [string, string];
    const sent: string[] = [];
    const busy = notifierWith({
      async send() {
        throw new DiscordBusyError(700);
      },
    });
    await expect(busy.post(fresh)).rejects.toBeInstanceOf(DiscordBusyError);
    const waiting = await world.repos.reviews.getMessage(fresh);
    expect(waiting).toMatchObject({ nonce: nonceFor(fresh), messageId: null, groupedAt: null });
    // An earlier attempt claimed in another channel: that claim stays too.
    await world.repos.reviews.claimMessage(earlier, '424242', nonceFor(earlier));
    await expect(busy.post(earlier)).rejects.toBeInstanceOf(DiscordBusyError);
    expect(await world.repos.reviews.getMessage(earlier)).toMatchObject({
      channelId: '424242',
      messageId: null,
    });
    // The next attempt sends: where it is right now for the first, where it was claimed for the second.
    const ok = notifierWith({
      async send(channelId) {
        sent.push(channelId);
        return { id: String(9_000 + sent.length) };
      },
    });
    expect(await ok.post(fresh)).toBe('posted');
    expect(await ok.post(earlier)).toBe('posted');
    expect(sent).toEqual([waiting?.channelId, '424242']);
    expect(await world.repos.reviews.getMessage(fresh)).toMatchObject({
      channelId: sent[0],
      messageId: '9001',
    });
  });

  it('waits while its channel spreads its messages, its claim kept, then goes with the ones that waited', async () => {
    const more: string[] = [];
    const deps = ingestDeps(world, {
      notifyMany: async (matchIds) => void more.push(...matchIds),
      review: async (matchIds) => void more.push(...matchIds),
    });
    const texts = ['shiorinote 同期が遅い', 'shiorinote 同期が終わらない', 'shiorinote 同期が止まる'];
    await ingestPosts({ accountId: world.accounts.x, posts: texts.map(post) }, deps);
    expect(more).toHaveLength(3);
    let wait = 800;
    const asked: string[] = [];
    const sent: BotMessage[] = [];
    const notifier = notifierWith({
      pace(channelId) {
        asked.push(channelId);
        return { waitMs: wait, inUse: false };
      },
      async send(_channelId, message) {
        sent.push(message);
        return { id: String(9_200 + sent.length) };
      },
    });
    // Each is told to come back when the channel's next message is due; nothing is sent or grouped.
    for (const id of more) await expect(notifier.post(id)).rejects.toMatchObject({ retryAfterMs: 800 });
    expect(sent).toEqual([]);
    const claims = await Promise.all(more.map((id) => world.repos.reviews.getMessage(id)));
    for (const claim of claims) expect(claim).toMatchObject({ messageId: null, groupedAt: null });
    // It was asked about the channel each was claimed in.
    expect(asked).toEqual(claims.map((c) => c?.channelId));
    // Due: the first to come back takes the others that waited in its channel along, in one message.
    wait = 0;
    expect(await notifier.post(more[2] as string)).toBe('posted');
    expect(sent).toHaveLength(1);
    const together = claims.filter((c) => c?.channelId === claims[2]?.channelId).map((c) => c?.matchId);
    expect(together.length).toBeGreaterThan(1);
    expect(matchIdsOf(sent[0] as BotMessage).sort()).toEqual([...together].sort());
    for (const id of more) expect(await notifier.post(id)).toBe('exists');
  });

  it('in a channel that has had a message in its window, takes the reviews claimed a moment later along', async () => {
    const mine: string[] = [];
    const deps = ingestDeps(world, {
      notifyMany: async (matchIds) => void mine.push(...matchIds),
      review: async (matchIds) => void mine.push(...matchIds),
    });
    const texts = ['shiorinote 読書記録が楽しい', 'shiorinote 読書記録が続いている'];
    await ingestPosts({ accountId: world.accounts.x, posts: texts.map(post) }, deps);
    const [first, second] = mine as [string, string];
    const sent: BotMessage[] = [];
    // The second review's job starts as the first's has claimed its place and asks about the channel
    // (a poll's page: its jobs a few ms apart). The first's wait (GATHER_MS in production) ends here
    // once the second has claimed its place, the second's once the first has sent — so that a loaded
    // machine's slow claim cannot make this flaky: what is tested is that the first waits at all.
    let two: Promise<unknown> | undefined;
    const until = async (done: () => Promise<boolean> | boolean) => {
      while (!(await done())) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    let gathers = 0;
    const notifier = notifierWith(
      {
        pace() {
          // (Refused while the first sends it in its message: fine, settled below.)
          two ??= notifier.post(second).catch((error: unknown) => error);
          return { waitMs: 0, inUse: true };
        },
        async send(_channelId, message) {
          sent.push(message);
          return { id: String(9_400 + sent.length) };
        },
      },
      {
        gather: () =>
          ++gathers === 1
            ? until(async () => (await world.repos.reviews.getMessage(second)) !== null)
            : until(() => sent.length > 0),
      },
    );
    await notifier.post(first);
    await two;
    const claims = await Promise.all([first, second].map((id) => world.repos.reviews.getMessage(id)));
    expect(claims[1]?.channelId).toBe(claims[0]?.channelId);
    expect(sent).toHaveLength(1);
    expect(matchIdsOf(sent[0] as BotMessage).sort()).toEqual([first, second].sort());
  });

  it('in a channel with no message in its window yet, has the reviews that come while the first is on its way wait for it, then go together', async () => {
    const mine: string[] = [];
    const deps = ingestDeps(world, {
      notifyMany: async (matchIds) => void mine.push(...matchIds),
      review: async (matchIds) => void mine.push(...matchIds),
    });
    const texts = [
      'shiorinote 付箋が増やせない',
      'shiorinote 付箋の色が変えられない',
      'shiorinote 付箋が消える',
    ];
    await ingestPosts({ accountId: world.accounts.x, posts: texts.map(post) }, deps);
    const [first, second, third] = mine as [string, string, string];
    // A poll's page: the second's and the third's jobs start while the first is on its way (its
    // message not counted by Discord yet, so the pacing still says the window has none). Waits end
    // on events, not times (see the test above).
    const until = async (done: () => Promise<boolean> | boolean) => {
      while (!(await done())) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    const sent: BotMessage[] = [];
    let inFlight = 0;
    let overlapped = false;
    let others: Promise<unknown[]> | undefined;
    const notifier = notifierWith({
      async send(_channelId, message) {
        if (inFlight > 0) overlapped = true;
        inFlight++;
        try {
          if (others === undefined) {
            others = Promise.all([notifier.post(second), notifier.post(third)]);
            await until(async () =>
              (await Promise.all([second, third].map((id) => world.repos.reviews.getMessage(id)))).every(
                (claim) => claim !== null,
              ),
            );
            // (Long enough for either of them to have sent, had it not waited.)
            await new Promise((resolve) => setTimeout(resolve, 300));
          }
          sent.push(message);
          return { id: String(9_500 + sent.length) };
        } finally {
          inFlight--;
        }
      },
    });
    expect(await notifier.post(first)).toBe('posted');
    expect((await others)?.sort()).toEqual(['exists', 'posted']);
    // One message for the first, then one for the two that came while it was on its way: not one
    // each, and not at the same time as the first's.
    expect(overlapped).toBe(false);
    expect(sent.map((m) => matchIdsOf(m).sort())).toEqual([[first], [second, third].sort()]);
  });

  it('when its next message is due, sends the reviews waiting for it in one message, the oldest along', async () => {
    const mine: string[] = [];
    const deps = ingestDeps(world, {
      notifyMany: async (matchIds) => void mine.push(...matchIds),
      review: async (matchIds) => void mine.push(...matchIds),
    });
    const texts = ['一', '二', '三', '四', '五', '六'].map((n) => `shiorinote しおりの色 ${n}`);
    await ingestPosts({ accountId: world.accounts.x, posts: texts.map(post) }, deps);
    expect(mine).toHaveLength(6);
    const until = async (done: () => Promise<boolean> | boolean) => {
      while (!(await done())) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    // Each finds the channel's next message not due yet: claimed, in this order, and waiting.
    let wait = 900;
    let asked = 0;
    const sent: { message: BotMessage; nonce: string }[] = [];
    const notifier = notifierWith({
      pace() {
        asked++;
        // The next message after this one is a window's share later.
        return { waitMs: sent.length > 0 ? 900 : wait, inUse: true };
      },
      async send(_channelId, message, { nonce }) {
        // (Every one of them has asked for the channel by now: they came back together.)
        await until(() => asked >= 2 * mine.length);
        sent.push({ message, nonce });
        return { id: String(9_600 + sent.length) };
      },
    });
    for (const id of mine) await expect(notifier.post(id)).rejects.toBeInstanceOf(DiscordBusyError);
    // Due: all six come back at once (they were told the same time).
    wait = 0;
    const outcomes = await Promise.all(mine.map((id) => notifier.post(id).catch((error: unknown) => error)));
    // One message, not one per review that came back at the same moment: the one that formed it, and
    // the three that have waited longest of the others. The rest wait for the next message.
    expect(sent).toHaveLength(1);
    const former = mine.find((id) => nonceFor(id) === sent[0]?.nonce) as string;
    const expected = [former, ...mine.filter((id) => id !== former).slice(0, 3)];
    expect(matchIdsOf(sent[0]?.message as BotMessage).sort()).toEqual(expected.sort());
    expect(outcomes.filter((o) => o === 'posted')).toHaveLength(1);
    for (const [i, id] of mine.entries())
      if (!expected.includes(id)) expect(outcomes[i]).toBeInstanceOf(DiscordBusyError);
  });

  it('shows what changed while it was on its way, which the change could not show (no message id yet)', async () => {
    const mine: string[] = [];
    const deps = ingestDeps(world, {
      notifyMany: async (matchIds) => void mine.push(...matchIds),
      review: async (matchIds) => void mine.push(...matchIds),
    });
    const posts = [post('shiorinote 検索が効かない'), post('shiorinote 検索結果が空になる')];
    await ingestPosts({ accountId: world.accounts.x, posts }, deps);
    const [deleted, untouched] = mine as [string, string];
    const edits: Array<{ id: string; message: BotMessage }> = [];
    let sent = 0;
    let meanwhile: (() => Promise<void>) | null = null;
    const notifier = notifierWith({
      async send() {
        await meanwhile?.();
        return { id: String(9_300 + ++sent) };
      },
      async edit(_channelId, id, message) {
        edits.push({ id, message });
      },
    });
    // The author deletes the post while its review message is on its way: the deletion's refresh
    // finds no message to edit.
    meanwhile = async () => {
      await world.repos.ingest.applyDeletion('x', (posts[0] as Post).id, new Date());
      await notifier.refresh(deleted);
    };
    expect(await notifier.post(deleted)).toBe('posted');
    expect(edits.map((e) => e.id)).toEqual(['9301']);
    expect(JSON.stringify(edits[0]?.message)).toContain('投稿者が投稿を削除しました');
    // Nothing changed on the way: no edit.
    meanwhile = null;
    expect(await notifier.post(untouched)).toBe('posted');
    expect(edits).toHaveLength(1);
  });

  it('has a case event that comes while the message is on its way wait for it, then shows it in its thread', async () => {
    const mine: string[] = [];
    const deps = ingestDeps(world, {
      notifyMany: async (matchIds) => void mine.push(...matchIds),
      review: async (matchIds) => void mine.push(...matchIds),
    });
    await ingestPosts(
      { accountId: world.accounts.x, posts: [post('shiorinote 共有リンクが開けない')] },
      deps,
    );
    const [id] = mine as [string];
    let wait = 800;
    const sent: Array<{ channelId: string; message: BotMessage }> = [];
    const port = portWith({
      pace: () => ({ waitMs: wait, inUse: false }),
      async send(channelId, message) {
        sent.push({ channelId, message });
        return { id: String(9_500 + sent.length) };
      },
      async thread(_channelId, messageId) {
        return `thread-of-${messageId}`;
      },
    });
    const notifier = notifierWith(port);
    // Its channel is busy: claimed, not sent. A teammate writes a note in the console meanwhile.
    await expect(notifier.post(id)).rejects.toBeInstanceOf(DiscordBusyError);
    const desk = createDesk({ repos: world.repos, now: () => new Date() });
    await desk.addNote({ kind: 'web', id: 'u1', name: 'Aiko', role: 'editor' }, id, { text: '経理に確認中' });
    const [note] = await world.repos.cases.events(id);
    if (note === undefined) throw new Error('the note was not recorded');
    expect(await notifier.caseEvent(id, note.id, { notify: false })).toBe('waiting');
    // Not for ever: ten minutes on, only the console shows it.
    const later = notifierWith(port, { now: () => new Date(Date.now() + CASE_EVENT_WAIT_MS + 1_000) });
    expect(await later.caseEvent(id, note.id, { notify: false })).toBe('skipped');
    expect(sent).toEqual([]);
    // The message goes; asked again, the note goes in its thread.
    wait = 0;
    expect(await notifier.post(id)).toBe('posted');
    expect(await notifier.caseEvent(id, note.id, { notify: false })).toBe('posted');
    expect(sent.map((s) => s.channelId)).toEqual([expect.any(String), 'thread-of-9501']);
    expect(JSON.stringify(sent[1]?.message)).toContain('経理に確認中');
  });

  it("waits for a new surge's message before its thread, not for long", async () => {
    const id = ids[2] as string;
    const match = await world.repos.matches.get(id);
    if (match === null) throw new Error('the match is missing');
    const surge = (detectedAt: number, n: number) => surgeSummary(match, `surge:claim-${n}`, detectedAt);
    const sent: string[] = [];
    const notifier = notifierWith({
      async send(channelId) {
        sent.push(channelId);
        return { id: String(9_100 + sent.length) };
      },
      async thread() {
        throw new Error('no thread: the surge has no message');
      },
    });
    // Its surge started a moment ago and has no message yet: the review steps back (no claim).
    await world.repos.surges.record(surge(Date.now() - 2_000, 1), []);
    await expect(notifier.post(id)).rejects.toBeInstanceOf(DiscordBusyError);
    expect(await world.repos.reviews.getMessage(id)).toBeNull();
    expect(sent).toEqual([]);
    // Half a minute on without one: the review channel.
    await world.repos.surges.record({ ...surge(Date.now() - 31_000, 1), lastAt: Date.now() }, []);
    expect(await notifier.post(id)).toBe('posted');
    expect(sent).toHaveLength(1);
  });
});
