import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './log.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { log: createLogger({ name: 'test', level: 'info', destination }), lines };
}

const SECRET = 'hunter2-very-secret';

describe('createLogger: one redaction list for every app', () => {
  it.each([
    ['token', { token: SECRET }],
    ['a nested token', { discord: { token: SECRET } }],
    ['a password', { user: { password: SECRET } }],
    ['platform credentials', { credentials: { accessToken: SECRET, accessSecret: SECRET } }],
    ['an X app secret', { account: { appKey: SECRET, appSecret: SECRET } }],
    ['an authorization header', { headers: { authorization: `Bearer ${SECRET}` } }],
    ['a request cookie', { request: { headers: { cookie: `kk_session=${SECRET}` } } }],
    ['a set-cookie header', { response: { headers: { 'set-cookie': `kk_session=${SECRET}` } } }],
    ['the encryption key', { encryptionKey: SECRET }],
    ['the environment', { env: { DISCORD_TOKEN: SECRET, KIKIMIMI_ENCRYPTION_KEY: SECRET } }],
    ['a Bot token inside a message', { error: `401 for Authorization: Bot ${SECRET}` }],
    [
      'a URL password inside an error',
      { error: { message: `connect to redis://:${SECRET}@cache:6379 failed` } },
    ],
  ])('never writes %s', (_name, object) => {
    const { log, lines } = capture();
    log.warn(object, 'something happened');
    expect(lines).toHaveLength(1);
    expect(JSON.stringify(lines[0])).not.toContain(SECRET);
    expect(lines[0]?.msg).toBe('something happened');
  });

  it('masks the password of a connection string but keeps where it points', () => {
    const { log, lines } = capture();
    log.info({
      databaseUrl: `postgres://kikimimi:${SECRET}@db:5432/kikimimi`,
      redisUrl: 'redis://cache:6379',
    });
    expect(lines[0]).toMatchObject({
      databaseUrl: 'postgres://kikimimi:***@db:5432/kikimimi',
      redisUrl: 'redis://cache:6379',
    });
  });

  it('masks secrets in the message text and in an Error', () => {
    const { log, lines } = capture();
    log.error(
      { err: new Error(`auth failed for postgres://u:${SECRET}@db/k`) },
      `retrying postgres://u:${SECRET}@db/k`,
    );
    const line = JSON.stringify(lines[0]);
    expect(line).not.toContain(SECRET);
    expect(lines[0]?.msg).toBe('retrying postgres://u:***@db/k');
    expect(lines[0]).toMatchObject({ err: { message: 'auth failed for postgres://u:***@db/k' } });
  });

  it('leaves ordinary fields alone', () => {
    const { log, lines } = capture();
    log.info({ matchId: 'm-1', attempts: 3, nested: { queue: 'reply' } }, 'job done');
    expect(lines[0]).toMatchObject({ name: 'test', matchId: 'm-1', attempts: 3, nested: { queue: 'reply' } });
  });
});
