import { ConnectorError, RateLimitedError, ReplyNotAllowedError } from '@kikimimi/connectors';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { PipelineDeps } from './deps.ts';

/** How early a paced reply's job may run (timers are not exact). */
const EARLY_MS = 250;

/**
 * Sends one public reply of a match's case: the reply to the matched post (no `replyId`) or a
 * follow-up. The reply row is created when the reviewer decides; this job only moves it forward. A
 * retry after a crash sends again with the same idempotency key: Mastodon returns the first status,
 * the X connector finds its earlier reply. Once sent, the customer's answers are followed for the
 * configured window (conversations.followDays).
 */
export async function handleReply(
  payload: { readonly matchId: string; readonly replyId?: string | undefined },
  deps: PipelineDeps,
  job?: Pick<Job, 'moveToDelayed' | 'token'>,
): Promise<'sent' | 'done' | 'manual' | 'failed'> {
  const { store, connectors, log, metrics } = deps;
  const { matchId } = payload;
  const reply =
    payload.replyId === undefined
      ? await store.replies.forMatch(matchId)
      : await store.replies.get(payload.replyId);
  if (reply === null || reply.matchId !== matchId)
    throw new UnrecoverableError(`match ${matchId} has no such reply to send`);
  if (reply.state !== 'pending' && reply.state !== 'failed') return 'done';
  // A paced reply (to a surge's member) waits for its time, however early its job came (re-driven by
  // the sweeper, or relayed without its delay).
  if (reply.dueAt !== null && job !== undefined && reply.dueAt.getTime() > deps.now().getTime() + EARLY_MS) {
    await job.moveToDelayed(reply.dueAt.getTime(), job.token);
    throw new DelayedError();
  }
  const match = await store.matches.get(matchId);
  const account = await store.accounts.get(reply.accountId);
  if (match === null || account === null)
    throw new UnrecoverableError(`match or account of reply ${reply.id} is gone`);

  // A follow-up answers the customer's answer; the first reply answers the matched post.
  const target = reply.target ?? {
    postId: match.postId,
    url: match.post.url,
    authorHandle: match.post.author.handle,
  };
  let result: { id: string; url: string | null };
  try {
    const connector = await connectors.get(account);
    result = await connector.reply(target, reply.text, { idempotencyKey: reply.idempotencyKey });
  } catch (error) {
    const message = shownError(error);
    if (!(error instanceof ConnectorError)) {
      log.error({ match: matchId, err: error }, 'reply failed before the platform answered');
    }
    if (error instanceof ReplyNotAllowedError) {
      await store.replies.markManualPending(reply.id, error.manualUrl);
      metrics.replies.inc({ platform: account.platform, outcome: 'manual' });
      log.info(
        { match: matchId, platform: account.platform },
        'the platform refused an API reply: handed to the reviewer to post by hand',
      );
      await refresh(match, deps);
      return 'manual';
    }
    await store.replies.markFailed(reply.id, message, deps.now());
    metrics.replies.inc({ platform: account.platform, outcome: 'failed' });
    if (error instanceof RateLimitedError && error.scope !== 'window' && job !== undefined) {
      // A daily cap (X: 24 hours per account or app): retrying before its reset only spends requests.
      // The job waits for the reset; reviewers see when (the error says it) and may post by hand.
      log.warn(
        { match: matchId, resetAt: error.resetAt, scope: error.scope },
        'daily reply cap spent: waiting for its reset',
      );
      await refresh(match, deps);
      await job.moveToDelayed(Math.max(Date.now(), error.resetAt.getTime()) + 1_000, job.token);
      throw new DelayedError();
    }
    const retryable =
      typeof error === 'object' && error !== null && 'retryable' in error && error.retryable === true;
    if (!retryable) {
      // Nothing will change on a retry: the reviewer gets the text and a link to post it by hand.
      await store.replies.markManualPending(reply.id, target.url);
      await refresh(match, deps);
      throw new UnrecoverableError(`reply to ${target.url} failed: ${message}`);
    }
    // Tried again with backoff; meanwhile reviewers see that it failed (and may send it again now).
    await refresh(match, deps);
    throw error;
  }
  // The platform has the reply. Recording it may still fail (the database busy or gone): then the
  // job is retried, and the retry's send is answered with this same reply (Mastodon's idempotency key;
  // the X connector finds its earlier reply) — it is never treated as a failed send.
  const { config } = await deps.engines.current();
  const sentAt = deps.now();
  const followUntil = new Date(sentAt.getTime() + config.conversations.followDays * 86_400_000);
  await store.replies.markSent(reply.id, { platformReplyId: result.id, url: result.url }, sentAt, {
    followUntil,
  });
  metrics.replies.inc({ platform: account.platform, outcome: 'sent' });
  log.info({ match: matchId, platform: account.platform, reply: result.url }, 'reply sent');
  await refresh(match, deps);
  return 'sent';
}

/**
 * What a failed send records on the reply — shown to reviewers in Discord and the console. A platform's
 * answer (a connector error: secret-free, said in the platform's terms) is kept; anything else (a
 * database or driver error, whose message may hold SQL and its parameters) is not shown, only logged.
 */
export function shownError(error: unknown): string {
  if (error instanceof ConnectorError) return error.message;
  return 'kikimimi could not send it (an internal error: the worker’s log has the details)';
}

/**
 * The review message follows the reply's outcome, and a surge's message its count of replies (paced
 * edits); a Discord hiccup does not fail the reply job.
 */
async function refresh(
  match: { readonly id: string; readonly surgeId?: string | null | undefined },
  deps: PipelineDeps,
): Promise<void> {
  await deps.notifier
    ?.refresh(match.id)
    .catch((error: unknown) =>
      deps.log.warn({ match: match.id, error: String(error) }, 'could not update the review message'),
    );
  if (match.surgeId && deps.notifier !== null)
    await deps.enqueue
      .surgeMessage(match.surgeId)
      .catch((error: unknown) =>
        deps.log.warn({ surge: match.surgeId, error: String(error) }, 'could not update the surge message'),
      );
}
