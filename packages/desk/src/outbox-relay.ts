import type { OutboxEntry, OutboxRepository } from '@kikimimi/db';
import type { JobQueues } from './job-queues.ts';
import { isJobName, type JobName, type JobPayload } from './jobs.ts';

/** Where the relay says what went wrong (the app's logger). */
export interface RelayLog {
  warn(detail: Record<string, unknown>, message: string): void;
}

/** Hands the jobs decisions wrote to the outbox on to their queues. */
export interface OutboxRelay {
  /** Relays everything waiting now (in batches); how many jobs were relayed. Throws when the queue is down. */
  flush(): Promise<number>;
  /**
   * Relays every `everyMs` until `signal` aborts, and at once whenever `nudge()` is called; failures are
   * logged once per outage and retried on the next round. Resolves when stopped.
   */
  run(signal: AbortSignal, everyMs?: number): Promise<void>;
  /** Something was just written to the outbox: relay it without waiting for the next round. */
  nudge(): void;
}

const BATCH = 200;
/** How long one job may take to reach the queue before the batch is given up (and kept) for now. */
const SEND_TIMEOUT_MS = 5_000;

/** Rejects when `promise` takes longer than `ms` (the relay's transaction must not wait for Redis forever). */
async function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the queue did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function createOutboxRelay(deps: {
  readonly outbox: OutboxRepository;
  readonly jobs: Pick<JobQueues, 'enqueue' | 'ensure'>;
  readonly log: RelayLog;
  /** Per job; the rows of a batch that times out stay for the next round (default 5 s). */
  readonly sendTimeoutMs?: number;
  /** The clock a job's `notBefore` is measured against (default: the system's). */
  readonly now?: () => number;
}): OutboxRelay {
  const timeoutMs = deps.sendTimeoutMs ?? SEND_TIMEOUT_MS;
  const now = deps.now ?? Date.now;
  const send = async (entries: readonly OutboxEntry[]) => {
    for (const entry of entries) {
      if (!isJobName(entry.queue)) {
        // Written by a newer version that knows a job this one does not: leave it to that version.
        throw new Error(`outbox job ${entry.id} is for an unknown queue ${JSON.stringify(entry.queue)}`);
      }
      const name: JobName = entry.queue;
      const payload = entry.payload as JobPayload<typeof name>;
      // Redis down: ioredis waits for the reconnection, and the relay's transaction (which holds the
      // rows) would stay open as long. Given up after a while instead; a job that reaches the queue
      // later anyway is added again under the same id next round, which the queue ignores.
      // A paced job (a reply to a surge's member) waits on its queue until its time; the job itself
      // checks the time again (a job re-driven early waits again).
      const delay = entry.notBefore === undefined ? 0 : entry.notBefore.getTime() - now();
      if (entry.rerun) await bounded(deps.jobs.ensure(name, payload, entry.jobId), timeoutMs);
      else
        await bounded(
          deps.jobs.enqueue(name, payload, { jobId: entry.jobId, ...(delay > 0 ? { delay } : {}) }),
          timeoutMs,
        );
    }
  };

  // One flush at a time in this process; a nudge during a flush makes it go round once more.
  let running: Promise<number> | null = null;
  let again = false;
  const flushOnce = async () => {
    let total = 0;
    for (;;) {
      const relayed = await deps.outbox.relay(BATCH, send);
      total += relayed;
      if (relayed < BATCH) return total;
    }
  };
  const flush = (): Promise<number> => {
    if (running !== null) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        let total = 0;
        do {
          again = false;
          total += await flushOnce();
        } while (again);
        return total;
      } finally {
        running = null;
      }
    })();
    return running;
  };

  let wake: (() => void) | null = null;
  let failing = false;
  return {
    flush,
    nudge() {
      wake?.();
    },
    async run(signal, everyMs = 1_000) {
      while (!signal.aborted) {
        try {
          await flush();
          if (failing) deps.log.warn({}, 'outbox relay working again');
          failing = false;
        } catch (error) {
          if (!failing) {
            deps.log.warn(
              { error: error instanceof Error ? error.message : String(error) },
              'outbox relay failed: decisions are kept and their jobs relayed once the queue is back',
            );
          }
          failing = true;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, everyMs);
          function done() {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            wake = null;
            resolve();
          }
          wake = done;
          signal.addEventListener('abort', done, { once: true });
        });
      }
    },
  };
}
