import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
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

describe('kikimimi web', () => {
  it('explains itself', async () => {
    const result = await run(['web', '--help'], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: kikimimi web/u);
    expect(result.stdout).toContain('COOKIE_SECURE');
    expect((await run(['--help'], {})).stdout).toMatch(/\n {2}web +serve the web console/u);
  });

  it.each(['web', 'worker', 'start', 'migrate'])(
    'kikimimi %s refuses an option it does not know, exit 2',
    async (command) => {
      const result = await run([command, '--colour'], {});
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/Unknown option '--colour'/u);
      expect(result.stderr).toContain(`Usage: kikimimi ${command}`);
      expect((await run([command, '-h'], {})).stdout).toMatch(new RegExp(`^Usage: kikimimi ${command}`, 'u'));
    },
  );

  it('lists every bad variable at once, exit 2, no secret repeated', async () => {
    const result = await run(['web'], {
      DATABASE_URL: 'mysql://x',
      PORT: 'eighty',
      COOKIE_SECURE: 'perhaps',
      KIKIMIMI_ENCRYPTION_KEY: 'my-short-secret',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/the environment has 4 problem\(s\)/u);
    for (const name of ['DATABASE_URL', 'PORT', 'COOKIE_SECURE', 'KIKIMIMI_ENCRYPTION_KEY']) {
      expect(result.stderr).toContain(`  ${name}: `);
    }
    expect(result.stderr).not.toContain('my-short-secret');
  });

  it.each([
    [
      'an unreachable PostgreSQL',
      { DATABASE_URL: 'postgres://kikimimi:s3cret@127.0.0.1:1/kikimimi' },
      /kikimimi web: could not start: PostgreSQL at postgres:\/\/kikimimi:\*\*\*@127\.0\.0\.1:1\/kikimimi is unreachable/u,
    ],
    [
      'an unreachable Redis',
      {
        DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
        REDIS_URL: 'redis://:s3cret@127.0.0.1:1',
      },
      /kikimimi web: could not start: Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1 is unreachable/u,
    ],
  ] as Array<[string, Record<string, string>, RegExp]>)(
    'fails clearly with %s (exit 1, no stack, no password)',
    async (_name, env, message) => {
      const result = await run(['web'], {
        KIKIMIMI_ENCRYPTION_KEY: GOOD_KEY,
        LOG_LEVEL: 'silent',
        PORT: '0',
        ...env,
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /u);
      expect(result.stderr + result.stdout).not.toContain('s3cret');
    },
    40_000,
  );
});
