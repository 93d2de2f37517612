import { randomBytes } from 'node:crypto';
import { AtpAgent } from '@atproto/api';
import { Database, TestNetwork } from '@atproto/dev-env';

/*
 * Bluesky's reference servers (PLC directory, PDS, AppView, bsync, ozone from @atproto/dev-env) on the
 * local PostgreSQL and Redis, one network per test file. Its schemas carry a random name and are
 * dropped at the end. KIKIMIMI_TEST_POSTGRES_URL and REDIS_HOST override the addresses.
 */

const POSTGRES_URL = process.env.KIKIMIMI_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
process.env.REDIS_HOST ??= '127.0.0.1:6379';
// The PDS and AppView log every request at info level; keep the test output readable.
process.env.LOG_ENABLED ??= 'false';

export interface Account {
  readonly did: string;
  readonly handle: string;
  readonly password: string;
  readonly appPassword: string;
  readonly agent: AtpAgent;
}

export interface BlueskyNetwork {
  readonly net: TestNetwork;
  /** The firehose of the PDS, as a ws:// URL. */
  readonly firehoseUrl: string;
  createAccount(name: string): Promise<Account>;
  close(): Promise<void>;
}

export async function startBlueskyNetwork(): Promise<BlueskyNetwork> {
  // dev-env derives further schema names from this one and accepts only letters and underscores.
  const schema = `kk_bsky_${[...randomBytes(8)].map((b) => String.fromCharCode(97 + (b % 26))).join('')}`;
  const net = await TestNetwork.create({ dbPostgresUrl: POSTGRES_URL, dbPostgresSchema: schema });
  return {
    net,
    firehoseUrl: net.pds.url.replace(/^http/u, 'ws'),
    async createAccount(name) {
      const handle = `${name}.test`;
      const password = `pw-${randomBytes(6).toString('hex')}`;
      const agent = new AtpAgent({ service: net.pds.url });
      await agent.createAccount({ handle, email: `${name}@example.test`, password });
      await agent.upsertProfile(() => ({ displayName: `${name[0]?.toUpperCase()}${name.slice(1)} (test)` }));
      const app = await agent.com.atproto.server.createAppPassword({ name: 'kikimimi' });
      return { did: agent.session?.did as string, handle, password, appPassword: app.data.password, agent };
    },
    async close() {
      await net.close();
      const db = new Database({ url: POSTGRES_URL, schema: 'public', poolSize: 1 });
      try {
        for (const s of [schema, `appview_${schema}`, `bsync_${schema}`, `ozone_${schema}`])
          await db.pool.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      } finally {
        await db.close();
      }
    },
  };
}
