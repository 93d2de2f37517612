import type { DiscordSandbox } from '@kikimimi/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestWorld, type TestWorld, waitFor } from './world.ts';

/**
 * Authors edit and delete posts: the Mastodon stand-in streams `status.update` and `delete` as
 * Mastodon does, the worker (as it runs in production) decides an edited post again and closes the
 * match of a deleted one, and the review message in Discord says so.
 */
let world: TestWorld;
const SYSTEM = { kind: 'system', id: 'test', name: 'edits test' } as const;

beforeAll(async () => {
  world = await createTestWorld();
  await world.repos.accounts.update(world.accounts.mastodon, { streamEnabled: true }, SYSTEM);
  await world.startWorker();
  await waitFor(() => world.mastodon.streamConnections > 0 || undefined, 20_000, 'the stream');
}, 40_000);
afterAll(async () => {
  await world?.close();
});

type SandboxMessage = ReturnType<DiscordSandbox['messages']>[number];
const embedText = (message: SandboxMessage) => JSON.stringify(message.embeds);
const replyButtons = (message: SandboxMessage) =>
  (message.components as Array<{ components: Array<{ custom_id?: string }> }>)
    .flatMap((row) => row.components)
    .filter((b) => b.custom_id?.startsWith('kk:r:'));
const reviewMessageFor = (text: string) =>
  world.discord.waitForMessage(
    (m) => m.channelId === world.discord.channelId('review-mastodon') && embedText(m).includes(text),
    20_000,
  );
const matchOf = async (postId: string) =>
  (await world.repos.matches.list({}, { limit: 100 })).find((m) => m.postId === postId);

describe('edits and deletions on Mastodon', () => {
  it('an edited post is decided again and its review message shows the edit', async () => {
    const postId = world.mastodon.addPost({
      text: 'しおりノート 使い始めました',
      author: { handle: 'sora' },
    });
    const review = await reviewMessageFor('使い始めました');
    expect((await matchOf(postId))?.escalated).toBe(false);

    world.mastodon.editPost(postId, { text: 'しおりノート 二重請求されたので解約したい' });
    const updated = await world.discord.waitForEdit(
      review.id,
      (m) => embedText(m).includes('二重請求'),
      20_000,
    );
    expect(embedText(updated)).toContain('billing');
    const match = await matchOf(postId);
    expect(match).toMatchObject({ status: 'new', escalated: true, priority: 'high' });
    expect(match?.post.text).toContain('二重請求');
  }, 60_000);

  it('a post that matches only after an edit gets a review message', async () => {
    const postId = world.mastodon.addPost({ text: '今日は本を三冊読んだ', author: { handle: 'umi' } });
    await new Promise((r) => setTimeout(r, 500));
    expect(await matchOf(postId)).toBeUndefined();
    world.mastodon.editPost(postId, { text: '今日は本を三冊読んだ、しおりノートで記録した' });
    await reviewMessageFor('しおりノートで記録した');
    expect(await matchOf(postId)).toMatchObject({ status: 'new' });
  }, 60_000);

  it('a deleted post closes its match, and the review message says so and offers no reply', async () => {
    const postId = world.mastodon.addPost({
      text: 'しおりノート 同期が止まった',
      author: { handle: 'riku' },
    });
    const review = await reviewMessageFor('同期が止まった');
    expect(replyButtons(review).length).toBeGreaterThan(0);
    world.mastodon.deletePost(postId);
    const updated = await world.discord.waitForEdit(review.id, (m) => embedText(m).includes('削除'), 20_000);
    expect(embedText(updated)).toContain('投稿者が投稿を削除しました');
    expect(replyButtons(updated)).toEqual([]);
    expect(await matchOf(postId)).toMatchObject({ status: 'deleted' });
  }, 60_000);
});
