import { createDesk, type DeskActor } from '@kikimimi/desk';
import { afterEach, describe, expect, it } from 'vitest';
import { connectorFor } from '../src/connectors.ts';
import { readAnswer } from '../src/pipeline/follow.ts';
import { createTestWorld, type TestWorld, waitFor } from './world.ts';

/*
 * A follow-up is posted once even when the worker that sent it died before it could record it: the
 * next attempt carries the same idempotency key, which Mastodon answers with the first status and the
 * X connector resolves to its earlier post.
 */

const EDITOR: DeskActor = { kind: 'web', id: 'u1', name: 'Aiko', role: 'editor' };
let world: TestWorld | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe.each(['x', 'mastodon'] as const)('a follow-up on %s whose sender died mid-send', (platform) => {
  it('is on the platform once, and recorded as sent', async () => {
    world = await createTestWorld();
    const w = world;
    const handle = 'reader';
    const postId =
      platform === 'x'
        ? w.x.addPost({ text: 'shiorinote 同期できない', author: { handle }, lang: 'ja' })
        : w.mastodon.addPost({
            text: 'しおりノート 同期できない #しおりノート',
            author: { handle },
            hashtags: ['しおりノート'],
          });
    // A worker stores the match and sends our first reply, then stops.
    const worker = await w.startWorker();
    const match = await waitFor(async () => {
      const [found] = (await w.repos.matches.list({ platform }, { limit: 50 })).filter(
        (m) => m.postId === postId,
      );
      return found;
    }, 20_000);
    const desk = createDesk({ repos: w.repos, now: () => new Date() });
    expect(await desk.reply(EDITOR, match.id, { text: 'ご不便をおかけしています' })).toMatchObject({
      ok: true,
    });
    const first = await waitFor(async () => {
      const reply = await w.repos.replies.forMatch(match.id);
      return reply?.state === 'sent' ? reply : undefined;
    }, 20_000);
    await worker.close();

    // The customer answers; the case records it (as the follow job would).
    const ours = first.platformReplyId ?? '';
    const answerId =
      platform === 'x'
        ? w.x.addReply(ours, { text: 'まだ同期できません…', author: { handle }, lang: 'ja' })
        : w.mastodon.addReply(ours, { text: 'まだ同期できません…', author: { handle } });
    const account = await w.repos.accounts.get(match.accountId ?? '');
    if (account === null) throw new Error('no account');
    const connector = connectorFor(account, await w.repos.accounts.credentials(account.id));
    const activity = await connector.activity?.(platform === 'mastodon' ? '0' : null);
    const answer = activity?.items.find((i) => i.kind === 'answer' && i.post.id === answerId);
    if (answer?.kind !== 'answer')
      throw new Error(`the answer was not read: ${JSON.stringify(activity?.items)}`);
    await w.repos.cases.recordActivity(
      account.id,
      { kind: 'answer', post: answer.post, reading: readAnswer(answer.post.text) },
      new Date(),
      () => [],
    );

    // A reviewer answers them; the worker that takes the job sends it and dies before recording it.
    const decided = await desk.followUp(EDITOR, match.id, { text: '確認いたします。少々お待ちください。' });
    if (!decided.ok || decided.reply === undefined)
      throw new Error(`follow-up refused: ${JSON.stringify(decided)}`);
    const followUp = decided.reply;
    await connector.reply(
      followUp.target ?? { postId: answerId, url: '', authorHandle: handle },
      followUp.text,
      {
        idempotencyKey: followUp.idempotencyKey,
      },
    );
    const onPlatform = () =>
      (platform === 'x' ? w.x.replies() : w.mastodon.replies()).filter((r) => r.inReplyTo === answerId);
    expect(onPlatform()).toHaveLength(1);

    // The next worker relays the job and sends it again, with the same key: still one on the platform.
    await w.startWorker();
    await waitFor(
      async () => (await w.repos.replies.get(followUp.id))?.state === 'sent' || undefined,
      30_000,
    );
    expect(onPlatform()).toHaveLength(1);
    const recorded = await w.repos.replies.get(followUp.id);
    expect(recorded?.platformReplyId).toBe(onPlatform()[0]?.id);
  }, 90_000);
});
