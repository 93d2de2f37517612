import { JOB_IDS, type JobQueues } from '@kikimimi/desk';
import type { Job } from 'bullmq';
import type { PipelineDeps } from './deps.ts';

/**
 * The BullMQ priorities of review messages (lower first; within one, first come first served). Every
 * review has one, so that the order holds for a job that steps back from a busy channel too: it
 * returns to the end of its priority (a job without one would return behind every fresh review, having
 * lost its place). A held match's review once the surge it waited for has said no (`release`) goes
 * first: it has waited its hold already.
 */
export const REVIEW_PRIORITY = {
  released: 1,
  /** A new match's review that stepped back from a busy channel (`stepBack`): ahead of newer ones. */
  steppedBack: 2,
  /** A new match's review. */
  fresh: 3,
  /** …one alike a surge that stepped back. */
  alikeSteppedBack: 4,
  /**
   * A match that resembles an open surge it did not join (`alike`): after the fresh and the released
   * ones — most likely the flood's own post in a wording of its own, reviewed in the surge's thread,
   * where the flood's posts would otherwise crowd out everyday matches.
   */
  alike: 5,
  /** A held match's review when its hold ends: after all others (by then it is most likely a member). */
  held: 10,
} as const;

/**
 * A review whose channel is busy steps back (moved to delayed for the time Discord asks; the caller
 * then throws BullMQ's DelayedError) without losing its turn to reviews that came after it: a new
 * match's review returns ahead of the new ones (a job back from delayed goes to the end of its
 * priority, so under a busy channel it would otherwise fall behind every review that arrived while it
 * waited, again and again).
 */
export async function stepBack(
  job: Pick<Job, 'priority' | 'changePriority' | 'moveToDelayed'>,
  token: string | undefined,
  waitMs: number,
): Promise<void> {
  const priority =
    job.priority === REVIEW_PRIORITY.fresh
      ? REVIEW_PRIORITY.steppedBack
      : job.priority === REVIEW_PRIORITY.alike
        ? REVIEW_PRIORITY.alikeSteppedBack
        : job.priority;
  // On a running job this only records the priority it returns with.
  if (priority !== job.priority) await job.changePriority({ priority });
  await job.moveToDelayed(Date.now() + waitMs, token);
}

/** The `notify` queue as the pipeline uses it: one review message job per match, in this order. */
export function createReviewQueue(
  jobs: Pick<JobQueues, 'enqueue' | 'enqueueMany' | 'queues'>,
): Pick<PipelineDeps['enqueue'], 'notify' | 'notifyMany' | 'release'> {
  const notifyMany: PipelineDeps['enqueue']['notifyMany'] = (matchIds, options) =>
    jobs.enqueueMany(
      'notify',
      matchIds.map((matchId) => ({
        payload: { matchId },
        options: {
          jobId: JOB_IDS.notify(matchId),
          // A held match's review goes after the others when its time comes, unless the surge has
          // said no before (`release`).
          ...(options?.delayMs
            ? { delay: options.delayMs, priority: REVIEW_PRIORITY.held }
            : { priority: options?.alike ? REVIEW_PRIORITY.alike : REVIEW_PRIORITY.fresh }),
        },
      })),
    );
  return {
    async notify(matchId) {
      await jobs.enqueue(
        'notify',
        { matchId },
        { jobId: JOB_IDS.notify(matchId), priority: REVIEW_PRIORITY.fresh },
      );
    },
    notifyMany,
    async release(matchIds, options) {
      // The surge has said no. One unlike it is reviewed ahead of every fresh review (at the held
      // priority it would wait until no other review was waiting at all: during a burst, most of a
      // minute); one alike after them.
      const priority = options?.alike ? REVIEW_PRIORITY.alike : REVIEW_PRIORITY.released;
      for (const matchId of matchIds) {
        const job = await jobs.queues.notify.getJob(JOB_IDS.notify(matchId));
        if (job === undefined) {
          await jobs.enqueue('notify', { matchId }, { jobId: JOB_IDS.notify(matchId), priority });
          continue;
        }
        // Running, done or gone meanwhile: nothing to hurry.
        if (await job.isDelayed()) await job.promote().catch(() => {});
        // (Its current priority: changing it again would move it to the end of its band.)
        if (job.priority !== priority) await job.changePriority({ priority }).catch(() => {});
      }
    },
  };
}
