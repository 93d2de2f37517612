import type { ActivityResult } from '@kikimimi/connectors';
import type { AnswerReading, CustomerActivity } from '@kikimimi/db';
import { JOB_IDS } from '@kikimimi/desk';
import { classifyAnswer } from '@kikimimi/rules';
import type { PipelineDeps } from './deps.ts';
import { recordPollFailure } from './poll.ts';

/** The source key under which an account's activity cursor is kept (next to its poll sources). */
export const FOLLOW_SOURCE_KEY = 'follow';

/** How the rules read a customer's answer, as a case stores it. */
export function readAnswer(text: string): AnswerReading {
  const result = classifyAnswer(text);
  return {
    kind: result.kind,
    signals: result.signals.map((s) => (s.negated ? `${s.word} (negated)` : s.word)),
    lang: result.lang === 'und' ? null : result.lang,
  };
}

export type FollowOutcome =
  | { readonly outcome: 'skipped' | 'idle' | 'unsupported' | 'backoff' | 'failed' }
  | { readonly outcome: 'followed'; readonly recorded: number; readonly reopened: number };

/**
 * One look at what customers said back to an account's replies: the account's activity since the
 * stored cursor (one request for all of its followed cases), each answer classified and recorded in
 * its case (which may reopen it), with the job that shows it in the Discord thread. Nothing is asked
 * of the platform while no case of the account is followed. Cases whose window ended are resolved.
 */
export async function handleFollow(
  payload: { readonly accountId: string },
  deps: PipelineDeps,
): Promise<FollowOutcome> {
  const { store, connectors, log, metrics } = deps;
  const now = deps.now();
  const expired = await store.cases.expireFollows(now);
  if (expired.length > 0) log.info({ cases: expired.length }, 'follow window ended: cases resolved');
  const account = await store.accounts.get(payload.accountId);
  if (account === null || !account.enabled) return { outcome: 'skipped' };
  if ((await store.cases.followed(account.id, now, 1)).length === 0) return { outcome: 'idle' };
  const state = await store.sources.get(account.id, FOLLOW_SOURCE_KEY);
  if (state?.notBefore && state.notBefore > now) return { outcome: 'backoff' };

  let result: ActivityResult;
  try {
    const connector = await connectors.get(account);
    if (connector.activity === undefined) return { outcome: 'unsupported' };
    result = await connector.activity(state?.cursor ?? null, { pageBudget: 3 });
  } catch (error) {
    await recordPollFailure(account, FOLLOW_SOURCE_KEY, error, state?.consecutiveFailures ?? 0, deps);
    return { outcome: 'failed' };
  }

  let recorded = 0;
  let reopened = 0;
  for (const item of result.items) {
    const activity: CustomerActivity =
      item.kind === 'answer'
        ? { kind: 'answer', post: item.post, reading: readAnswer(item.post.text) }
        : {
            kind: item.kind,
            platform: account.platform,
            replyPostId: item.postId,
            author: item.author,
            at: item.at,
          };
    const done = await store.cases.recordActivity(account.id, activity, now, (r) => [
      {
        queue: 'caseUpdate',
        jobId: JOB_IDS.caseUpdate(r.event.id),
        // An unhappy answer or a new question reopens the case: the review channel hears of it.
        payload: { matchId: r.matchId, eventId: r.event.id, notify: r.reopened },
      },
    ]);
    if (done === null) continue;
    recorded++;
    if (done.reopened) reopened++;
  }
  // The cursor moves after the answers are stored: a crash in between reads them again (recorded once).
  await store.sources.recordPoll(
    account.id,
    FOLLOW_SOURCE_KEY,
    {
      cursor: result.cursor,
      // Two looks at once (a slow one overlapping the next): the newer cursor is kept.
      previousCursor: state?.cursor ?? null,
      rateLimit: result.rateLimit,
      postsRead: result.postsRead,
      requests: result.requests,
    },
    now,
  );
  if (recorded > 0) deps.afterOutbox?.();
  metrics.postsRead.inc({ platform: account.platform }, result.postsRead);
  if (!result.caughtUp) {
    log.warn(
      { account: account.label, platform: account.platform },
      'more activity on the account than one look reads: the oldest may have been skipped (check more often)',
    );
  }
  if (recorded > 0) log.info({ account: account.label, recorded, reopened }, 'customers wrote back');
  return { outcome: 'followed', recorded, reopened };
}
