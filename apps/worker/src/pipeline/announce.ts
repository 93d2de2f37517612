import { ConnectorError } from '@kikimimi/connectors';
import { type Job, UnrecoverableError } from 'bullmq';
import type { PipelineDeps } from './deps.ts';
import { shownError } from './reply.ts';

/**
 * Posts a surge's announcement on one account. The row (unique per surge and account) was written by
 * the desk with its idempotency key; a retry after a crash posts with the same key: Mastodon returns
 * the first status, the X connector finds its earlier post. Then the surge's message shows the link.
 */
export async function handleAnnouncement(
  payload: { readonly announcementId: string },
  deps: PipelineDeps,
  job?: Pick<Job, 'attemptsMade' | 'opts'>,
): Promise<'sent' | 'done'> {
  const { store, connectors, log } = deps;
  const announcement = await store.surges.getAnnouncement(payload.announcementId);
  if (announcement === null) throw new UnrecoverableError(`no announcement ${payload.announcementId}`);
  if (announcement.state === 'sent') return 'done';
  const account = await store.accounts.get(announcement.accountId);
  if (account === null)
    throw new UnrecoverableError(`the account of announcement ${announcement.id} is gone`);
  let result: { id: string; url: string | null };
  try {
    const connector = await connectors.get(account);
    result = await connector.post(announcement.text, { idempotencyKey: announcement.idempotencyKey });
  } catch (error) {
    const retryable =
      typeof error === 'object' && error !== null && 'retryable' in error && error.retryable === true;
    const last = job !== undefined && job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (!(error instanceof ConnectorError))
      log.error({ err: error }, 'announcement failed before the platform answered');
    if (!retryable || last) {
      await store.surges.markAnnouncementFailed(announcement.id, shownError(error));
      await showOnSurge(announcement.surgeId, deps);
      throw new UnrecoverableError(`announcement on ${account.label} failed: ${shownError(error)}`);
    }
    throw error;
  }
  await store.surges.markAnnouncementSent(
    announcement.id,
    { platformPostId: result.id, url: result.url },
    deps.now(),
  );
  log.info(
    { surge: announcement.surgeId, platform: account.platform, url: result.url },
    'announcement posted',
  );
  await showOnSurge(announcement.surgeId, deps);
  return 'sent';
}

/** The surge's message shows the announcement's outcome (paced like every edit of it). */
async function showOnSurge(surgeId: string, deps: PipelineDeps): Promise<void> {
  await deps.enqueue.surgeMessage(surgeId);
}
