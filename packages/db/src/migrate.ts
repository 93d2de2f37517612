import { fileURLToPath } from 'node:url';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate as drizzleMigrate } from 'drizzle-orm/node-postgres/migrator';
import { PgDialect, type PgSession } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import { checkSchemaName, schemaOf } from './client.ts';

/** The checked-in SQL migrations written by drizzle-kit (`npm run generate -w @kikimimi/db`). */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../migrations', import.meta.url));

export interface MigrateOptions {
  /** Schema to migrate; default: the one the pool was created with (createDb's `schema`), else public. */
  readonly schema?: string;
  readonly migrationsFolder?: string;
}

/**
 * Applies the pending migrations. Idempotent, and safe when several processes start at once: they
 * queue on a PostgreSQL advisory lock, and each applies only what is still missing.
 */
export async function migrate(pool: pg.Pool, options: MigrateOptions = {}): Promise<void> {
  const schema = options.schema === undefined ? schemaOf(pool) : checkSchemaName(options.schema);
  const migrationsFolder = options.migrationsFolder ?? MIGRATIONS_FOLDER;
  const client = await pool.connect();
  let broken: unknown;
  try {
    await client.query(`SELECT pg_advisory_lock(hashtext($1))`, [`kikimimi.migrate:${schema ?? 'public'}`]);
    try {
      const db = drizzle(client);
      if (schema === undefined) {
        await drizzleMigrate(db, { migrationsFolder });
      } else {
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
        await client.query(`SET search_path TO "${schema}"`);
        // drizzle-kit writes foreign keys as REFERENCES "public"."table"; inside another schema they
        // must point there. The journal hash stays the one of the checked-in file.
        const migrations = readMigrationFiles({ migrationsFolder }).map((m) => ({
          ...m,
          sql: m.sql.map((statement) => statement.replaceAll('"public".', `"${schema}".`)),
        }));
        await new PgDialect().migrate(migrations, db._.session as unknown as PgSession, {
          migrationsFolder,
          migrationsSchema: schema,
        });
        await client.query('RESET search_path');
      }
    } finally {
      await client.query(`SELECT pg_advisory_unlock(hashtext($1))`, [
        `kikimimi.migrate:${schema ?? 'public'}`,
      ]);
    }
  } catch (error) {
    broken = error;
    throw error;
  } finally {
    // A connection in an unknown state (failed mid-migration) is closed, which also frees the lock.
    client.release(broken !== undefined);
  }
}
