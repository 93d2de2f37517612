import { type Job, type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { JOB_NAMES, JOBS, type JobName, type JobPayload, parsePayload } from './jobs.ts';

/** What a producer may set per job beyond the catalogue's options. */
export interface EnqueueOptions {
  readonly jobId?: string;
  readonly delay?: number;
  /**
   * BullMQ's priority: 1 (first) to 2,097,152 (last); a job without one goes before every job with one.
   * Unset: none.
   */
  readonly priority?: number;
}

/** A typed `enqueue`: the payload is checked against the catalogue and the job gets its options. */
export type Enqueue = <N extends JobName>(
  name: N,
  payload: JobPayload<N>,
  options?: EnqueueOptions,
) => Promise<Job>;

/** One BullMQ queue per job of the catalogue, and the typed ways to put jobs on them. */
export interface JobQueues {
  readonly queues: { readonly [N in JobName]: Queue };
  readonly enqueue: Enqueue;
  /** Many jobs of one kind in one round trip. */
  enqueueMany<N extends JobName>(
    name: N,
    jobs: readonly { readonly payload: JobPayload<N>; readonly options?: EnqueueOptions }[],
  ): Promise<void>;
  /**
   * Puts a job on its queue, or — when a job with that id is kept there as failed — retries it, and one
   * waiting out a backoff runs now: what a re-driven effect needs (a reviewer's retry, the sweeper). A
   * job waiting or running is left alone.
   */
  ensure<N extends JobName>(
    name: N,
    payload: JobPayload<N>,
    jobId: string,
  ): Promise<'added' | 'retried' | 'exists'>;
  close(): Promise<void>;
}

const optionsFor = (name: JobName, options: EnqueueOptions = {}): JobsOptions => ({
  ...JOBS[name].options,
  ...(options.jobId === undefined ? {} : { jobId: options.jobId }),
  ...(options.delay === undefined ? {} : { delay: options.delay }),
  ...(options.priority === undefined ? {} : { priority: options.priority }),
});

export function createJobQueues(
  connection: Redis,
  prefix: string,
  onError?: (error: Error) => void,
): JobQueues {
  const queues = Object.fromEntries(
    JOB_NAMES.map((name) => {
      const queue = new Queue(name, { connection, prefix });
      if (onError) queue.on('error', onError);
      return [name, queue];
    }),
  ) as { [N in JobName]: Queue };

  const enqueue: Enqueue = (name, payload, options) =>
    queues[name].add(name, parsePayload(name, payload), optionsFor(name, options));

  return {
    queues,
    enqueue,
    async enqueueMany(name, jobs) {
      if (jobs.length === 0) return;
      await queues[name].addBulk(
        jobs.map((job) => ({
          name,
          data: parsePayload(name, job.payload),
          opts: optionsFor(name, job.options),
        })),
      );
    },
    async ensure(name, payload, jobId) {
      const existing = await queues[name].getJob(jobId);
      if (existing === undefined) {
        await enqueue(name, payload, { jobId });
        return 'added';
      }
      if (await existing.isFailed()) {
        await existing.retry('failed');
        return 'retried';
      }
      if (await existing.isDelayed()) {
        // Waiting out its backoff: asked for again, it runs now.
        await existing.promote();
        return 'retried';
      }
      if (await existing.isCompleted()) {
        // A completed job keeps its id: remove it so that the effect runs again.
        await existing.remove();
        await enqueue(name, payload, { jobId });
        return 'added';
      }
      return 'exists';
    },
    async close() {
      await Promise.all(Object.values(queues).map((queue) => queue.close().catch(() => {})));
    },
  };
}
