import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleThreadMessage, type InteractionDeps } from '../src/discord/interactions.ts';
import { createDiscordNotifier, nonceFor } from '../src/discord/notifier.ts';
import { COMPONENTS_V2, DiscordBusyError, type DiscordPort } from '../src/discord/port.ts';
import { createRestDiscordPort } from '../src/discord/rest-port.ts';
import { REVIEWS_PER_MESSAGE } from '../src/discord/review-message.ts';
import { createEngineProvider } from '../src/engine-provider.ts';
import { createMetrics } from '../src/metrics.ts';
import { ingestPosts } from '../src/pipeline/ingest.ts';
import { ingestDeps, matchIdsOf, surgeSummary, xPost } from './surge-scenario.ts';
import { createTestWorld, type TestWorld } from './world.ts';

/**
 * Reviews waiting for a surge's thread (Discord takes 5 messages per 5 s in it) go several to a
 * message, each with its own buttons: over the Discord stand-in (its rate limit and its components v2
 * checks) and PostgreSQL, through the notifier the notify jobs call.
 */
let world: TestWorld;
/** Discord over REST, as the worker speaks to it (a new client: no rate limit state of an earlier test). */
let rest: DiscordPort;
const newRest = () => createRestDiscordPort({ token: world.discord.token, api: world.discord.apiUrl });
let threadId: string;
const ids: string[] = [];
let serial = 0;
const SURGE_ID = 'surge:groups-1';

const WORDINGS = [
  'しおりノート ログインできない',
  'しおりノートにログインできないんですが',
  'しおりノート、ログインできない…',
  'しおりノート ログインできません',
];

/** Ingests `n` posts saying they cannot log in (or `text`); their match ids. */
async function matches(n: number, text?: string): Promise<string[]> {
  const added: string[] = [];
  const deps = ingestDeps(world, {
    notifyMany: async (matchIds) => void added.push(...matchIds),
    review: async (matchIds) => void added.push(...matchIds),
  });
  const posts = Array.from({ length: n }, () => {
    serial++;
    return xPost(8_300_000 + serial, `${text ?? WORDINGS[serial % WORDINGS.length]} (${serial})`);
  });
  await ingestPosts({ accountId: world.accounts.x, posts }, deps);
  return [...new Set(added)];
}

const notifierWith = (discord: DiscordPort, now: () => Date = () => new Date()) =>
  createDiscordNotifier({
    store: world.repos,
    engines: createEngineProvider(world.repos.config),
    discord,
    metrics: createMetrics(),
    now,
  });

