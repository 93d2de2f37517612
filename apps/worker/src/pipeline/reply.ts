import { ReplyNotAllowedError } from '@kikimimi/connectors';
import { UnrecoverableError } from 'bullmq';
import type { PipelineDeps } from './deps.ts';
import { refreshReviewMessage } from './review.ts';

/**
 * Sends the one public reply of a match. The reply row (unique per match) is created when the
 * reviewer decides; this job only moves it forward. A retry after a crash sends again with the same
 * idempotency key: Mastodon returns the first status, the X connector finds its earlier reply.
 */
export async function handleReply(
  matchId: string,
  deps: PipelineDeps,
): Promise<'sent' | 'done' | 'manual' | 'failed'> {
  const { store, connectors, log, metrics } = deps;
  const reply = await store.replies.forMatch(matchId);
  if (reply === null) throw new UnrecoverableError(`match ${matchId} has no reply to send`);
  if (reply.state !== 'pending' && reply.state !== 'failed') return 'done';
  const match = await store.matches.get(matchId);
  const account = await store.accounts.get(reply.accountId);
  if (match === null || account === null)
    throw new UnrecoverableError(`match or account of reply ${reply.id} is gone`);

  const target = { postId: match.postId, url: match.post.url, authorHandle: match.post.author.handle };
  try {
    const connector = await connectors.get(account);
    const result = await connector.reply(target, reply.text, { idempotencyKey: reply.idempotencyKey });
    await store.replies.markSent(reply.id, { platformReplyId: result.id, url: result.url }, deps.now());
    metrics.replies.inc({ platform: account.platform, outcome: 'sent' });
    log.info({ match: matchId, platform: account.platform, reply: result.url }, 'reply sent');
    await refreshReviewMessage(matchId, deps).catch((error: unknown) =>
      log.warn({ match: matchId, error: String(error) }, 'could not update the review message'),
    );
    return 'sent';
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof ReplyNotAllowedError) {
      await store.replies.markManualPending(reply.id, error.manualUrl);
      metrics.replies.inc({ platform: account.platform, outcome: 'manual' });
      log.info(
        { match: matchId, platform: account.platform },
        'the platform refused an API reply: handed to the reviewer to post by hand',
      );
      await refreshReviewMessage(matchId, deps).catch(() => {});
      return 'manual';
    }
    await store.replies.markFailed(reply.id, message, deps.now());
    metrics.replies.inc({ platform: account.platform, outcome: 'failed' });
    const retryable =
      typeof error === 'object' && error !== null && 'retryable' in error && error.retryable === true;
    if (!retryable) {
      // Nothing will change on a retry: the reviewer gets the text and a link to post it by hand.
      await store.replies.markManualPending(reply.id, match.post.url);
      await refreshReviewMessage(matchId, deps).catch(() => {});
      throw new UnrecoverableError(`reply to ${match.post.url} failed: ${message}`);
    }
    throw error;
  }
}
