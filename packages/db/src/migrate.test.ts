import { randomBytes } from 'node:crypto';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../test/support.ts';
import { createDb, type DbHandle } from './client.ts';
import { MIGRATIONS_FOLDER, migrate } from './migrate.ts';

/** Every checked-in migration (each applied exactly once). */
const MIGRATIONS = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).length;

const TABLES = [
  'api_tokens',
  'audit_log',
  'authors',
  'case_events',
  'config_versions',
  'contacts',
  'discord_settings',
  'identity_links',
  'matches',
  'outbox',
  'platform_accounts',
  'posts',
  'replies',
  'review_decisions',
  'review_messages',
  'sessions',
  'source_states',
  'surge_announcements',
  'surge_escalations',
  'surge_reply_skips',
  'surges',
  'usage_daily',
  'users',
];

const handles: { handle: DbHandle; schema: string }[] = [];

function open(schema = `test_migrate_${randomBytes(4).toString('hex')}`) {
  const handle = createDb({ connectionString: TEST_DATABASE_URL, schema, max: 3 });
  handles.push({ handle, schema });
  return { handle, schema };
}

async function tablesIn(handle: DbHandle, schema: string): Promise<string[]> {
  const { rows } = await handle.pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
    [schema],
  );
  return rows.map((r) => r.table_name);
}

async function appliedMigrations(handle: DbHandle, schema: string): Promise<number> {
  const { rows } = await handle.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM "${schema}"."__drizzle_migrations"`,
  );
  return rows[0]?.n ?? 0;
}

afterAll(async () => {
  for (const { handle, schema } of handles) {
    await handle.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await handle.close();
  }
});

describe('migrate', () => {
  it('creates every table inside the schema, and a second run changes nothing', async () => {
    const { handle, schema } = open();
    await migrate(handle.pool);
    expect(await tablesIn(handle, schema)).toEqual([...TABLES, '__drizzle_migrations'].sort());
    const once = await appliedMigrations(handle, schema);
    expect(once).toBeGreaterThan(0);

    await migrate(handle.pool);
    expect(await appliedMigrations(handle, schema)).toBe(once);
  });

  it('keeps foreign keys inside the schema (not public)', async () => {
    const { handle, schema } = open();
    await migrate(handle.pool);
    const { rows } = await handle.pool.query<{ target: string }>(
      `SELECT DISTINCT confrelid::regclass::text AS target FROM pg_constraint c
       JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1 AND c.contype = 'f'`,
      [schema],
    );
    expect(rows.length).toBeGreaterThan(0);
    // Unqualified means "found on the search_path", i.e. this schema; public.* would be wrong.
    for (const { target } of rows) expect(target).not.toMatch(/^public\./u);
  });

  it('is safe when several processes migrate the same schema at once', async () => {
    const schema = `test_migrate_${randomBytes(4).toString('hex')}`;
    const a = open(schema).handle;
    const b = createDb({ connectionString: TEST_DATABASE_URL, schema, max: 3 });
    const c = createDb({ connectionString: TEST_DATABASE_URL, schema, max: 3 });
    try {
      await Promise.all([migrate(a.pool), migrate(b.pool), migrate(c.pool), migrate(a.pool)]);
      expect(await tablesIn(a, schema)).toHaveLength(TABLES.length + 1);
      expect(await appliedMigrations(a, schema)).toBe(MIGRATIONS);
    } finally {
      await b.close();
      await c.close();
    }
  });

  it('applies the checked-in SQL as is in a fresh database (public schema, the production path)', async () => {
    const name = `kikimimi_test_${randomBytes(4).toString('hex')}`;
    const admin = createDb({ connectionString: TEST_DATABASE_URL, max: 1 });
    await admin.pool.query(`CREATE DATABASE "${name}"`);
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${name}`;
    const fresh = createDb({ connectionString: url.toString(), max: 2 });
    try {
      await Promise.all([migrate(fresh.pool), migrate(fresh.pool)]);
      await migrate(fresh.pool);
      expect(await tablesIn(fresh, 'public')).toEqual(TABLES);
      const { rows } = await fresh.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations',
      );
      expect(rows[0]?.n).toBe(MIGRATIONS);
    } finally {
      await fresh.close();
      await admin.pool.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.close();
    }
  });

  it('refuses a schema name that is not a plain identifier', () => {
    expect(() => createDb({ connectionString: TEST_DATABASE_URL, schema: 'x"; DROP TABLE y; --' })).toThrow(
      /schema name/u,
    );
  });
});
