export { loadWorkerEnv, type WorkerEnv, workerEnvSchema } from './env.ts';
export type { Store } from './ports.ts';
export {
  type DemoContext,
  type DemoWorld,
  type RunningWorker,
  startWorker,
  type WorkerOptions,
} from './worker.ts';
