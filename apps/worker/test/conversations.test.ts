import type { MatchRecord } from '@kikimimi/db';
import type { DiscordSandbox } from '@kikimimi/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestWorld, type TestWorld, waitFor } from './world.ts';

/**
 * Conversations end to end: a post → our reply → the customer writes back on the platform (the
 * stand-ins, spoken to by the real client libraries) → the answer is classified, lands in the case and
 * in the Discord thread under the review message; an unhappy answer reopens the case; a follow-up is
 * posted once however often its form is submitted; what reviewers write in the thread is kept as a note.
 */
let world: TestWorld;

beforeAll(async () => {
  world = await createTestWorld();
  await world.startWorker({
    followEveryMs: 500,
    discord: { ...world.workerOptions.discord, token: world.discord.token, threadNotes: true },
  });
}, 30_000);
afterAll(async () => {
  await world?.close();
});

type SandboxMessage = ReturnType<DiscordSandbox['messages']>[number];
const buttons = (message: SandboxMessage) =>
  (message.components as Array<{ components: Array<{ custom_id?: string }> }>).flatMap(
    (row) => row.components,
  );
const button = (message: SandboxMessage, prefix: string) => {
  const found = buttons(message).find((b) => b.custom_id?.startsWith(prefix));
  if (found?.custom_id === undefined) throw new Error(`no ${prefix} button on the message`);
  return found.custom_id;
};
const embedText = (message: SandboxMessage) => JSON.stringify(message.embeds);

async function reviewMessageFor(text: string, channel: string) {
  return world.discord.waitForMessage(
    (m) => m.channelId === world.discord.channelId(channel) && embedText(m).includes(text),
    20_000,
  );
}

/** A reviewer clicks a reply button and sends the prefilled text as it is. */
async function sendPrefilledReply(review: SandboxMessage, prefix = 'kk:r:') {
  const alice = world.discord.userId('alice');
  const opened = await world.discord.clickButton({
    messageId: review.id,
    customId: button(review, prefix),
    userId: alice,
  });
  if (opened.modal === undefined) throw new Error(`no form opened: ${JSON.stringify(opened)}`);
  return {
    modal: opened.modal,
    submit: () =>
      world.discord.submitModal({
        customId: opened.modal?.customId ?? '',
        userId: alice,
        messageId: review.id,
      }),
  };
}

async function matchOf(platform: 'x' | 'mastodon', postId: string): Promise<MatchRecord> {
  const [match] = (await world.repos.matches.list({ platform }, { limit: 100 })).filter(
    (m) => m.postId === postId,
  );
  if (match === undefined) throw new Error(`no match for ${platform} post ${postId}`);
  return match;
}

