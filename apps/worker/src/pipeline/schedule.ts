import { JOBS } from '@kikimimi/desk';
import type { Queue } from 'bullmq';
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
      { name: 'poll', data: { accountId, sourceKey }, opts: JOBS.poll.options },
    );
  }
  return { sources: wanted.size, removed };
}

export const followSchedulerId = (accountId: string) => `follow-${accountId}`;

/**
 * Makes the follow job schedulers match the enabled accounts: one per account, every
 * `conversations.checkEveryMinutes` (or `everyMs` when given: tests), stale ones removed. A follow
 * job asks nothing of the platform while the account has no followed case.
 */
export async function syncFollowSchedulers(
  followQueue: Queue,
  deps: PipelineDeps,
  everyMs?: number,
): Promise<{ accounts: number; removed: number }> {
  const accounts = (await deps.store.accounts.list()).filter((a) => a.enabled);
  const { config } = await deps.engines.current();
  const every = everyMs ?? config.conversations.checkEveryMinutes * 60_000;
  const wanted = new Set(accounts.map((a) => followSchedulerId(a.id)));
  let removed = 0;
  for (const scheduler of await followQueue.getJobSchedulers(0, -1)) {
    if (scheduler.key.startsWith('follow-') && !wanted.has(scheduler.key)) {
      await followQueue.removeJobScheduler(scheduler.key);
      removed++;
    }
  }
  for (const account of accounts) {
    await followQueue.upsertJobScheduler(
      followSchedulerId(account.id),
      { every },
      { name: 'follow', data: { accountId: account.id }, opts: JOBS.follow.options },
    );
  }
  return { accounts: accounts.length, removed };
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
    { name: 'poll', data: job, opts: JOBS.poll.options },
  );
}

/**
 * Keeps the job schedulers asserted: one sync at a time, and a request during a sync makes exactly one
 * more run after it (which reads the configuration then), so the latest configuration always wins
 * and stale syncs never pile up. Schedulers live in Redis only: a Redis that lost its data (restarted
 * without persistence, flushed, failed over) is repaired by the next sync — the worker requests one
 * when Redis comes back and every few minutes.
 */
export function createSchedulerKeeper(sync: () => Promise<void>): { request(): Promise<void> } {
  let running: Promise<void> | null = null;
  let queued: Promise<void> | null = null;
  const run = (): Promise<void> => {
    running = sync().finally(() => {
      running = null;
    });
    return running;
  };
  return {
    request() {
      if (running === null) return run();
      queued ??= running
        .catch(() => {})
        .then(() => {
          queued = null;
          return run();
        });
      return queued;
    },
  };
}
