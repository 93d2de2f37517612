import { createDb, ensureDatabase, migrate } from '@kikimimi/db';
import { databaseEnvSchema, envOrExplain, errorMessage, parseEnv } from '@kikimimi/runtime';
import { type Command, printedHelp } from './io.ts';

const USAGE = `Usage: kikimimi migrate

Applies the pending database migrations to DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/kikimimi) and exits. Safe to run while workers are running and from
several processes at once (an advisory lock serialises them).`;

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply the database migrations and exit',
  usage: USAGE,
  async run(args, io) {
    if (printedHelp(args, USAGE, io)) return 0;
    const checked = envOrExplain('migrate', [parseEnv(databaseEnvSchema, process.env)] as const, io.stderr);
    if (checked === 2) return 2;
    const url = checked[0].DATABASE_URL;
    let database: ReturnType<typeof createDb> | undefined;
    try {
      if ((await ensureDatabase(url)) === 'created')
        io.stdout.write('kikimimi migrate: created the database\n');
      database = createDb({ connectionString: url });
      await migrate(database.pool);
      io.stdout.write('kikimimi migrate: the database is up to date\n');
      return 0;
    } catch (error) {
      io.stderr.write(`kikimimi migrate: ${errorMessage(error)}\n`);
      return 1;
    } finally {
      await database?.close().catch(() => {});
    }
  },
};
