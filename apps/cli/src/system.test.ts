import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The whole system started the way `npm start` starts it (the demo world on, nothing configured), and
 * driven only through HTTP: the first admin is created, matches arrive, a reply is made through the
 * JSON API and recorded as sent.
 */
const BIN = fileURLToPath(new URL('../bin/kikimimi.js', import.meta.url));
const id = randomBytes(4).toString('hex');
const DATABASE = `kk_system_${id}`;
const SERVER = process.env.TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
const PREFIX = `kk-system-${id}`;
let child: ChildProcess | undefined;
let dataDir: string | undefined;

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
  }
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
  await admin.end();
  const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** A tiny cookie-keeping HTTP client. */
function browser(base: string) {
  const cookies = new Map<string, string>();
  const request = async (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (cookies.size > 0) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(`${base}${path}`, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair?.indexOf('=') ?? -1;
      if (pair && at > 0) cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return response;
  };
  const csrfOf = async (path: string) => {
    const text = await (await request(path)).text();
    const found = /name="_csrf" value="([^"]+)"/u.exec(text);
    if (!found?.[1]) throw new Error(`no CSRF field on ${path}`);
    return found[1];
  };
  return { request, csrfOf };
}

async function until<T>(
  check: () => Promise<T | null | undefined | false>,
  ms: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('kikimimi start (the demo world), end to end over HTTP', () => {
  it('fills the inbox, takes a reply through the JSON API and records it as sent', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kk-system-'));
    const port = await freePort();
    child = spawn(process.execPath, ['--max-semi-space-size=8', BIN, 'start'], {
      env: {
        PATH: process.env.PATH ?? '',
        DATABASE_URL: `${SERVER}/${DATABASE}`,
        REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
        KIKIMIMI_REDIS_PREFIX: PREFIX,
        KIKIMIMI_DATA_DIR: dataDir,
        KIKIMIMI_DEMO_RATE: '600',
        PORT: String(port),
        HOST: '127.0.0.1',
        METRICS_PORT: '0',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kikimimi start did not come up: ${stderr}`)), 60_000);
      createInterface({ input: child?.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        const url = /open (http:\/\/\S+)/u.exec(line)?.[1];
        if (url) {
          clearTimeout(timer);
          resolve(url);
        }
      });
      child?.once('exit', (code) => reject(new Error(`kikimimi start exited with ${code}: ${stderr}`)));
    });

    const web = browser(base);
    // A fresh installation sends the visitor to the setup of the first admin.
    expect((await web.request('/')).headers.get('location')).toMatch(/\/setup$/u);
    const setupCsrf = await web.csrfOf('/setup');
    const setup = await web.request('/setup', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        _csrf: setupCsrf,
        username: 'admin',
        password: 'correct horse battery staple',
        confirm: 'correct horse battery staple',
      }),
    });
    expect(setup.status).toBe(303);
    const csrf = await web.csrfOf('/inbox');

    type ApiMatch = { id: string; platform: string; status: string; suppressed: boolean };
    const match = await until(
      async () => {
        const response = await web.request('/api/matches?status=new&platform=x&limit=50');
        if (!response.ok) return null;
        const body = (await response.json()) as { items: ApiMatch[] };
        return body.items.find((m) => !m.suppressed) ?? null;
      },
      60_000,
      'a demo match on X in the inbox',
    );

    const replied = await web.request(`/api/matches/${match.id}/reply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify({ text: 'ご連絡ありがとうございます。しおりノートサポートです。' }),
    });
    expect(replied.status).toBe(200);

    const detail = await until(
      async () => {
        const body = (await (await web.request(`/api/matches/${match.id}`)).json()) as {
          match: { status: string };
          reply: { state: string; url: string | null } | null;
        };
        return body.reply?.state === 'sent' ? body : null;
      },
      30_000,
      'the reply to be sent',
    );
    expect(detail.match.status).toBe('replied');
    expect(detail.reply?.url).toMatch(/^https:\/\/x\.com\//u);

    // A second reply to the same match is refused: one public reply per match.
    const again = await web.request(`/api/matches/${match.id}/reply`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify({ text: 'もう一度' }),
    });
    expect(again.status).toBe(409);

    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 120_000);
});
