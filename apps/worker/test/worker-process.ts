/**
 * A worker in a process of its own, for tests that kill it: options arrive as JSON in
 * KK_WORKER_OPTIONS; prints "ready" once started; SIGTERM stops it gracefully.
 */
import pino from 'pino';
import { startWorker, type WorkerOptions } from '../src/worker.ts';

const options = JSON.parse(process.env.KK_WORKER_OPTIONS ?? '{}') as Omit<WorkerOptions, 'log'>;
const worker = await startWorker({
  ...options,
  log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }, pino.destination(2)),
});
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  worker.close().then(() => process.exit(0));
});
