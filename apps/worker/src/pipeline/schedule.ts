import type { Queue } from 'bullmq';
import { QUEUES } from '../jobs.ts';
import { sourcesFor } from '../sources.ts';
import type { PipelineDeps } from './deps.ts';

export const schedulerId = (accountId: string, sourceKey: string) => `poll-${accountId}-${sourceKey}`;

/**
 * Makes the poll job schedulers match the enabled accounts and the current watches: one scheduler
 * per source (idempotent across restarts and replicas), stale ones removed.
 */
export async function syncSchedulers(
  pollQueue: Queue,
  deps: PipelineDeps,
  intervals: Map<string, number>,
): Promise<{ sources: number; removed: number }> {
  const accounts = (await deps.store.accounts.list()).filter((a) => a.enabled);
  const { engine } = await deps.engines.current();
  const wanted = new Map<string, { every: number; accountId: string; sourceKey: string }>();
  for (const account of accounts) {
    for (const source of sourcesFor(account, engine).poll) {
      const id = schedulerId(account.id, source.key);
      wanted.set(id, {
        every: Math.max(account.pollIntervalSeconds * 1000, intervals.get(id) ?? 0),
        accountId: account.id,
        sourceKey: source.key,
      });
    }
  }
  let removed = 0;
  for (const scheduler of await pollQueue.getJobSchedulers(0, -1)) {
    if (scheduler.key.startsWith('poll-') && !wanted.has(scheduler.key)) {
      await pollQueue.removeJobScheduler(scheduler.key);
      intervals.delete(scheduler.key);
      removed++;
    }
  }
  for (const [id, { every, accountId, sourceKey }] of wanted) {
    await pollQueue.upsertJobScheduler(
      id,
      { every },
      {
        name: QUEUES.poll,
        data: { accountId, sourceKey },
        opts: { removeOnComplete: 100, removeOnFail: 100 },
      },
    );
  }
  return { sources: wanted.size, removed };
}

/**
 * Whether a scheduler running every `currentMs` (undefined: at its configured interval, never re-timed)
 * should move to `everyMs`: only when it is more than 25 % off, so a budget that wobbles a little does
 * not rewrite the scheduler after every poll.
 */
export function retimeNeeded(currentMs: number | undefined, everyMs: number): boolean {
  return currentMs === undefined || Math.abs(currentMs - everyMs) / currentMs > 0.25;
}

/** Re-times one scheduler when the platform's budget asks for a different interval (see retimeNeeded). */
export async function retime(
  pollQueue: Queue,
  intervals: Map<string, number>,
  job: { accountId: string; sourceKey: string },
  everyMs: number,
): Promise<void> {
  const id = schedulerId(job.accountId, job.sourceKey);
  if (!retimeNeeded(intervals.get(id), everyMs)) return;
  intervals.set(id, everyMs);
  await pollQueue.upsertJobScheduler(
    id,
    { every: everyMs },
    { name: QUEUES.poll, data: job, opts: { removeOnComplete: 100, removeOnFail: 100 } },
  );
}
