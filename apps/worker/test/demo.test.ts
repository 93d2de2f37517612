import { randomBytes } from 'node:crypto';
import { createDb, createRepositories, migrate } from '@kikimimi/db';
import { startXSandbox } from '@kikimimi/sandbox';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { type DemoContext, type RunningWorker, startWorker } from '../src/worker.ts';
import { DATABASE_URL, deleteKeys, ENCRYPTION_KEY, REDIS_URL, TEST_CONFIG, waitFor } from './world.ts';

// The worker's side of the demo world: it runs the world the CLI injects (apps/cli/src/demo/, tested
// there end to end), on one worker at a time, with the store, and re-reads the accounts on onReady.
const schema = `kk_demo_${randomBytes(4).toString('hex')}`;
const prefix = `kk-demo-${randomBytes(4).toString('hex')}`;
const database = createDb({ connectionString: DATABASE_URL, schema });
const SYSTEM = { kind: 'system', id: 'test', name: 'test' } as const;

afterAll(async () => {
  await database.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await database.close();
  await deleteKeys(REDIS_URL, prefix);
});

describe('an injected demo world', () => {
  it('runs on one worker at a time, sets up its accounts through the store, is polled after onReady and stopped on close', async () => {
    await migrate(database.pool);
    const repos = createRepositories(database.db, { encryptionKey: ENCRYPTION_KEY });
    const x = await startXSandbox();
    const runs: { stopped: boolean }[] = [];
    const demo = async ({ store, signal, onReady }: DemoContext) => {
      const run = { stopped: false };
      runs.push(run);
      await store.config.replace(TEST_CONFIG, SYSTEM);
      await store.accounts.create(
        {
          platform: 'x',
          label: 'demo-x',
          baseUrl: x.url,
          credentials: { kind: 'oauth2', accessToken: x.bearerToken },
          pollIntervalSeconds: 1,
          demo: true,
        },
        SYSTEM,
      );
      x.addPost({
        text: 'しおりノートのおかげで毎日読書が続いています、ありがとう！',
        author: { handle: 'reader' },
      });
      await onReady();
      await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      run.stopped = true;
    };
    const options = {
      databaseUrl: DATABASE_URL,
      databaseSchema: schema,
      redisUrl: REDIS_URL,
      redisPrefix: prefix,
      encryptionKey: ENCRYPTION_KEY,
      metricsPort: null,
      concurrency: 2,
      log: pino({ level: 'silent' }),
      demo,
    };
    const workers: RunningWorker[] = [];
    try {
      workers.push(await startWorker(options));
      // The account appears after the worker started: only onReady makes it poll it.
      const matches = await waitFor(
        async () => {
          const found = await repos.matches.list({}, { limit: 10 });
          return found.length > 0 ? found : null;
        },
        20_000,
        'the demo post as a match',
      );
      expect(matches.map((m) => m.platform)).toEqual(['x']);
      // A second worker on the same Redis leaves the demo world to the first.
      workers.push(await startWorker(options));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(runs).toHaveLength(1);
      await Promise.all(workers.splice(0).map((w) => w.close()));
      // (Closing both at once, the second may take the lease over for a moment: it is stopped too.)
      expect(runs.every((run) => run.stopped)).toBe(true);
    } finally {
      await Promise.allSettled(workers.map((w) => w.close()));
      await x.close();
    }
  });
});
