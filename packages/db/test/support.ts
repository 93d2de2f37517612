import { randomBytes } from 'node:crypto';
import {
  type Decision,
  loadConfig,
  type Post,
  type PostInput,
  postSchema,
  type RulesEngine,
} from '@kikimimi/rules';
import { createDb, type DbHandle } from '../src/client.ts';
import { migrate } from '../src/migrate.ts';
import { createRepositories, type Repositories } from '../src/repositories/index.ts';
import type { Actor, MatchRecord } from '../src/types.ts';

/** The test server (trust auth); override with KIKIMIMI_TEST_DATABASE_URL. */
export const TEST_DATABASE_URL =
  process.env.KIKIMIMI_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export const TEST_KEY = randomBytes(32).toString('base64');

export const WEB_ACTOR: Actor = { kind: 'web', id: 'u1', name: 'Aiko' };
export const DISCORD_ACTOR: Actor = { kind: 'discord', id: '123456789012345678', name: 'reviewer' };

export interface TestDb extends DbHandle {
  readonly schema: string;
  readonly repos: Repositories;
  /** Drops the schema and closes the pool. */
  drop(): Promise<void>;
}

/** A unique, migrated schema for one test file. */
export async function createTestDb(name: string): Promise<TestDb> {
  const schema = `test_${name}_${randomBytes(4).toString('hex')}`;
  const handle = createDb({ connectionString: TEST_DATABASE_URL, schema, max: 6 });
  await migrate(handle.pool);
  return {
    ...handle,
    schema,
    repos: createRepositories(handle.db, { encryptionKey: TEST_KEY }),
    async drop() {
      await handle.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await handle.close();
    },
  };
}

export const NOW = new Date('2026-11-24T09:00:00.000Z');

export function makePost(id: string, text: string, extra: Partial<PostInput> = {}): Post {
  const platform = extra.platform ?? 'x';
  return postSchema.parse({
    platform,
    id,
    url: platform === 'x' ? `https://x.com/someone/status/${id}` : `https://mstdn.jp/@someone/${id}`,
    author: { id: `a-${id}`, handle: `user${id}`, displayName: `User ${id}`, followers: 10 },
    text,
    createdAt: '2026-11-24T08:30:00Z',
    ...extra,
  });
}

export function engineFor(config: unknown = DEFAULT_TEST_CONFIG): RulesEngine {
  const loaded = loadConfig(config);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.engine;
}

export const DEFAULT_TEST_CONFIG = {
  watches: [{ id: 'brand', query: 'ブクログ OR booklog' }],
  escalation: [
    { id: 'billing', when: { query: '課金 OR billing' }, actions: { route: 'billing', priority: 'high' } },
  ],
  suppression: { ownAccounts: [{ platform: 'x', handle: 'booklog_official' }] },
};

/** Posts with the real rules' decisions. */
export function decideAll(
  engine: RulesEngine,
  items: Post[],
  now = NOW,
): { post: Post; decision: Decision }[] {
  return items.map((post) => ({ post, decision: engine.decide(post, { now }) }));
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { problems?: ReadonlyArray<{ path: string; message: string }> }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}

/** An X account in `t`, and fresh matches stored through it (one praising post each, ids `<prefix><n>`). */
export async function matchMaker(t: TestDb, prefix: string) {
  const engine = engineFor();
  const accountId = (
    await t.repos.accounts.create({ platform: 'x', label: 'main', credentials: { t: 1 } }, WEB_ACTOR)
  ).id;
  let seq = 0;
  return {
    accountId,
    async newMatch(): Promise<MatchRecord> {
      seq += 1;
      const post = makePost(`${prefix}${seq}`, 'ブクログ最高です', {
        author: { id: `author-${seq}`, handle: `Reader${seq}`, displayName: '', followers: 1 },
      });
      const [match] = (await t.repos.ingest.storeBatch(accountId, decideAll(engine, [post]), undefined, NOW))
        .newMatches;
      if (match === undefined) throw new Error('the post did not match');
      return match;
    },
  };
}
