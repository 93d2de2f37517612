export { loadWorkerEnv, type WorkerEnv, workerEnvSchema } from './env.ts';
export { createLogger, maskUrl } from './log.ts';
export { type RunningWorker, startWorker, type WorkerOptions } from './worker.ts';
