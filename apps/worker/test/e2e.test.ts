import { CONFIG_CHANNEL } from '@kikimimi/desk';
import type { DiscordSandbox } from '@kikimimi/sandbox';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiscordNotifier } from '../src/discord/notifier.ts';
import type { BotMessage, DiscordPort } from '../src/discord/port.ts';
import { createEngineProvider } from '../src/engine-provider.ts';
import { createMetrics } from '../src/metrics.ts';
import { createTestWorld, REDIS_URL, type TestWorld, waitFor } from './world.ts';

/**
 * The product end to end on this machine: real PostgreSQL and Redis, the real client libraries
 * (twitter-api-v2, masto, discord.js) against the stand-in platforms, the worker as it runs in
 * production.
 */
let world: TestWorld;

let metricsUrl: string | null = null;
beforeAll(async () => {
  world = await createTestWorld();
  metricsUrl = (await world.startWorker()).metricsUrl;
}, 30_000);
afterAll(async () => {
  await world?.close();
});

type SandboxMessage = ReturnType<DiscordSandbox['messages']>[number];
const buttons = (message: SandboxMessage) =>
  (
    message.components as Array<{ components: Array<{ custom_id?: string; label?: string; url?: string }> }>
  ).flatMap((row) => row.components);
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

/** A reviewer clicks the suggested reply button and sends the prefilled text as it is. */
async function sendPrefilledReply(review: SandboxMessage, userId: string) {
  const opened = await world.discord.clickButton({
    messageId: review.id,
    customId: button(review, 'kk:r:'),
    userId,
  });
  return world.discord.submitModal({ customId: opened.modal?.customId ?? '', userId, messageId: review.id });
}

