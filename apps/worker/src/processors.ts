import type { JobName, JobPayload, JobQueues } from '@kikimimi/desk';
import { DelayedError, type Job } from 'bullmq';
import { DiscordBusyError } from './discord/port.ts';
import { handleAnnouncement } from './pipeline/announce.ts';
import type { PipelineDeps } from './pipeline/deps.ts';
import { handleDigest } from './pipeline/digest.ts';
import { handleFollow } from './pipeline/follow.ts';
import { ingestPosts, parsePosts } from './pipeline/ingest.ts';
import { handlePoll } from './pipeline/poll.ts';
import { handlePostChange } from './pipeline/post-change.ts';
import { handleReply } from './pipeline/reply.ts';
import { stepBack } from './pipeline/review-queue.ts';
import type { SurgeRunner } from './pipeline/surge.ts';
import { sweep } from './pipeline/sweep.ts';

/** Reviews stepping back from a busy channel return up to this much later than told (`notify`). */
export const STEP_BACK_SPREAD_MS = 100;
/** A case event whose review message is on its way asks again this much later (`caseUpdate`). */
export const CASE_EVENT_RETRY_MS = 2_000;

/** What a processor gets besides its payload: the pipeline, the queues, and worker-level hooks. */
export interface ProcessorContext {
  readonly deps: PipelineDeps;
  readonly jobs: JobQueues;
  /** A poll asks for another interval (the platform's rate-limit budget). */
  retime(job: JobPayload<'poll'>, everyMs: number): Promise<void>;
  readonly sweepEveryMs: number;
  /** The surge detector, in the worker that holds the surge lease (null elsewhere). */
  surge(): SurgeRunner | null;
}

/** One processor per job of the catalogue; the payload is checked against its schema before it runs. */
export type Processors = {
  readonly [N in JobName]: (payload: JobPayload<N>, job: Job, context: ProcessorContext) => Promise<unknown>;
};

/** The worker's table of processors: what each job of the catalogue does. */
export const PROCESSORS: Processors = {
  async poll(payload, _job, { deps, retime }) {
    const result = await handlePoll(payload, deps);
    if (result.nextIntervalMs !== undefined) await retime(payload, result.nextIntervalMs);
    return result;
  },
  ingest: (payload, _job, { deps }) =>
    ingestPosts(
      {
        accountId: payload.accountId,
        posts: parsePosts(payload.posts, deps),
        ...(payload.cursor === undefined
          ? {}
          : {
              cursor: {
                sourceKey: payload.sourceKey,
                outcome: { cursor: payload.cursor, rateLimit: null, postsRead: 0, requests: 0 },
              },
            }),
      },
      deps,
    ),
  postChange: (payload, _job, { deps }) => handlePostChange(payload, deps),
  async notify(payload, job, { deps }) {
    if (deps.notifier === null) return 'skipped';
    // Its intent turned out to be flooded after it was handed on: the message waits while the surge
    // forms (pipeline/surge.ts holdBack), put back in the queue, not holding a worker.
    const until = await deps.store.surges.heldUntil(payload.matchId);
    const wait = until === null ? 0 : until.getTime() - deps.now().getTime();
    if (wait > 0) {
      await job.moveToDelayed(Date.now() + wait, job.token);
      throw new DelayedError();
    }
    try {
      return await deps.notifier.post(payload.matchId);
    } catch (error) {
      // The channel's rate limit is spent: back in the queue until it is not, the slot free meanwhile.
      // Reviews told the same time come back a little apart: together to the millisecond, each would
      // form its message at the same instant, the others' reviews locked (reviews.formGroup skips
      // them), and they would go one to a message instead of together.
      if (!(error instanceof DiscordBusyError)) throw error;
      await stepBack(
        job,
        job.token,
        Math.max(50, error.retryAfterMs) + Math.floor(Math.random() * STEP_BACK_SPREAD_MS),
      );
      throw new DelayedError();
    }
  },
  reply: (payload, job, { deps }) => handleReply(payload, deps, job),
  // A decision taken anywhere (Discord or the console) is shown on the review message.
  refresh: async (payload, _job, { deps }) => deps.notifier?.refresh(payload.matchId),
  async escalate(payload, _job, { deps }) {
    if (deps.notifier === null) return false;
    const posted = await deps.notifier.escalate(payload.matchId, payload.target, payload.actorName);
    await deps.notifier.refresh(payload.matchId);
    return posted;
  },
  follow: (payload, _job, { deps }) => handleFollow(payload, deps),
  async caseUpdate(payload, job, { deps }) {
    if (deps.notifier === null) return 'skipped';
    const shown = await deps.notifier.caseEvent(payload.matchId, payload.eventId, {
      notify: payload.notify === true,
    });
    // The review message is on its way: back in the queue for a moment (no attempt spent), the slot free.
    if (shown === 'waiting') {
      await job.moveToDelayed(Date.now() + CASE_EVENT_RETRY_MS, job.token);
      throw new DelayedError();
    }
    return shown;
  },
  digest: (payload, _job, { deps, jobs }) => handleDigest(payload, deps, jobs.queues.digest),
  async surge(payload, _job, { surge }) {
    const runner = surge();
    // Only the lease holder runs this queue; a lost lease makes its worker close first.
    if (runner === null) throw new Error('the surge detector is not held by this worker');
    return runner.handle(payload);
  },
  surgeMessage: async (payload, _job, { deps }) =>
    deps.notifier === null ? 'skipped' : deps.notifier.surgeMessage(payload.surgeId),
  announce: (payload, job, { deps }) => handleAnnouncement(payload, deps, job),
  async surgeEscalate(payload, _job, { deps }) {
    if (deps.notifier === null) return false;
    const posted = await deps.notifier.escalateSurge(payload.surgeId, payload.target, payload.actorName);
    // The surge's message shows where it was escalated (paced like every edit of it).
    await deps.enqueue.surgeMessage(payload.surgeId);
    return posted;
  },
  sweep: (_payload, _job, { deps, jobs, sweepEveryMs }) => sweep(deps, jobs, { everyMs: sweepEveryMs }),
};
