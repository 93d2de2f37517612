/**
 * Runs one worker in its own process, for pipeline-bench.ts (its RSS is measured from outside).
 *
 *   KIKIMIMI_WORKER_OPTIONS='{"databaseUrl":…}' node apps/worker/bench/run-worker.ts
 *
 * The options are WorkerOptions without `log`, as JSON. Prints one JSON line `{"pid":…,"ready":true}`
 * once the worker runs. Stops (closing the worker) on SIGTERM/SIGINT or when stdin closes, so it never
 * outlives the process that started it; a line `memory` on stdin is answered with its V8 heap figures.
 */
import { createInterface } from 'node:readline';
import pino from 'pino';
import { startWorker, type WorkerOptions } from '../src/worker.ts';

const raw = process.env.KIKIMIMI_WORKER_OPTIONS;
if (raw === undefined || raw === '') {
  console.error('run-worker: set KIKIMIMI_WORKER_OPTIONS to the worker options as JSON');
  process.exit(2);
}
const options = JSON.parse(raw) as Omit<WorkerOptions, 'log'>;
const log = pino({ level: process.env.KIKIMIMI_LOG_LEVEL ?? 'silent' });

const worker = await startWorker({ ...options, log });
let stopping = false;
const stop = (code: number) => {
  if (stopping) return;
  stopping = true;
  // A worker that cannot close within 10 s is stopped anyway.
  setTimeout(() => process.exit(code), 10_000).unref();
  worker.close().then(
    () => process.exit(code),
    (error: unknown) => {
      console.error('run-worker: close failed', error);
      process.exit(1);
    },
  );
};
process.once('SIGTERM', () => stop(0));
process.once('SIGINT', () => stop(0));
// The parent holds our stdin: when it goes away (even killed), so do we. A line "memory" asks for
// the V8 heap figures, answered as one JSON line.
const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MB`;
const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  if (line.trim() !== 'memory') return;
  const m = process.memoryUsage();
  const memory = `heapUsed ${mb(m.heapUsed)}, heapTotal ${mb(m.heapTotal)}, external ${mb(m.external)}`;
  console.log(JSON.stringify({ memory }));
});
input.on('close', () => stop(0));
process.stdin.on('error', () => stop(0));

console.log(JSON.stringify({ pid: process.pid, ready: true, metricsUrl: worker.metricsUrl }));
