import { describe, expect, it } from 'vitest';
import { loadWorkerEnv } from './env.ts';

describe('loadWorkerEnv', () => {
  // docker-compose.yml passes every variable, unset ones as "" (`DISCORD_TOKEN: ${DISCORD_TOKEN:-}`), and
  // .env.example lists them empty: an empty variable means "not set", as for the web console.
  it('reads an empty variable as not set', () => {
    const result = loadWorkerEnv({
      DISCORD_TOKEN: '',
      DISCORD_API_URL: '',
      KIKIMIMI_ENCRYPTION_KEY: '',
      METRICS_PORT: '',
    });
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    expect(result.env.DISCORD_TOKEN).toBeUndefined();
    expect(result.env.DISCORD_API_URL).toBeUndefined();
    expect(result.env.KIKIMIMI_ENCRYPTION_KEY).toBeUndefined();
    expect(result.env.METRICS_PORT).toBe(9464);
  });

  it('still names each bad variable', () => {
    const result = loadWorkerEnv({ DISCORD_API_URL: 'discord.example', WORKER_CONCURRENCY: '0' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toEqual([
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
