import pg from 'pg';

/**
 * Creates the database named in the connection string when it does not exist yet (a first run on a
 * fresh PostgreSQL), connecting to the server's `postgres` database to do so. Any other problem is
 * left for the caller's own connection to report.
 */
export async function ensureDatabase(connectionString: string): Promise<'exists' | 'created'> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    return 'exists';
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') throw error; // invalid_catalog_name
  } finally {
    await client.end().catch(() => {});
  }
  const url = new URL(connectionString);
  const name = decodeURIComponent(url.pathname.replace(/^\//u, ''));
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5_000 });
  try {
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name.replace(/"/gu, '""')}"`);
    return 'created';
  } catch (error) {
    if ((error as { code?: string }).code === '42P04') return 'exists'; // created meanwhile by another process
    throw error;
  } finally {
    await admin.end().catch(() => {});
  }
}
