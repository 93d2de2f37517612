import { createJobQueues, JOB_IDS } from '@kikimimi/desk';
import type { DiscordSandbox } from '@kikimimi/sandbox';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedText, surgeMessages, watchingSince } from './surge-scenario.ts';
import { createTestWorld, REDIS_URL, TEST_CONFIG, type TestWorld, waitFor } from './world.ts';

/**
 * A surge's reply to its members and its escalation end to end over the stand-ins, with real
 * PostgreSQL and Redis: customers on X and Mastodon say the same thing, a surge forms, a reviewer
 * answers everyone waiting from the surge's Discord message (the form submitted twice) — each person
 * gets one reply, the replies on each account spaced by the configured interval — and escalates the
 * surge twice: one message, one ping, in the target's channel.
 */
const INTERVAL_S = 2;
let world: TestWorld;

beforeAll(async () => {
  world = await createTestWorld({
    config: { ...TEST_CONFIG, surges: { minCount: 5, replyIntervalSeconds: INTERVAL_S } },
  });
  await watchingSince(world);
  await world.startWorker();
}, 60_000);
afterAll(async () => {
  await world?.close();
});

type Message = ReturnType<DiscordSandbox['messages']>[number];
const customIdOf = (message: Message, prefix: string) =>
  new RegExp(`${prefix}[0-9a-f-]{36}`, 'u').exec(JSON.stringify(message.components))?.[0] ?? '';
const TEXT = 'しおりノート ログインできない、エラー500が出る';

