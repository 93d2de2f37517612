export { loadWorkerEnv, type WorkerEnv, workerEnvSchema } from './env.ts';
export { CONFIG_CHANNEL, QUEUES } from './jobs.ts';
export { createLogger, maskUrl } from './log.ts';
export { type RunningWorker, startWorker, type WorkerOptions } from './worker.ts';
