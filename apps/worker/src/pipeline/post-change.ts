import type { JobPayload } from '@kikimimi/desk';
import type { PipelineDeps } from './deps.ts';
import { announce, decidePosts, parsePosts } from './ingest.ts';

/** What an edit or a deletion did, for the job's return value and the tests. */
export type PostChangeOutcome =
  | {
      readonly kind: 'edit';
      readonly applied: boolean;
      readonly newMatch: string | null;
      readonly redecided: string | null;
    }
  | { readonly kind: 'delete'; readonly closed: string | null }
  | { readonly kind: 'ignored' };

/**
 * An author's edit or deletion. An edit is decided again with the current rules and stored (see the
 * ingest repository's applyEdit: an open match takes the new decision, a decided one keeps its status);
 * a match it creates gets a review message like any new match, and a re-decided one has its review
 * message refreshed. A deletion closes an unanswered match (status `deleted`) and refreshes its
 * review message, which then says so.
 */
export async function handlePostChange(
  payload: JobPayload<'postChange'>,
  deps: PipelineDeps,
): Promise<PostChangeOutcome> {
  const { change } = payload;
  const now = deps.now();
  if (change.kind === 'delete') {
    const { matchId, closed } = await deps.store.ingest.applyDeletion(change.platform, change.postId, now);
    if (closed && matchId !== null) await deps.notifier?.refresh(matchId);
    deps.log.info(
      { platform: change.platform, postId: change.postId, matchId, closed },
      'post deleted by its author',
    );
    return { kind: 'delete', closed: closed ? matchId : null };
  }
  const [post] = parsePosts([change.post], deps);
  if (post === undefined) return { kind: 'ignored' };
  const [item] = await decidePosts([post], now, deps);
  if (item === undefined) return { kind: 'ignored' };
  const result = await deps.store.ingest.applyEdit(payload.accountId, item, now);
  if (result.newMatch !== null) await announce([result.newMatch], deps);
  const redecided = result.match?.redecided ? result.match.id : null;
  if (redecided !== null) {
    // A match the edit lifted out of suppression has had no review message yet (notify is once per match).
    if (item.decision.matched && !item.decision.suppressed) await deps.enqueue.notify(redecided);
    await deps.notifier?.refresh(redecided);
  }
  deps.log.info(
    {
      platform: post.platform,
      postId: post.id,
      applied: result.applied,
      newMatch: result.newMatch?.id,
      redecided,
    },
    'post edited by its author',
  );
  return { kind: 'edit', applied: result.applied, newMatch: result.newMatch?.id ?? null, redecided };
}