describe('a post on a platform → a review message in Discord → a reply on the platform', () => {
  it('on Mastodon: the reviewer picks お詫び, edits and submits; the reply lands under the right post', async () => {
    const postId = world.mastodon.addPost({
      text: 'しおりノート、アップデートしてから使いにくくなった… #しおりノート',
      author: { handle: 'hana', name: 'はな', followers: 120 },
      hashtags: ['しおりノート'],
    });
    const review = await reviewMessageFor('使いにくくなった', 'review-mastodon');
    expect(review.allowedMentions).toMatchObject({ parse: [] });
    expect(embedText(review)).toContain('@hana');

    const alice = world.discord.userId('alice');
    const opened = await world.discord.clickButton({
      messageId: review.id,
      customId: button(review, 'kk:r:').replace(/:[a-z]+$/u, ':apology'),
      userId: alice,
    });
    expect(opened.type).toBe('modal');
    const prefilled = JSON.stringify(opened.modal);
    expect(prefilled).toContain('ご不便をおかけして申し訳ございません');

    const edited = 'はなさん、ご不便をおかけして申し訳ございません。次の更新で設定を元に戻せるようにします。';
    const submitted = await world.discord.submitModal({
      customId: opened.modal?.customId ?? '',
      userId: alice,
      values: { text: edited },
      messageId: review.id,
    });
    expect(submitted.type).toBe('update');

    const reply = await waitFor(
      () => world.mastodon.replies().find((r) => r.inReplyTo === postId),
      20_000,
      'the Mastodon reply',
    );
    expect(reply.text).toContain(edited);
    expect(reply.text.startsWith('@hana')).toBe(true);
    expect(world.mastodon.replies()).toHaveLength(1);

    const updated = await world.discord.waitForEdit(
      review.id,
      (m) => embedText(m).includes('返信済み'),
      20_000,
    );
    expect(embedText(updated)).toContain('alice');
    expect(
      buttons(updated).some(
        (b) =>
          b.url !== undefined &&
          b.url !== (updated as SandboxMessage).embeds[0]?.url &&
          b.url.startsWith('http'),
      ),
    ).toBe(true);
    expect(buttons(updated).some((b) => b.custom_id?.startsWith('kk:r:'))).toBe(false);
  }, 60_000);

  it('on X: the same flow posts a reply to the right tweet', async () => {
    const postId = world.x.addPost({
      text: 'shiorinote keeps crashing when I open my shelf 😭',
      author: { handle: 'ken', name: 'Ken' },
      lang: 'en',
    });
    const review = await reviewMessageFor('keeps crashing', 'review-x');
    const alice = world.discord.userId('alice');
    const opened = await world.discord.clickButton({
      messageId: review.id,
      customId: button(review, 'kk:r:').replace(/:[a-z]+$/u, ':guidance'),
      userId: alice,
    });
    expect(opened.type).toBe('modal');
    await world.discord.submitModal({
      customId: opened.modal?.customId ?? '',
      userId: alice,
      messageId: review.id,
    });
    const reply = await waitFor(
      () => world.x.replies().find((r) => r.inReplyTo === postId),
      20_000,
      'the X reply',
    );
    expect(reply.text).toContain('https://help.shiori-note.example.com/');
    const match = await waitFor(async () => {
      const found = await world.repos.matches.list({ platform: 'x' }, { limit: 50 });
      return found.find((m) => m.postId === postId && m.status === 'replied');
    });
    // The reply exists on X a moment before the worker records it as sent.
    const stored = await waitFor(
      async () => {
        const found = await world.repos.replies.forMatch(match.id);
        return found?.state === 'sent' ? found : null;
      },
      20_000,
      'the reply to be recorded as sent',
    );
    expect(stored).toMatchObject({ state: 'sent', platformReplyId: reply.id });
  }, 60_000);

  it('escalates to the chosen target, mentioning only the role configured for it', async () => {
    world.x.addPost({
      text: 'shiorinote 返金してほしい、二重に請求されてる',
      author: { handle: 'taro', name: '太郎' },
      lang: 'ja',
    });
    const review = await reviewMessageFor('返金してほしい', 'review-x');
    const alice = world.discord.userId('alice');
    const menu = await world.discord.clickButton({
      messageId: review.id,
      customId: button(review, 'kk:e:'),
      userId: alice,
    });
    expect(menu.type).toBe('reply');
    expect(menu.ephemeral).toBe(true);
    const target = (
      menu.data as { components: Array<{ components: Array<{ custom_id: string; label: string }> }> }
    ).components[0]?.components.find((b) => b.label === 'billing');
    expect(target).toBeDefined();
    await world.discord.clickButton({
      messageId: menu.message?.id ?? '',
      customId: target?.custom_id ?? '',
      userId: alice,
    });
    const escalation = await world.discord.waitForMessage(
      (m) => m.channelId === world.discord.channelId('billing'),
      20_000,
    );
    expect(escalation.content).toContain(`<@&${world.discord.roleId('billing-team')}>`);
    expect(escalation.allowedMentions).toMatchObject({
      parse: [],
      roles: [world.discord.roleId('billing-team')],
    });
    await world.discord.waitForEdit(review.id, (m) => embedText(m).includes('エスカレーション済み'), 20_000);
    // The same target again, from a new menu, minutes later: refused, nobody pinged twice (one rule with
    // the console, which answers 409).
    const again = await world.discord.clickButton({
      messageId: review.id,
      customId: button(review, 'kk:e:'),
      userId: alice,
    });
    const sameTarget = (
      again.data as { components: Array<{ components: Array<{ custom_id: string; label: string }> }> }
    ).components[0]?.components.find((b) => b.label === 'billing');
    const refused = await world.discord.clickButton({
      messageId: again.message?.id ?? '',
      customId: sameTarget?.custom_id ?? '',
      userId: alice,
    });
    expect(refused.type).toBe('reply');
    expect(refused.ephemeral).toBe(true);
    expect(JSON.stringify(refused.data)).toContain('billing へはすでにエスカレーション済みです');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const inBilling = world.discord
      .messages()
      .filter((m) => m.channelId === world.discord.channelId('billing'));
    expect(inBilling.filter((m) => JSON.stringify(m.embeds).includes('返金してほしい'))).toHaveLength(1);
  }, 60_000);

  it('escalation messages show a reviewer’s display name as text: it pings nobody, whatever it says', async () => {
    const [match] = (await world.repos.matches.list({ platform: 'x' }, { limit: 100 })).filter((m) =>
      m.post.text.includes('返金してほしい'),
    );
    if (match === undefined) throw new Error('the escalated match of the test above is missing');
    const sent: BotMessage[] = [];
    const capture: DiscordPort = {
      async send(_channelId, message) {
        sent.push(message);
        return { id: String(sent.length) };
      },
      pace: () => ({ waitMs: 0, inUse: false }),
      async edit() {},
      async thread() {
        throw new Error('no thread is started for an escalation');
      },
    };
    const notifier = createDiscordNotifier({
      store: world.repos,
      engines: createEngineProvider(world.repos.config),
      discord: capture,
      metrics: createMetrics(),
      now: () => new Date(),
    });
    const billingTeam = world.discord.roleId('billing-team');
    expect(
      await notifier.escalate(match.id, 'billing', `@everyone <@&${world.discord.roleId('oncall')}> @here`),
    ).toBe(true);
    const content = sent[0]?.content ?? '';
    expect(content.startsWith(`<@&${billingTeam}>`)).toBe(true);
    expect(content).not.toMatch(/(^|[^\\])@(everyone|here)/u);
    expect(content).not.toContain(`<@&${world.discord.roleId('oncall')}>`);
    expect(sent[0]?.allowedRoleIds).toEqual([billingTeam]);
  });

  it('dismisses with a reason', async () => {
    world.x.addPost({ text: 'shiorinote の広告をまた見た', author: { handle: 'ad_watcher' }, lang: 'ja' });
    const review = await reviewMessageFor('広告をまた見た', 'review-x');
    const alice = world.discord.userId('alice');
    const opened = await world.discord.clickButton({
      messageId: review.id,
      customId: button(review, 'kk:d:'),
      userId: alice,
    });
    expect(opened.type).toBe('modal');
    await world.discord.submitModal({
      customId: opened.modal?.customId ?? '',
      userId: alice,
      values: { reason: '広告への言及のみ' },
      messageId: review.id,
    });
    const updated = await world.discord.waitForEdit(
      review.id,
      (m) => embedText(m).includes('対応不要'),
      20_000,
    );
    expect(embedText(updated)).toContain('広告への言及のみ');
  }, 60_000);

  it('refuses a member without a reviewer role, posts nothing and audits the attempt', async () => {
    const postId = world.x.addPost({
      text: 'shiorinote ログインできない',
      author: { handle: 'mio' },
      lang: 'ja',
    });
    const review = await reviewMessageFor('ログインできない', 'review-x');
    const bob = world.discord.userId('bob');
    const outcome = await world.discord.clickButton({
      messageId: review.id,
      customId: button(review, 'kk:r:'),
      userId: bob,
    });
    expect(outcome.type).toBe('reply');
    expect(outcome.ephemeral).toBe(true);
    expect(JSON.stringify(outcome.data)).toContain('レビュー担当ロール');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(world.x.replies().some((r) => r.inReplyTo === postId)).toBe(false);
    const audit = await world.repos.audit.list({ limit: 50, action: 'match.refused' });
    expect(audit.some((entry) => entry.actor.id === bob)).toBe(true);
  }, 60_000);

  it('answers a non-reviewer in their own language', async () => {
    world.x.addPost({ text: 'shiorinote is great', author: { handle: 'eng' }, lang: 'en' });
    const review = await reviewMessageFor('is great', 'review-x');
    const outcome = await world.discord.clickButton({
      messageId: review.id,
      customId: button(review, 'kk:d:'),
      userId: world.discord.userId('bob'),
      locale: 'en-US',
    });
    expect(JSON.stringify(outcome.data)).toContain('Only reviewers can do this');
  }, 60_000);

  it('when X refuses the API reply, hands the reviewer the text and a link, then records the manual reply', async () => {
    world.x.setReplyRestricted(true);
    try {
      const postId = world.x.addPost({
        text: 'shiorinote データが消えた',
        author: { handle: 'lost' },
        lang: 'ja',
      });
      const review = await reviewMessageFor('データが消えた', 'review-x');
      const alice = world.discord.userId('alice');
      await sendPrefilledReply(review, alice);
      const manual = await world.discord.waitForEdit(
        review.id,
        (m) => buttons(m).some((b) => b.custom_id?.startsWith('kk:md:')),
        20_000,
      );
      const link = buttons(manual).find((b) => b.url?.startsWith('https://x.com/intent/post'));
      expect(link?.url).toContain(`in_reply_to=${postId}`);
      expect(world.x.replies().some((r) => r.inReplyTo === postId)).toBe(false);
      await world.discord.clickButton({
        messageId: review.id,
        customId: button(manual, 'kk:md:'),
        userId: alice,
      });
      await world.discord.waitForEdit(review.id, (m) => embedText(m).includes('返信済み'), 20_000);
      const matches = await world.repos.matches.list({ platform: 'x' }, { limit: 100 });
      const match = matches.find((m) => m.postId === postId);
      expect((await world.repos.replies.forMatch(match?.id ?? ''))?.state).toBe('manual_done');
    } finally {
      world.x.setReplyRestricted(false);
    }
  }, 60_000);

  it('a reply the platform keeps failing shows "send again" in Discord, which sends it once', async () => {
    world.x.faults.inject({
      fault: { kind: 'status', status: 503 },
      path: '/2/tweets',
      method: 'POST',
      times: 1_000,
    });
    try {
      const postId = world.x.addPost({
        text: 'shiorinote 送れない',
        author: { handle: 'retry_me' },
        lang: 'ja',
      });
      const review = await reviewMessageFor('送れない', 'review-x');
      const alice = world.discord.userId('alice');
      await sendPrefilledReply(review, alice);
      const failed = await world.discord.waitForEdit(
        review.id,
        (m) => buttons(m).some((b) => b.custom_id?.startsWith('kk:rr:')),
        20_000,
      );
      expect(embedText(failed)).toContain('返信に失敗しました');
      world.x.faults.clear();
      const retried = await world.discord.clickButton({
        messageId: review.id,
        customId: button(failed, 'kk:rr:'),
        userId: alice,
      });
      expect(retried.type).toBe('update');
      await world.discord.waitForEdit(review.id, (m) => embedText(m).includes('返信済み'), 20_000);
      expect(world.x.replies().filter((r) => r.inReplyTo === postId)).toHaveLength(1);
    } finally {
      world.x.faults.clear();
    }
  }, 60_000);

  it('picks up a configuration change without a restart (Redis pub/sub)', async () => {
    const saved = await world.repos.config.upsertWatch(
      { id: 'yomilog', query: 'yomilog' },
      { kind: 'web', id: 'u1', name: 'admin' },
    );
    expect(saved.ok).toBe(true);
    const redis = new Redis(REDIS_URL);
    await redis.publish(`${world.prefix}:${CONFIG_CHANNEL}`, 'changed');
    redis.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    world.x.addPost({ text: 'yomilog の新機能いいね', author: { handle: 'newwatch' }, lang: 'ja' });
    const review = await reviewMessageFor('yomilog の新機能', 'review-x');
    expect(embedText(review)).toContain('yomilog');
  }, 60_000);

  it('exposes Prometheus metrics', async () => {
    const text = await (await fetch(`${metricsUrl}/metrics`)).text();
    expect(text).toMatch(/kikimimi_polls_total\{platform="x",outcome="ok"\} [1-9]/u);
    expect(text).toMatch(/kikimimi_matches_total\{.*\} [1-9]/u);
    expect(text).toMatch(/kikimimi_replies_total\{platform="mastodon",outcome="sent"\} 1/u);
    expect(text).toContain('kikimimi_review_latency_seconds_bucket');
  });
});
