import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify, parseEnv as readDotEnv } from 'node:util';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/kikimimi.js', import.meta.url));
const GOOD_KEY = Buffer.alloc(32, 7).toString('base64');

/** Runs the real CLI in a process of its own with exactly this environment (plus PATH). */
async function run(args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('start-up with a broken environment: a clear message and a non-zero exit, not a stack trace', () => {
  it.each([
    [
      'a bad database URL',
      { DATABASE_URL: 'mysql://localhost/x', KIKIMIMI_ENCRYPTION_KEY: GOOD_KEY },
      /DATABASE_URL: must be a URL starting with postgres:\/\/ or postgresql:\/\//,
    ],
    [
      'a bad Redis URL and a bad port',
      { REDIS_URL: 'localhost:6379', METRICS_PORT: 'abc', KIKIMIMI_ENCRYPTION_KEY: GOOD_KEY },
      /REDIS_URL: .*\n.*METRICS_PORT/,
    ],
    [
      'an encryption key that is not 32 bytes',
      { KIKIMIMI_ENCRYPTION_KEY: 'too-short' },
      /KIKIMIMI_ENCRYPTION_KEY: it must be 32 random bytes/,
    ],
    [
      'an unreachable PostgreSQL',
      { DATABASE_URL: 'postgres://kikimimi:s3cret@127.0.0.1:1/kikimimi', KIKIMIMI_ENCRYPTION_KEY: GOOD_KEY },
      /PostgreSQL at postgres:\/\/kikimimi:\*\*\*@127\.0\.0\.1:1\/kikimimi is unreachable/,
    ],
    [
      'an unreachable Redis',
      {
        REDIS_URL: 'redis://127.0.0.1:1',
        KIKIMIMI_ENCRYPTION_KEY: GOOD_KEY,
        DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
      },
      /Redis at redis:\/\/127\.0\.0\.1:1 is unreachable/,
    ],
  ] as Array<[string, Record<string, string>, RegExp]>)(
    'kikimimi worker with %s',
    async (_name, env, message) => {
      const result = await run(['worker'], { METRICS_PORT: '0', ...env, LOG_LEVEL: 'silent' });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /u); // no stack trace
      expect(result.stderr + result.stdout).not.toContain('s3cret');
    },
    40_000,
  );

  it.each(['worker', 'start'])(
    'kikimimi %s takes .env.example as shipped (empty variables are unset) and goes on to the services',
    async (command) => {
      const shipped = readDotEnv(readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8'));
      // Everything as shipped but a PostgreSQL that is not there: the environment passes, the preflight stops it.
      const result = await run([command], {
        ...shipped,
        DATABASE_URL: 'postgres://postgres@127.0.0.1:1/kikimimi',
        METRICS_PORT: '0',
        PORT: '0',
        LOG_LEVEL: 'silent',
        KIKIMIMI_ENCRYPTION_KEY: GOOD_KEY,
      });
      expect(result.stderr).not.toMatch(/the environment has/u);
      expect(result.stderr).toMatch(
        /PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/kikimimi is unreachable/u,
      );
      expect(result.code).toBe(1);
    },
    40_000,
  );

  it('kikimimi migrate names an unreachable database without its password', async () => {
    const result = await run(['migrate'], {
      DATABASE_URL: 'postgres://kikimimi:s3cret@127.0.0.1:1/kikimimi',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/kikimimi migrate: .*ECONNREFUSED/u);
    expect(result.stderr).not.toContain('s3cret');
  }, 40_000);
});