/** Posts every review as the notify jobs do: each tries; one refused by a busy channel tries again later. */
async function postAll(notifier: ReturnType<typeof notifierWith>, matchIds: readonly string[]) {
  let waiting = [...matchIds];
  const deadline = Date.now() + 60_000;
  while (waiting.length > 0) {
    if (Date.now() > deadline) throw new Error(`still waiting: ${waiting.length}`);
    const outcomes = await Promise.all(
      waiting.map((id) =>
        notifier.post(id).then(
          () => null,
          (error: unknown) => {
            if (error instanceof DiscordBusyError) return id;
            throw error;
          },
        ),
      ),
    );
    waiting = outcomes.filter((id): id is string => id !== null);
    if (waiting.length > 0) await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const threadMessages = () => world.discord.messages(threadId).filter((m) => matchIdsOf(m).length > 0);

beforeAll(async () => {
  world = await createTestWorld();
  rest = newRest();
  ids.push(...(await matches(9)));
  const first = await world.repos.matches.get(ids[0] as string);
  if (first === null) throw new Error('no match was made');
  await world.repos.surges.record(surgeSummary(first, SURGE_ID, Date.now()), []);
  // The surge's message, and the thread under it that its reviews go to.
  expect(await notifierWith(rest).surgeMessage(SURGE_ID)).toBe('posted');
  const surge = await world.repos.surges.get(SURGE_ID);
  if (surge?.channelId == null || surge.messageId == null) throw new Error('the surge has no message');
  threadId = await rest.thread(surge.channelId, surge.messageId, 'surge');
}, 60_000);
afterAll(async () => {
  await world?.close();
});

describe("reviews in a surge's thread", () => {
  it('go several to a message when they wait for it, each once and with its own buttons', async () => {
    expect(ids).toHaveLength(9);
    world.discord.setChannelRateLimit(true);
    const notifier = notifierWith(rest);
    await postAll(notifier, ids);
    world.discord.setChannelRateLimit(false);
    rest = newRest();

    const messages = threadMessages();
    const carried = messages.flatMap(matchIdsOf);
    expect(carried.sort()).toEqual([...ids].sort());
    // Fewer messages than reviews, none over the limit, and those with several in components v2.
    expect(messages.length).toBeLessThan(ids.length);
    const shared = messages.filter((m) => matchIdsOf(m).length > 1);
    expect(shared.length).toBeGreaterThan(0);
    for (const m of shared) {
      expect(matchIdsOf(m).length).toBeLessThanOrEqual(REVIEWS_PER_MESSAGE);
      expect(m.flags & COMPONENTS_V2).toBe(COMPONENTS_V2);
      // One container per review: its text and its row of buttons are for that review's match only.
      for (const container of m.components as Array<{ type: number; components: unknown[] }>) {
        expect(container.type).toBe(17);
        expect(new Set(matchIdsOf({ components: [container] })).size).toBe(1);
      }
    }
    // Every review knows its message.
    for (const m of messages)
      for (const id of matchIdsOf(m))
        expect((await world.repos.reviews.getMessage(id))?.messageId).toBe(m.id);
  }, 90_000);

  it('shows a decision on one review in the shared message, the others unchanged', async () => {
    const shared = threadMessages().find((m) => matchIdsOf(m).length > 1);
    if (shared === undefined) throw new Error('no shared message');
    const [decided, other] = matchIdsOf(shared) as [string, string];
    await world.repos.reviews.recordDecision(
      decided,
      'dismiss',
      { kind: 'web', id: 'u1', name: 'Reviewer' },
      {},
      new Date(),
    );
    await notifierWith(rest).refresh(other);
    const now = world.discord.messages(threadId).find((m) => m.id === shared.id);
    const json = JSON.stringify(now?.components);
    // Still every review of the message; the dismissed one offers no reply any more, the other does.
    expect(matchIdsOf(now as NonNullable<typeof now>)).toEqual(matchIdsOf(shared));
    expect(json).not.toContain(`kk:r:${decided}:`);
    expect(json).toContain(`kk:r:${other}:`);
  });

  it('sends a message once when its job died after sending it: a member sends the same group', async () => {
    const group = await matches(3);
    for (const id of group) await world.repos.reviews.claimMessage(id, threadId, nonceFor(id));
    const before = threadMessages().length;
    // The job that forms the group sends it, then dies before it can store the message's id.
    const dying: DiscordPort = {
      ...rest,
      async send(channelId, message, options) {
        await rest.send(channelId, message, options);
        throw new Error('the worker was killed');
      },
    };
    const [leader, member] = group as [string, string];
    await expect(notifierWith(dying).post(leader)).rejects.toThrow('killed');
    expect(threadMessages()).toHaveLength(before + 1);
    expect(
      matchIdsOf(threadMessages().at(-1) as NonNullable<ReturnType<typeof threadMessages>[number]>).sort(),
    ).toEqual([...group].sort());
    // A member's job right after: the group's sender may still be at it, so it waits.
    await expect(notifierWith(rest).post(member)).rejects.toBeInstanceOf(DiscordBusyError);
    // Half a minute on, the member sends the group itself: the same nonce, so the same message.
    const later = () => new Date(Date.now() + 31_000);
    expect(await notifierWith(rest, later).post(member)).toBe('posted');
    expect(threadMessages()).toHaveLength(before + 1);
    const sent = threadMessages().at(-1)?.id;
    for (const id of group) expect((await world.repos.reviews.getMessage(id))?.messageId).toBe(sent);
    expect(await notifierWith(rest).post(leader)).toBe('exists');
  });

  it('lets a refused group wait again, each review on its own, and takes no held review in', async () => {
    const [held, waitingOne, waitingTwo, leader] = (await matches(4)) as [string, string, string, string];
    for (const id of [held, waitingOne, waitingTwo])
      await world.repos.reviews.claimMessage(id, threadId, nonceFor(id));
    // Held back for the surge since its claim: not to be reviewed yet.
    await world.repos.surges.holdBack([{ id: held, until: new Date(Date.now() + 60_000) }]);
    const formed: string[][] = [];
    const busy: DiscordPort = {
      ...rest,
      async send(_channelId, message) {
        formed.push(matchIdsOf(message));
        throw new DiscordBusyError(900);
      },
    };
    await expect(notifierWith(busy).post(leader)).rejects.toBeInstanceOf(DiscordBusyError);
    expect(formed[0]?.sort()).toEqual([leader, waitingOne, waitingTwo].sort());
    // Nothing was posted: every review waits again on its own, the leader's too (claimed in the
    // thread by this attempt: kept, for whichever job gets the thread next to take along).
    for (const id of [leader, waitingOne, waitingTwo, held])
      expect(await world.repos.reviews.getMessage(id)).toMatchObject({
        channelId: threadId,
        nonce: nonceFor(id),
        messageId: null,
        groupedAt: null,
      });
  });
});

describe('a shared message in Discord, with the worker running', () => {
  it('takes a click and a form on one of its reviews, and shows the whole message again', async () => {
    await world.startWorker();
    await world.discord.waitForConnectedClients(1, 20_000);
    const shared = threadMessages().find((m) => matchIdsOf(m).length > 2);
    if (shared === undefined) throw new Error('no message with three reviews or more');
    const [, taken, dismissed] = matchIdsOf(shared) as [string, string, string];
    const alice = world.discord.userId('alice');
    const current = () => world.discord.messages(threadId).find((m) => m.id === shared.id);
    // Take it: the gateway's update (discord.js, components v2) re-renders every review of the message.
    const clicked = await world.discord.clickButton({
      messageId: shared.id,
      customId: `kk:tk:${taken}`,
      userId: alice,
    });
    expect(clicked.type).toBe('update');
    expect((await world.repos.matches.get(taken))?.assignee?.id).toBe(alice);
    expect(matchIdsOf(current() as NonNullable<ReturnType<typeof current>>)).toEqual(matchIdsOf(shared));
    expect((current()?.flags ?? 0) & COMPONENTS_V2).toBe(COMPONENTS_V2);
    // Dismiss another through its form: the message shows it dismissed, the others as they were.
    const opened = await world.discord.clickButton({
      messageId: shared.id,
      customId: `kk:d:${dismissed}`,
      userId: alice,
    });
    expect(opened.type).toBe('modal');
    const submitted = await world.discord.submitModal({
      customId: opened.modal?.customId ?? '',
      userId: alice,
      messageId: shared.id,
      values: { reason: '重複' },
    });
    expect(submitted.type).toBe('update');
    const json = JSON.stringify(current()?.components);
    expect(json).not.toContain(`kk:d:${dismissed}`);
    expect(json).toContain(`kk:d:${taken}`);
    expect(matchIdsOf(current() as NonNullable<ReturnType<typeof current>>)).toEqual(matchIdsOf(shared));
  }, 60_000);

  it('shares messages in the review channel too, and one thread for their cases', async () => {
    // Everyday praise, not the surge's kind: reviewed in the review channel, which is busy.
    const praise = await matches(6, 'しおりノート 本棚の並び替えが便利で助かる');
    const review = world.discord.channelId('review-x');
    const before = new Set(world.discord.messages(review).map((m) => m.id));
    world.discord.setChannelRateLimit(true);
    await postAll(notifierWith(newRest()), praise);
    world.discord.setChannelRateLimit(false);
    const sent = world.discord.messages(review).filter((m) => !before.has(m.id));
    expect(sent.flatMap(matchIdsOf).sort()).toEqual([...praise].sort());
    const shared = sent.find((m) => matchIdsOf(m).length > 1);
    if (shared === undefined) throw new Error('no shared message in the review channel');
    // A teammate takes one of its cases: the event goes to one thread under the shared message, named
    // after all its customers, and says whose case it is.
    const [taken] = matchIdsOf(shared) as [string];
    const alice = world.discord.userId('alice');
    expect(
      (await world.discord.clickButton({ messageId: shared.id, customId: `kk:tk:${taken}`, userId: alice }))
        .type,
    ).toBe('update');
    const thread = await world.discord.waitForThread(shared.id, 20_000);
    const handles = await Promise.all(
      matchIdsOf(shared).map(async (id) => `@${(await world.repos.matches.get(id))?.post.author.handle}`),
    );
    for (const handle of handles) expect(thread.name).toContain(handle);
    const event = await world.discord.waitForMessage((m) => m.channelId === thread.id, 20_000);
    const customer = (await world.repos.matches.get(taken))?.post.author.handle ?? '';
    expect(event.content.startsWith(`**@\u200b${customer}**`)).toBe(true);
    // What a teammate writes there cannot be told to be about one case: no note is kept.
    const noted = await handleThreadMessage(
      { threadId: thread.id, user: { id: alice, name: 'alice' }, roleIds: [], content: 'メモ' },
      { store: world.repos } as unknown as InteractionDeps,
    );
    expect(noted).toBe('ignored');
  }, 60_000);
});
