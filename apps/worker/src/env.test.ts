import { readFileSync } from 'node:fs';
import { parseEnv as readDotEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadWorkerEnv } from './env.ts';

const ENV_EXAMPLE = new URL('../../../.env.example', import.meta.url);

describe('loadWorkerEnv', () => {
  it('starts from .env.example as shipped (empty variables are unset)', () => {
    const result = loadWorkerEnv(readDotEnv(readFileSync(ENV_EXAMPLE, 'utf8')));
    expect(result.ok ? [] : result.problems).toEqual([]);
    expect(result).toMatchObject({ ok: true, env: { METRICS_PORT: 9464, KIKIMIMI_DEMO: 'auto' } });
    expect(result.ok && result.env.DISCORD_TOKEN).toBeUndefined();
    expect(result.ok && result.env.DISCORD_API_URL).toBeUndefined();
  });

  // docker-compose.yml passes every variable, unset ones as "" (`DISCORD_TOKEN: ${DISCORD_TOKEN:-}`), and
  // .env.example lists them empty: an empty variable means "not set", as for the web console.
  it('treats every empty optional variable as unset', () => {
    const result = loadWorkerEnv({
      DISCORD_TOKEN: '',
      DISCORD_API_URL: '',
      KIKIMIMI_ENCRYPTION_KEY: '',
      METRICS_PORT: '',
      WORKER_CONCURRENCY: '',
      KIKIMIMI_DEMO_RATE: '',
    });
    expect(result).toMatchObject({ ok: true, env: { METRICS_PORT: 9464, WORKER_CONCURRENCY: 4 } });
  });

  it('lists every bad variable at once, without repeating a secret', () => {
    const result = loadWorkerEnv({
      DATABASE_URL: 'mysql://x',
      KIKIMIMI_ENCRYPTION_KEY: 'too-short-secret-value',
      DISCORD_API_URL: 'discord.example',
      METRICS_PORT: '70000',
      WORKER_CONCURRENCY: '0',
    });
    const problems = result.ok ? [] : result.problems;
    expect(problems.map((p) => p.split(':')[0])).toEqual([
      'DATABASE_URL',
      'KIKIMIMI_ENCRYPTION_KEY',
      'DISCORD_API_URL',
      'METRICS_PORT',
      'WORKER_CONCURRENCY',
    ]);
    expect(problems.join('\n')).not.toContain('too-short-secret-value');
  });

  it('still names each bad variable', () => {
    const result = loadWorkerEnv({ DISCORD_API_URL: 'discord.example', WORKER_CONCURRENCY: '0' });
    expect(result.ok ? [] : result.problems).toEqual([
      'DISCORD_API_URL: must be a URL starting with http:// or https://',
      expect.stringMatching(/^WORKER_CONCURRENCY: /u),
    ]);
  });

  it('binds the metrics to HOST and takes a metrics token of at least 16 characters, never echoed', () => {
    const result = loadWorkerEnv({ HOST: '127.0.0.1', METRICS_TOKEN: 'a-long-enough-token' });
    expect(result).toMatchObject({
      ok: true,
      env: { HOST: '127.0.0.1', METRICS_TOKEN: 'a-long-enough-token' },
    });
    expect(loadWorkerEnv({ METRICS_TOKEN: '' })).toMatchObject({ ok: true, env: { HOST: '0.0.0.0' } });
    const short = loadWorkerEnv({ METRICS_TOKEN: 'short-secret' });
    expect(short.ok).toBe(false);
    if (short.ok) return;
    expect(short.problems).toEqual(['METRICS_TOKEN: must be at least 16 characters']);
  });
});
