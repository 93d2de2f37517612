import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { WorkerOptions } from '../src/worker.ts';

const SCRIPT = fileURLToPath(new URL('./worker-process.ts', import.meta.url));

/** Starts a worker in its own process and resolves once it says it is ready. */
export async function spawnWorker(options: Omit<WorkerOptions, 'log'>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [SCRIPT], {
    env: { ...process.env, KK_WORKER_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('worker process did not start within 20 s')), 20_000);
    lines.on('line', (line) => {
      if (line.trim() === 'ready') {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker process exited with ${code} before it was ready`));
    });
  });
  return child;
}

export function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
