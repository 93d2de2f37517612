import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { commonEnv, flagVar, intVar, parseEnv, portVar } from './env.ts';

const schema = z.object({
  ...commonEnv,
  PORT: portVar().default(3000),
  FLAG: flagVar().default(false),
  SECONDS: intVar(0, 60, 'seconds').default(5),
  OPTIONAL_TOKEN: z.string().optional(),
});

describe('parseEnv', () => {
  it('gives the defaults for an empty environment', () => {
    expect(parseEnv(schema, {})).toEqual({
      ok: true,
      env: {
        DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/kikimimi',
        REDIS_URL: 'redis://127.0.0.1:6379',
        KIKIMIMI_DATA_DIR: '.kikimimi',
        KIKIMIMI_REDIS_PREFIX: 'kikimimi',
        PORT: 3000,
        FLAG: false,
        SECONDS: 5,
      },
    });
  });

  it('treats an empty variable as unset, for every kind of variable', () => {
    const result = parseEnv(schema, {
      DATABASE_URL: '',
      KIKIMIMI_ENCRYPTION_KEY: '',
      PORT: '',
      FLAG: '',
      SECONDS: '',
      OPTIONAL_TOKEN: '',
    });
    expect(result).toMatchObject({ ok: true, env: { PORT: 3000, FLAG: false, SECONDS: 5 } });
    expect(result.ok && result.env.OPTIONAL_TOKEN).toBeUndefined();
    expect(result.ok && result.env.KIKIMIMI_ENCRYPTION_KEY).toBeUndefined();
  });

  it('names every bad variable and what is wrong, never the value of a key', () => {
    const result = parseEnv(schema, {
      DATABASE_URL: 'mysql://x',
      KIKIMIMI_ENCRYPTION_KEY: 'a-secret-that-is-too-short',
      KIKIMIMI_REDIS_PREFIX: 'a:b',
      PORT: 'http',
      FLAG: 'maybe',
      SECONDS: '61',
    });
    expect(result.ok ? [] : result.problems).toEqual([
      'DATABASE_URL: must be a URL starting with postgres:// or postgresql://',
      expect.stringMatching(/^KIKIMIMI_ENCRYPTION_KEY: it must be 32 random bytes/u),
      'KIKIMIMI_REDIS_PREFIX: use letters, digits, "-" or "_"',
      'PORT: must be a port number',
      'FLAG: must be true or false',
      'SECONDS: must be 0–60',
    ]);
    expect(JSON.stringify(result)).not.toContain('a-secret-that-is-too-short');
  });
});
