import { JOB_IDS, type JobQueues } from '@kikimimi/desk';
import type { PipelineDeps } from './deps.ts';

/**
 * Re-drives what a crash, a lost job or a Redis that lost its data left behind, from the system of
 * record: matches still without their review message, and replies not yet final (pending, or failed
 * before their attempts ran out) whose reply job is gone. A reply job that failed for good is left to
 * the reviewers, who are offered "send again" (Discord and the console).
 */
export async function sweep(
  deps: Pick<PipelineDeps, 'store' | 'notifier' | 'enqueue' | 'now'>,
  jobs: Pick<JobQueues, 'queues' | 'ensure' | 'enqueue'>,
  options: { readonly everyMs: number },
): Promise<{ requeued: number; replies: number }> {
  const olderThan = new Date(deps.now().getTime() - 2 * options.everyMs);
  let requeued = 0;
  if (deps.notifier !== null) {
    for (const id of await deps.store.matches.withoutReviewMessage(olderThan, 500)) {
      const job = await jobs.queues.notify.getJob(JOB_IDS.notify(id));
      if (job === undefined) {
        await deps.enqueue.notify(id);
        requeued++;
      } else if (await job.isFailed()) {
        await job.retry();
        requeued++;
      }
    }
  }
  // Matches whose surge job was lost (Redis lost its data): judged again (judging twice is harmless).
  const pending = await deps.store.surges.pending(olderThan, 1_000);
  if (pending.length > 0) {
    const minute = Math.floor(deps.now().getTime() / 60_000);
    await jobs.enqueue(
      'surge',
      { matchIds: pending },
      { jobId: JOB_IDS.surge(`sweep-${pending[0]}-${minute}`) },
    );
    requeued += pending.length;
  }
  let replies = 0;
  for (const reply of await deps.store.replies.unfinished(olderThan, 500)) {
    const id = JOB_IDS.reply(reply.matchId, reply);
    const job = await jobs.queues.reply.getJob(id);
    if (job === undefined || (await job.isCompleted())) {
      await jobs.ensure(
        'reply',
        reply.seq === 1 ? { matchId: reply.matchId } : { matchId: reply.matchId, replyId: reply.id },
        id,
      );
      replies++;
    }
  }
  return { requeued, replies };
}