describe('a surge answered as one', () => {
  const xPosts: string[] = [];
  const mastodonPosts: string[] = [];
  let message: Message;

  it('forms from the same complaint on X and Mastodon', async () => {
    for (const [i, handle] of ['aoi', 'ren', 'mio', 'sora', 'sora'].entries())
      xPosts.push(world.x.addPost({ text: `${TEXT}${'!'.repeat(i)}`, author: { handle, name: handle } }));
    for (const [i, handle] of ['kai', 'yui', 'rin'].entries())
      mastodonPosts.push(
        world.mastodon.addPost({
          text: `#しおりノート ログインできない、エラー500が出る${'…'.repeat(i)}`,
          author: { handle, name: handle },
          hashtags: ['しおりノート'],
        }),
      );
    await waitFor(
      async () => (await world.repos.surges.list()).some((s) => s.count >= 8),
      60_000,
      'a surge of all eight posts',
    );
    message = await waitFor(() => surgeMessages(world)[0], 30_000, 'the surge message');
  }, 120_000);

  it('replies once to each person, paced per account, however often the form is submitted', async () => {
    const alice = world.discord.userId('alice');
    const opened = await world.discord.clickButton({
      messageId: message.id,
      customId: customIdOf(message, 'kks:r:'),
      userId: alice,
    });
    expect(opened.type).toBe('modal');
    // Prefilled with the guidance template, its placeholders left for each customer.
    expect(JSON.stringify(opened.modal)).toContain('{author.name}さん、こちらをご覧ください {vars.helpUrl}');
    const text = '{author.name}さん、ご不便をおかけしています。復旧までお待ちください。';
    const submit = () =>
      world.discord.submitModal({
        customId: opened.modal?.customId ?? '',
        userId: alice,
        messageId: message.id,
        values: { text },
      });
    const submitted = await Promise.all([submit(), submit()]);
    expect(submitted.map((s) => s.type).sort()).toEqual(['reply', 'update']);
    // The second found everyone answered, but for sora's second post (left out: the same person).
    expect(JSON.stringify(submitted.find((s) => s.type === 'reply')?.data)).toContain(
      '新たに返信できるメンバーはいません（見送り 1 件',
    );

    // The sweeper (or a relay that lost the delay) may hand a paced job over early: it waits again.
    const surge = (await world.repos.surges.list())[0];
    const last = (await world.repos.surges.members(surge?.id ?? ''))
      .filter((m) => m.platform === 'x' && m.reply?.dueAt)
      .sort((a, b) => (b.reply?.dueAt?.getTime() ?? 0) - (a.reply?.dueAt?.getTime() ?? 0))[0];
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const jobs = createJobQueues(redis, world.prefix);
    try {
      const paced = await waitFor(
        async () => {
          const job = await jobs.queues.reply.getJob(JOB_IDS.reply(last?.id ?? ''));
          return job !== undefined && (await job.isDelayed()) ? job : null;
        },
        10_000,
        'the last X reply waiting for its time',
      );
      await paced.promote();
    } finally {
      await jobs.close();
      redis.disconnect();
    }

    const xReplies = () => world.x.replies().filter((r) => xPosts.includes(r.inReplyTo));
    const mastodonReplies = () => world.mastodon.replies().filter((r) => mastodonPosts.includes(r.inReplyTo));
    // sora posted twice: answered once.
    await waitFor(
      () => xReplies().length === 4 && mastodonReplies().length === 3,
      60_000,
      'the replies on X (4) and Mastodon (3)',
    );
    await submit();
    await new Promise((resolve) => setTimeout(resolve, (INTERVAL_S + 1) * 1000));
    expect(xReplies()).toHaveLength(4);
    expect(mastodonReplies()).toHaveLength(3);
    expect(new Set(xReplies().map((r) => r.inReplyTo)).size).toBe(4);
    expect(xReplies().filter((r) => [xPosts[3], xPosts[4]].includes(r.inReplyTo))).toHaveLength(1);
    expect(xReplies().find((r) => r.inReplyTo === xPosts[0])?.text).toContain(
      'aoiさん、ご不便をおかけしています。',
    );
    expect(mastodonReplies().find((r) => r.inReplyTo === mastodonPosts[1])?.text).toMatch(
      /^@yui\S* yuiさん、/u,
    );
    // Paced: the replies on each account are due one interval apart (the first at once), and none
    // reached its platform before its time.
    const due = new Map<string, number>();
    for (const member of await world.repos.surges.members(surge?.id ?? '')) {
      const match = await world.repos.matches.get(member.id);
      if (match !== null && member.reply?.dueAt) due.set(match.postId, member.reply.dueAt.getTime());
    }
    for (const replies of [xReplies(), mastodonReplies()]) {
      const dues = replies.map((r) => due.get(r.inReplyTo) ?? Number.NaN).sort((a, b) => a - b);
      expect(dues.slice(1).map((at, i) => at - (dues[i] as number))).toEqual(
        dues.slice(1).map(() => INTERVAL_S * 1000),
      );
      for (const reply of replies)
        expect(Date.parse(reply.createdAt)).toBeGreaterThanOrEqual((due.get(reply.inReplyTo) ?? 0) - 300);
      const sent = replies.map((r) => Date.parse(r.createdAt)).sort((a, b) => a - b);
      expect((sent.at(-1) ?? 0) - (sent[0] ?? 0)).toBeGreaterThanOrEqual(
        (replies.length - 1) * INTERVAL_S * 1000 - 1000,
      );
    }
    // The surge's message counts them.
    await world.discord.waitForEdit(
      message.id,
      (m) => embedText(m).includes('送信済み 7') && embedText(m).includes('見送り 1'),
      30_000,
    );
  }, 120_000);

  it('escalates with one message and one ping, pressed twice', async () => {
    const alice = world.discord.userId('alice');
    const escalate = async () => {
      const menu = await world.discord.clickButton({
        messageId: message.id,
        customId: customIdOf(message, 'kks:e:'),
        userId: alice,
      });
      expect(menu.ephemeral).toBe(true);
      const target = (
        menu.data as { components: Array<{ components: Array<{ custom_id: string; label: string }> }> }
      ).components[0]?.components.find((b) => b.label === 'billing');
      return world.discord.clickButton({
        messageId: menu.message?.id ?? '',
        customId: target?.custom_id ?? '',
        userId: alice,
      });
    };
    const first = await escalate();
    expect(first.type).toBe('update');
    const second = await escalate();
    expect(second.ephemeral).toBe(true);
    expect(JSON.stringify(second.data)).toContain('billing へはすでにエスカレーション済みです');
    const ping = await world.discord.waitForMessage(
      (m) => m.channelId === world.discord.channelId('billing'),
      30_000,
    );
    expect(ping.content).toContain(`<@&${world.discord.roleId('billing-team')}>`);
    expect(ping.content).toContain('急増のエスカレーション');
    expect(ping.allowedMentions).toMatchObject({ parse: [], roles: [world.discord.roleId('billing-team')] });
    expect(embedText(ping)).toContain('急増');
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(world.discord.messages(world.discord.channelId('billing'))).toHaveLength(1);
    await world.discord.waitForEdit(message.id, (m) => embedText(m).includes('billing'), 30_000);
  }, 60_000);
});
