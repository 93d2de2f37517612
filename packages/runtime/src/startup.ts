import { resolveEncryptionKey } from '@kikimimi/db';
import type { Logger } from 'pino';
import type { EnvResult } from './env.ts';
import { createLogger } from './log.ts';
import { errorMessage } from './secrets.ts';

interface Stderr {
  write(text: string): unknown;
}

type EnvsOf<T extends readonly EnvResult<unknown>[]> = {
  [K in keyof T]: T[K] extends EnvResult<infer E> ? E : never;
};

/**
 * The environments of one command (`kikimimi start` reads the console's and the worker's), or the
 * exit code 2 after listing every problem once under the command's name.
 */
export function envOrExplain<T extends readonly EnvResult<unknown>[]>(
  command: string,
  results: T,
  stderr: Stderr,
): EnvsOf<T> | 2 {
  const problems = [...new Set(results.flatMap((result) => (result.ok ? [] : result.problems)))];
  if (problems.length === 0) return results.map((result) => (result as { env: unknown }).env) as EnvsOf<T>;
  stderr.write(`kikimimi ${command}: the environment has ${problems.length} problem(s):\n`);
  for (const problem of problems) stderr.write(`  ${problem}\n`);
  return 2;
}

/** What every long-running command reads first (see commonEnv). */
interface ServiceEnv {
  readonly LOG_LEVEL: string;
  readonly KIKIMIMI_ENCRYPTION_KEY?: string | undefined;
  readonly KIKIMIMI_DATA_DIR: string;
}

/**
 * The life of a long-running command (`kikimimi web`, `worker`, `start`): the environment checked
 * (exit 2 listing every problem), the logger, the credentials key (KIKIMIMI_ENCRYPTION_KEY or the one
 * generated into the data directory, said once), `start`; a failure to start is said in one line
 * without stack or secret (exit 1); then it runs until SIGTERM or SIGINT and stops gracefully (exit 0).
 * The first environment gives the log level and the key.
 */
export async function runService<
  T extends readonly [EnvResult<ServiceEnv>, ...EnvResult<ServiceEnv>[]],
>(options: {
  readonly command: string;
  readonly envs: T;
  readonly loggerName: string;
  readonly stderr: Stderr;
  start(
    envs: EnvsOf<T>,
    context: { encryptionKey: string; log: Logger },
  ): Promise<{ close(): Promise<void> }>;
}): Promise<number> {
  const envs = envOrExplain(options.command, options.envs, options.stderr);
  if (envs === 2) return 2;
  const [env] = envs as unknown as [ServiceEnv];
  const log = createLogger({ name: options.loggerName, level: env.LOG_LEVEL });
  let running: { close(): Promise<void> };
  try {
    const encryptionKey = await resolveEncryptionKey({
      fromEnv: env.KIKIMIMI_ENCRYPTION_KEY,
      dataDir: env.KIKIMIMI_DATA_DIR,
      onGenerated: (path) =>
        log.warn({ path }, 'no KIKIMIMI_ENCRYPTION_KEY: generated one (back it up, or set the variable)'),
    });
    running = await options.start(envs, { encryptionKey, log });
  } catch (error) {
    options.stderr.write(`kikimimi ${options.command}: could not start: ${errorMessage(error)}\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'stopping');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await running.close();
  return 0;
}
