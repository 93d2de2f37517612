import type { Post } from '@kikimimi/rules';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ConnectorError,
  RateLimitedError,
  ReplyNotAllowedError,
  TransientError,
} from '../src/errors.ts';
import type { ReplyTarget } from '../src/types.ts';
import { blueskyHarness } from './bluesky-harness.ts';
import type { ContractHarness, ContractWorld } from './contract-harness.ts';
import { mastodonHarness } from './mastodon-harness.ts';
import { xHarness } from './x-harness.ts';

/**
 * One contract, every connector: the behaviour the pipeline relies on, run over each platform's
 * stand-in with the real client library.
 */
describe.each<ContractHarness>([xHarness, mastodonHarness, blueskyHarness])(
  '$platform connector contract',
  (harness) => {
    let world: ContractWorld;
    let counter = 0;
    const add = (text = 'help') =>
      world.addPost({
        text: `${world.keyword} ${text} ${++counter}`,
        author: { handle: `user${counter % 7}` },
      });

    beforeEach(async () => {
      world = await harness.start();
    });
    afterEach(async () => {
      await world.close();
    });

    /** Polls with a budget of one page until caught up; returns everything, in order. */
    async function drain(
      cursor: string | null,
      pageBudget = 1,
    ): Promise<{ posts: Post[]; cursor: string | null; polls: number }> {
      const posts: Post[] = [];
      let polls = 0;
      for (;;) {
        const result = await world.connector.poll(world.source, cursor, {
          pageBudget,
          pageSize: world.pageSize,
        });
        polls++;
        posts.push(...result.posts);
        cursor = result.cursor;
        if (result.caughtUp) return { posts, cursor, polls };
        if (polls > 100) throw new Error('never caught up');
      }
    }

    it('polls new posts oldest first, advancing the cursor, and nothing twice', async () => {
      const first = [add(), add(), add()];
      const one = await world.connector.poll(world.source, null, { pageSize: world.pageSize });
      expect(one.posts.map((p) => p.id)).toEqual(first);
      expect(one.caughtUp).toBe(true);
      expect(one.postsRead).toBeGreaterThanOrEqual(3);
      expect(one.cursor).not.toBeNull();

      const idle = await world.connector.poll(world.source, one.cursor, { pageSize: world.pageSize });
      expect(idle.posts).toEqual([]);

      const later = [add(), add()];
      const two = await world.connector.poll(world.source, idle.cursor, { pageSize: world.pageSize });
      expect(two.posts.map((p) => p.id)).toEqual(later);
      for (const post of two.posts) {
        expect(post.platform).toBe(harness.platform);
        expect(post.text).toContain(world.keyword);
        expect(post.url).toMatch(/^https?:\/\//);
        expect(post.author.handle).toMatch(/^user\d/);
      }
    });

    it('delivers a burst larger than a page completely, over several polls with a small budget', async () => {
      add();
      const start = await world.connector.poll(world.source, null, { pageSize: world.pageSize });
      const burst = Array.from({ length: world.pageSize * 2 + 5 }, () => add('burst'));
      const { posts, polls } = await drain(start.cursor);
      if (world.burstOldestFirst === false) {
        expect(posts.map((p) => p.id).toSorted()).toEqual(burst.toSorted());
        expect(new Set(posts.map((p) => p.id)).size).toBe(burst.length);
      } else expect(posts.map((p) => p.id)).toEqual(burst);
      expect(polls).toBeGreaterThanOrEqual(3);
    });

    it('marks reposts with the id of the original', async (context) => {
      if (world.repostsInSource === false) {
        context.skip();
        return;
      }
      const original = add('original');
      const repost = world.addPost({
        text: `${world.keyword} original`,
        author: { handle: 'reposter' },
        repostOf: original,
      });
      const { posts } = await drain(null, 5);
      const found = posts.find((p) => p.id === repost);
      expect(found?.repostOf).toBe(original);
      expect(posts.find((p) => p.id === original)?.repostOf).toBeNull();
    });

    it('turns rich text into plain text and keeps the links', async () => {
      const rich = world.addRichPost();
      const { posts } = await drain(null, 5);
      const post = posts.find((p) => p.id === rich.id);
      expect(post?.text).toBe(rich.expectedText);
      for (const url of rich.expectedUrls) expect(post?.text).toContain(url);
    });

    it('reports a rate limit with the reset time from the platform', async () => {
      world.faults.inject({ fault: { kind: 'rate-limit', resetInSeconds: 120 } });
      const before = Date.now();
      const error = await world.connector.poll(world.source, null).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RateLimitedError);
      const resetAt = (error as RateLimitedError).resetAt.getTime();
      expect(resetAt).toBeGreaterThanOrEqual(before + 110_000);
      expect(resetAt).toBeLessThanOrEqual(Date.now() + 130_000);
    });

    it.each([
      ['a 503', { kind: 'status', status: 503 } as const],
      ['a 500', { kind: 'status', status: 500 } as const],
      ['a malformed body', { kind: 'malformed' } as const],
      ['a dropped connection', { kind: 'drop' } as const],
    ])('treats %s as transient, and the next poll still works', async (_name, fault) => {
      const id = add();
      world.faults.inject({ fault });
      const error = await world.connector.poll(world.source, null).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransientError);
      expect((error as ConnectorError).retryable).toBe(true);
      const retry = await world.connector.poll(world.source, null);
      expect(retry.posts.map((p) => p.id)).toContain(id);
    });

    async function targetFor(id: string): Promise<ReplyTarget> {
      const { posts } = await drain(null, 5);
      const post = posts.find((p) => p.id === id);
      if (post === undefined) throw new Error(`post ${id} not polled`);
      return { postId: post.id, url: post.url, authorHandle: post.author.handle };
    }

    it('replies to the right post and returns the reply id and URL', async () => {
      const target = await targetFor(add('ログインできない'));
      const result = await world.connector.reply(
        target,
        'ご不便をおかけしております。こちらをご覧ください。',
        {
          idempotencyKey: 'k-1',
        },
      );
      expect(result.id).not.toBe('');
      expect(result.url).toMatch(/^https?:\/\//);
      const replies = world.replies();
      expect(replies).toHaveLength(1);
      expect(replies[0]?.inReplyTo).toBe(target.postId);
      expect(replies[0]?.text).toContain('ご不便をおかけしております。こちらをご覧ください。');
      expect(replies[0]?.id).toBe(result.id);
    });

    it('does not reply twice when the same reply is retried', async () => {
      const target = await targetFor(add());
      const first = await world.connector.reply(target, 'ありがとうございます！', { idempotencyKey: 'k-2' });
      const again = await world.connector.reply(target, 'ありがとうございます！', { idempotencyKey: 'k-2' });
      expect(again.id).toBe(first.id);
      expect(world.replies()).toHaveLength(1);
    });

    it('says when the platform refuses the reply, with a link to post it by hand', async () => {
      const target = await targetFor(add());
      world.setReplyRestricted(true);
      const error = await world.connector
        .reply(target, 'ご案内です', { idempotencyKey: 'k-3' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ReplyNotAllowedError);
      expect((error as ReplyNotAllowedError).manualUrl).toMatch(/^https:\/\//);
      expect(world.replies()).toHaveLength(0);
    });

    it('verifies its credentials', async () => {
      const identity = await world.connector.verifyCredentials();
      expect(identity.platform).toBe(harness.platform);
      expect(identity.handle).not.toBe('');
      expect(await world.connector.maxReplyLength()).toBeGreaterThan(0);
    });

    it('streams posts and reconnects by itself after the connection drops', async (context) => {
      const streamSource = world.streamSource;
      const stream = world.connector.stream;
      if (streamSource === undefined || stream === undefined || world.dropStreams === undefined) {
        context.skip();
        return;
      }
      const controller = new AbortController();
      const states: string[] = [];
      const iterator = stream
        .call(world.connector, streamSource, { signal: controller.signal, onState: (s) => states.push(s) })
        [Symbol.asyncIterator]();
      const nextPost = async (id: string) => {
        for (;;) {
          const { value, done } = await iterator.next();
          if (done) throw new Error('stream ended');
          if (value.kind === 'post' && value.post.id === id) return value.post;
        }
      };
      await waitFor(() => states.includes('open'));
      const first = add('streamed');
      expect((await nextPost(first)).text).toContain('streamed');
      world.dropStreams();
      await waitFor(() => states.includes('reconnecting'));
      await waitFor(() => states.filter((s) => s === 'open').length >= 2, 15_000);
      const second = add('after drop');
      expect((await nextPost(second)).text).toContain('after drop');
      controller.abort();
      await iterator.return?.();
    }, 30_000);
  },
);

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