describe('a conversation after our reply', () => {
  it('on Mastodon: the customer thanks us; the answer lands in the thread and the case, classified as thanks', async () => {
    const postId = world.mastodon.addPost({
      text: 'しおりノートの同期が止まってしまった… #しおりノート',
      author: { handle: 'hana', name: 'はな' },
      hashtags: ['しおりノート'],
    });
    const review = await reviewMessageFor('同期が止まって', 'review-mastodon');
    await (await sendPrefilledReply(review)).submit();
    const ours = await waitFor(
      () => world.mastodon.replies().find((r) => r.inReplyTo === postId),
      20_000,
      'our reply',
    );
    await waitFor(
      async () => (await matchOf('mastodon', postId)).caseState === 'waiting',
      20_000,
      'the case to wait',
    );

    world.mastodon.addReply(ours.id, {
      text: 'わざわざ対応そして返信頂きありがとうございます！助かりました',
      author: { handle: 'hana', name: 'はな' },
    });

    const thread = await world.discord.waitForThread(review.id, 20_000);
    const said = await world.discord.waitForMessage(
      (m) => m.channelId === thread.id && m.content.includes('ありがとうございます'),
      20_000,
    );
    expect(said.content).toContain('お礼');
    expect(said.allowedMentions).toMatchObject({ parse: [] });

    const match = await waitFor(
      async () => {
        const m = await matchOf('mastodon', postId);
        return m.caseState === 'resolved' ? m : null;
      },
      20_000,
      'the case to be resolved',
    );

    // It counts on the dashboard: the effect figures and "what customers said back", read as the
    // console's /effect, /api/effect and /api/effect/answers read them (the period: the last two days).
    const effect = async () => {
      const period = await world.repos.stats.period({ now: new Date(), days: 2, timeZone: 'Asia/Tokyo' });
      return world.repos.stats.effect({ ...period, platform: 'mastodon' });
    };
    // Our one reply on Mastodon so far, answered with thanks (no like yet): reacted to, and positive.
    const thanked = await effect();
    expect(thanked.totals).toMatchObject({
      sent: 1,
      reacted: 1,
      positive: 1,
      answered: 1,
      liked: 0,
      reactionRate: 1,
      positiveRate: 1,
    });
    expect(thanked.answersByKind.thanks).toBe(1);
    const [reply] = await world.repos.replies.listForMatch(match.id);
    const saidBack = await world.repos.stats.answers(
      { ...thanked.period, platform: 'mastodon', kind: 'thanks' },
      { limit: 50 },
    );
    // Her words as she wrote them (after the mention of our account a Mastodon reply starts with).
    expect(saidBack).toContainEqual(
      expect.objectContaining({
        text: expect.stringContaining('わざわざ対応そして返信頂きありがとうございます！助かりました'),
        reading: expect.objectContaining({ kind: 'thanks' }),
        reply: expect.objectContaining({ id: reply?.id }),
        authorHandle: 'hana',
      }),
    );

    // She likes our reply too: shown in the thread, and the reply still counts once.
    world.mastodon.favourite(ours.id, { handle: 'hana', name: 'はな' });
    await world.discord.waitForMessage(
      (m) => m.channelId === thread.id && m.content.includes('いいね'),
      20_000,
    );
    const events = await world.repos.cases.events(match.id);
    expect(events.map((e) => e.kind).sort()).toEqual(['answer', 'like']);
    expect(events.find((e) => e.kind === 'answer')?.reading?.kind).toBe('thanks');
    expect((await effect()).totals).toMatchObject({ sent: 1, reacted: 1, positive: 1, liked: 1 });

    // Nobody in the review channel is told about a thankful answer: only the thread has it.
    expect(
      world.discord
        .messages(world.discord.channelId('review-mastodon'))
        .filter((m) => m.content.includes('↩️')),
    ).toHaveLength(0);
  }, 90_000);

  it('on X: an unhappy answer reopens the case and tells the channel; the follow-up is posted once', async () => {
    const postId = world.x.addPost({
      text: 'shiorinote stopped syncing my shelf again',
      author: { handle: 'ken', name: 'Ken' },
      lang: 'en',
    });
    const review = await reviewMessageFor('stopped syncing', 'review-x');
    await (await sendPrefilledReply(review)).submit();
    const ours = await waitFor(
      () => world.x.replies().find((r) => r.inReplyTo === postId),
      20_000,
      'our reply',
    );
    await waitFor(
      async () => (await matchOf('x', postId)).caseState === 'waiting',
      20_000,
      'the case to wait',
    );

    const answerId = world.x.addReply(ours.id, {
      text: "thanks, but it's still broken and this didn't help at all",
      author: { handle: 'ken', name: 'Ken' },
      lang: 'en',
    });
    const notice = await world.discord.waitForMessage(
      (m) => m.channelId === world.discord.channelId('review-x') && m.content.includes('↩️'),
      20_000,
    );
    // The handle is shown but cannot ping (an invisible space after "@"); the message pings nobody.
    expect(notice.content).toContain('@\u200bken');
    expect(notice.allowedMentions).toMatchObject({ parse: [] });
    const match = await matchOf('x', postId);
    expect(match.caseState).toBe('open');
    expect((await world.repos.cases.events(match.id)).find((e) => e.kind === 'answer')?.reading?.kind).toBe(
      'unhappy',
    );

    // The review message now offers to answer them, with an apology first.
    const offered = await world.discord.waitForEdit(
      review.id,
      (m) => buttons(m).some((b) => b.custom_id?.startsWith('kk:fu:')),
      20_000,
    );
    expect(button(offered, 'kk:fu:')).toMatch(/:apology$/u);
    const form = await sendPrefilledReply(offered, 'kk:fu:');
    expect(JSON.stringify(form.modal)).toContain('Ken');
    // Submitted twice (a double click, a retry): one follow-up.
    const [first, second] = await Promise.all([form.submit(), form.submit()]);
    expect([first.type, second.type]).toContain('update');
    const followUp = await waitFor(
      () => world.x.replies().find((r) => r.inReplyTo === answerId),
      20_000,
      'the follow-up',
    );
    expect(followUp.text.length).toBeGreaterThan(0);
    await waitFor(
      async () => (await matchOf('x', postId)).caseState === 'waiting',
      20_000,
      'the case to wait again',
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(world.x.replies().filter((r) => r.inReplyTo === answerId)).toHaveLength(1);
    expect(world.x.replies().filter((r) => r.inReplyTo === postId)).toHaveLength(1);
    const replies = await world.repos.replies.listForMatch(match.id);
    expect(replies.map((r) => [r.seq, r.state])).toEqual([
      [1, 'sent'],
      [2, 'sent'],
    ]);
  }, 90_000);

  it('what a reviewer writes in the case thread is kept as an internal note, never posted publicly', async () => {
    const postId = world.mastodon.addPost({
      text: 'しおりノート、返金してほしい #しおりノート',
      author: { handle: 'sora', name: 'そら' },
      hashtags: ['しおりノート'],
    });
    const review = await reviewMessageFor('返金してほしい', 'review-mastodon');
    const alice = world.discord.userId('alice');
    const taken = await world.discord.clickButton({
      messageId: review.id,
      customId: button(review, 'kk:tk:'),
      userId: alice,
    });
    expect(taken.type).toBe('update');
    const thread = await world.discord.waitForThread(review.id, 20_000);
    world.discord.postAsUser(thread.id, alice, '経理に確認中です（返金の可否）');
    const match = await matchOf('mastodon', postId);
    const note = await waitFor(
      async () => (await world.repos.cases.events(match.id)).find((e) => e.kind === 'note'),
      20_000,
      'the note',
    );
    expect(note).toMatchObject({
      text: '経理に確認中です（返金の可否）',
      actor: { kind: 'discord', id: alice },
    });
    expect((await matchOf('mastodon', postId)).assignee).toMatchObject({ kind: 'discord', id: alice });
    expect(world.mastodon.replies().filter((r) => r.inReplyTo === postId)).toHaveLength(0);
  }, 60_000);

  it("the review message shows the customer's history: earlier matches answered or not, and the cooldown in words", async () => {
    const yui = { handle: 'yui', name: 'ゆい' };
    const firstId = world.mastodon.addPost({
      text: 'しおりノートの本棚が消えた #しおりノート',
      author: yui,
      hashtags: ['しおりノート'],
    });
    await (await sendPrefilledReply(await reviewMessageFor('本棚が消えた', 'review-mastodon'))).submit();
    // Sent and recorded (the contact the cooldown reads) before she writes again.
    await waitFor(
      async () => (await matchOf('mastodon', firstId)).caseState === 'waiting',
      20_000,
      'our reply',
    );
    world.mastodon.addPost({
      text: 'しおりノートのアイコンが変わった？ #しおりノート',
      author: yui,
      hashtags: ['しおりノート'],
    });
    const second = await reviewMessageFor('アイコンが変わった', 'review-mastodon');
    // The second match's message: the first answered; we replied to her (the test's cooldown is off).
    const history = (message: SandboxMessage) =>
      ((message.embeds[0] as { fields?: Array<{ name: string; value: string }> }).fields ?? []).find(
        (f) => f.name === 'このお客様とのこれまで',
      )?.value ?? '';
    expect(history(second)).toMatch(
      /^<t:\d+:R>に返信しました（Mastodon @\u200b?yui）。クールダウンは設定されていません。\n• <t:\d+:R> Mastodon @yui: しおりノートの本棚が消えた #しおりノート → 返信済み$/u,
    );
    world.mastodon.addPost({
      text: 'しおりノートで読了日を直したい #しおりノート',
      author: yui,
      hashtags: ['しおりノート'],
    });
    // The third: the second, not answered, newest first.
    const lines = history(await reviewMessageFor('読了日を直したい', 'review-mastodon')).split('\n');
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/Mastodon @yui: しおりノートのアイコンが変わった？ #しおりノート → 返信なし$/u),
      expect.stringMatching(/Mastodon @yui: しおりノートの本棚が消えた #しおりノート → 返信済み$/u),
    ]);
  }, 90_000);
});
