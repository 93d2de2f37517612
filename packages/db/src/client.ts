import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as tables from './schema.ts';

/** The Drizzle handle every repository works on (`$client`: its pg pool, for the few hot reads). */
export type Database = NodePgDatabase<typeof tables> & { $client: pg.Pool };

export interface CreateDbOptions {
  readonly connectionString: string;
  /**
   * Work inside this PostgreSQL schema (`search_path`), e.g. one schema per test file. `migrate` creates
   * it and keeps its migration journal there. Absent: the server's default (`public`).
   */
  readonly schema?: string;
  /** Pool size; default 10. */
  readonly max?: number;
  readonly applicationName?: string;
  /** Errors of idle pooled connections (the pool replaces them); default: ignored. */
  readonly onIdleError?: (error: Error) => void;
}

/** A connected database: Drizzle on a pg pool. `close()` ends the pool. */
export interface DbHandle {
  readonly db: Database;
  readonly pool: pg.Pool;
  close(): Promise<void>;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/u;
const schemaOfPool = new WeakMap<pg.Pool, string>();

/** The schema a pool made by {@link createDb} works in, if one was given. */
export function schemaOf(pool: pg.Pool): string | undefined {
  return schemaOfPool.get(pool);
}

/** Checks a schema name; only plain lower-case identifiers, so it can be written into SQL unquoted-safe. */
export function checkSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(
      `schema name must be 1–63 lower-case letters, digits or "_", not starting with a digit (got ${JSON.stringify(schema)})`,
    );
  }
  return schema;
}

/** Opens a pool and a Drizzle handle on it; nothing connects until the first query. */
export function createDb(options: CreateDbOptions): DbHandle {
  if (typeof options.connectionString !== 'string' || options.connectionString === '') {
    throw new Error('createDb: connectionString is required (e.g. postgres://user@127.0.0.1:5432/kikimimi)');
  }
  const schema = options.schema === undefined ? undefined : checkSchemaName(options.schema);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'kikimimi',
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
  });
  // Without a listener an idle connection dropped by the server would crash the process.
  pool.on('error', options.onIdleError ?? (() => {}));
  if (schema !== undefined) schemaOfPool.set(pool, schema);
  const db = drizzle(pool, { schema: tables });
  let closed: Promise<void> | undefined;
  return {
    db,
    pool,
    close() {
      closed ??= pool.end();
      return closed;
    },
  };
}
