import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { createDb, createRepositories, type DbHandle, migrate, type Repositories } from '@kikimimi/db';
import { createDesk, type JobName } from '@kikimimi/desk';
import { Hono } from 'hono';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createApp } from '../src/app.ts';
import { csrfTokenFor, SESSION_COOKIE } from '../src/auth/session.ts';
import type { AppEnv, Role, SessionUser, WebDeps } from '../src/context.ts';
import { createLocalLiveMatches } from '../src/live.ts';

/** The test server (trust auth); override with KIKIMIMI_TEST_DATABASE_URL. */
export const TEST_DATABASE_URL =
  process.env.KIKIMIMI_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A password every test user gets unless told otherwise (≥ 12 characters). */
export const TEST_PASSWORD = 'test password 0123456789';

export interface TestAppOptions {
  /** Cookies with the Secure flag. */
  readonly secureCookies?: boolean;
  /** The clock (default: the real one). */
  readonly now?: () => Date;
  /** What /healthz reports (default: PostgreSQL really asked, Redis up). */
  readonly health?: WebDeps['health'];
  /** Mounted at /admin/queues (default: a stand-in answering "bull-board"). */
  readonly bullBoard?: Hono | null;
  /** Log level of the captured log (default: debug, so tests see everything that is logged). */
  readonly logLevel?: string;
  /** How long the dashboard's figures are reused (default: the console's default, 60 s). */
  readonly dashboardCacheMs?: number;
  /** Called with the app before the routes run, e.g. to add test-only routes. */
  readonly extend?: (app: Hono<AppEnv>) => void;
  /** Settings of the console's collaborators (trusted proxies, session lifetime, …), over the defaults. */
  readonly deps?: Partial<
    Pick<WebDeps, 'trustedProxies' | 'sessionMaxAgeSeconds' | 'metricsToken' | 'allowPrivateNetworks'>
  >;
}

export interface TestUser extends SessionUser {
  readonly password: string;
}

/** A signed-in browser: its session cookie and the CSRF token its forms carry. */
export interface TestSession {
  readonly user: TestUser;
  /** `kk_session=…`, for a Cookie header. */
  readonly cookie: string;
  readonly csrf: string;
}

export interface RequestOptions {
  readonly method?: string;
  /** A form body (application/x-www-form-urlencoded); `_csrf` is added unless `csrf: false`. */
  readonly form?: Record<string, string | readonly string[]>;
  /** A JSON body; the CSRF token goes into `X-CSRF-Token` unless `csrf: false`. */
  readonly json?: unknown;
  /** Signed in with a (cached) user of this role, or with this session; default: signed out. */
  readonly as?: Role | TestSession;
  /** `false`: send no CSRF token; a string: send this one instead. */
  readonly csrf?: false | string;
  readonly headers?: Record<string, string>;
}

export interface EnqueuedJob {
  readonly queue: JobName;
  readonly data: Record<string, unknown>;
  readonly jobId: string | undefined;
}

/** A response with its body read. */
export interface BrowserResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly location: string | null;
  readonly text: string;
}

/**
 * A browser without JavaScript: keeps cookies between requests and puts the CSRF token of the last
 * page it saw into the forms it posts (as a real form would).
 */
export interface TestBrowser {
  readonly cookies: Map<string, string>;
  /** The `_csrf` of the last page seen ('' before any). */
  readonly csrf: string;
  request(
    path: string,
    options?: {
      method?: string;
      form?: Record<string, string>;
      csrf?: false | string;
      headers?: Record<string, string>;
    },
  ): Promise<BrowserResponse>;
}

export interface TestApp {
  readonly app: Hono<AppEnv>;
  readonly deps: WebDeps;
  readonly repos: Repositories;
  readonly db: DbHandle;
  /** The PostgreSQL schema of this app (dropped by close). */
  readonly schema: string;
  /** Jobs relayed from the outbox to the queues, in order. */
  readonly enqueued: EnqueuedJob[];
  /** How many times publishConfigChanged was called so far. */
  readonly published: number;
  /** Everything logged so far (JSON lines). */
  logs(): string;
  /** A new user (unique username unless given) with TEST_PASSWORD. */
  createUser(role: Role, options?: { username?: string; password?: string }): Promise<TestUser>;
  /** A new user of `role`, signed in (a real session). */
  login(role: Role): Promise<TestSession>;
  /** A new user of `role` and an API token of theirs (`kk_…`). */
  apiToken(role: Role): Promise<string>;
  /** A new cookie-keeping browser (to go through /setup, /login, … as a person would). */
  browser(env?: unknown): TestBrowser;
  /** `app.request` with cookies, CSRF token and bodies handled (see RequestOptions). */
  request(path: string, options?: RequestOptions): Promise<Response>;
  /** Drops the schema and closes the pool. */
  close(): Promise<void>;
}

/** An in-memory limiter with the Redis one's semantics (window from the first hit). */
export function memoryLimiter(now: () => Date): WebDeps['limiter'] {
  const counters = new Map<string, { count: number; until: number }>();
  return {
    async hit(key, windowSeconds) {
      const at = now().getTime();
      const current = counters.get(key);
      if (current === undefined || current.until <= at) {
        counters.set(key, { count: 1, until: at + windowSeconds * 1000 });
        return 1;
      }
      current.count += 1;
      return current.count;
    },
    async release(key) {
      const current = counters.get(key);
      if (current !== undefined && current.count > 0) current.count -= 1;
    },
    async reset(key) {
      counters.delete(key);
    },
  };
}

/**
 * The whole console (createApp) on its own PostgreSQL schema, with recorded queues and pub/sub, an
 * in-memory rate limiter and a captured log. Call close() in afterAll.
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const schema = `test_web_${randomBytes(5).toString('hex')}`;
  const db = createDb({ connectionString: TEST_DATABASE_URL, schema, max: 5 });
  await migrate(db.pool);
  const repos = createRepositories(db.db, { encryptionKey: randomBytes(32).toString('base64') });
  const now = options.now ?? (() => new Date());

  const enqueued: EnqueuedJob[] = [];
  let published = 0;
  let logText = '';
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logText += String(chunk);
      callback();
    },
  });

  const bullBoard =
    options.bullBoard === undefined
      ? new Hono()
          .get('/', (c) => c.text('bull-board'))
          .post('/api/queues/:name/pause', (c) => c.json({ ok: true }))
      : options.bullBoard;
  const deps: WebDeps = {
    repos,
    desk: createDesk({ repos, now }),
    // The outbox relayed into `enqueued` (the real relay puts the same jobs on BullMQ queues).
    async relayOutbox() {
      await repos.outbox.relay(1_000, async (jobs) => {
        for (const job of jobs)
          enqueued.push({ queue: job.queue as JobName, data: { ...job.payload }, jobId: job.jobId });
      });
      return true;
    },
    async publishConfigChanged() {
      published += 1;
    },
    limiter: memoryLimiter(now),
    live: createLocalLiveMatches(),
    now,
    log: pino({ level: options.logLevel ?? 'debug' }, sink),
    metrics: new Registry(),
    secureCookies: options.secureCookies ?? false,
    ...(options.dashboardCacheMs === undefined ? {} : { dashboardCacheMs: options.dashboardCacheMs }),
    ...(bullBoard === null ? {} : { bullBoard }),
    health:
      options.health ??
      (async () => {
        try {
          await db.pool.query('SELECT 1');
          return { db: true, redis: true };
        } catch {
          return { db: false, redis: true };
        }
      }),
    // The platform stand-ins listen on 127.0.0.1: as an operator on a private network would, allow it.
    allowPrivateNetworks: true,
    ...options.deps,
  };
  const app = createApp(deps);
  options.extend?.(app);

  let seq = 0;
  const createUser = async (
    role: Role,
    user: { username?: string; password?: string } = {},
  ): Promise<TestUser> => {
    seq += 1;
    const username = user.username ?? `${role}${seq}-${randomBytes(2).toString('hex')}`;
    const password = user.password ?? TEST_PASSWORD;
    const created = await repos.users.create(
      { username, password, role },
      { kind: 'system', id: 'test', name: 'test' },
    );
    return { id: created.id, username: created.username, role, password };
  };

  const login = async (role: Role): Promise<TestSession> => {
    const user = await createUser(role);
    const session = await repos.sessions.create(user.id, 12 * 3600, now());
    return { user, cookie: `${SESSION_COOKIE}=${session.token}`, csrf: csrfTokenFor(session.csrfSecret) };
  };

  const sessions = new Map<Role, Promise<TestSession>>();
  const sessionFor = (as: Role | TestSession): Promise<TestSession> => {
    if (typeof as !== 'string') return Promise.resolve(as);
    let session = sessions.get(as);
    if (session === undefined) {
      session = login(as);
      sessions.set(as, session);
    }
    return session;
  };

  return {
    app,
    deps,
    repos,
    db,
    schema,
    enqueued,
    get published() {
      return published;
    },
    logs: () => logText,
    createUser,
    login,
    async apiToken(role) {
      const user = await createUser(role);
      return (await repos.apiTokens.create(user.id, 'test', { kind: 'system', id: 'test', name: 'test' }))
        .token;
    },
    browser(env?: unknown) {
      const cookies = new Map<string, string>();
      let csrf = '';
      return {
        cookies,
        get csrf() {
          return csrf;
        },
        async request(path, browserOptions = {}) {
          const headers = new Headers(browserOptions.headers);
          if (cookies.size > 0) headers.set('Cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
          let body: string | undefined;
          if (browserOptions.form !== undefined) {
            const params = new URLSearchParams(browserOptions.form);
            const token = browserOptions.csrf === false ? undefined : (browserOptions.csrf ?? csrf);
            if (token !== undefined && !params.has('_csrf')) params.set('_csrf', token);
            body = params.toString();
            headers.set('Content-Type', 'application/x-www-form-urlencoded');
          }
          const method = browserOptions.method ?? (body === undefined ? 'GET' : 'POST');
          const response = await app.request(
            path,
            { method, headers, ...(body === undefined ? {} : { body }) },
            env,
          );
          for (const header of response.headers.getSetCookie()) {
            const [pair = '', ...attributes] = header.split(';');
            const index = pair.indexOf('=');
            const name = pair.slice(0, index).trim();
            const value = pair.slice(index + 1).trim();
            const gone = value === '' || attributes.some((a) => /^\s*max-age=0\s*$/iu.test(a));
            if (gone) cookies.delete(name);
            else cookies.set(name, value);
          }
          const text = await response.text();
          const token = /name="_csrf" value="([^"]*)"/u.exec(text)?.[1];
          if (token) csrf = token;
          return {
            status: response.status,
            headers: response.headers,
            location: response.headers.get('location'),
            text,
          };
        },
      };
    },
    async request(path, requestOptions = {}) {
      const session = requestOptions.as === undefined ? undefined : await sessionFor(requestOptions.as);
      const headers = new Headers(requestOptions.headers);
      if (session) headers.set('Cookie', [headers.get('Cookie'), session.cookie].filter(Boolean).join('; '));
      const token = requestOptions.csrf === false ? undefined : (requestOptions.csrf ?? session?.csrf);
      let body: string | undefined;
      if (requestOptions.form !== undefined) {
        const params = new URLSearchParams();
        for (const [key, value] of Object.entries(requestOptions.form)) {
          for (const v of typeof value === 'string' ? [value] : value) params.append(key, v);
        }
        if (token !== undefined && !params.has('_csrf')) params.set('_csrf', token);
        body = params.toString();
        headers.set('Content-Type', 'application/x-www-form-urlencoded');
      } else if (requestOptions.json !== undefined) {
        body = JSON.stringify(requestOptions.json);
        headers.set('Content-Type', 'application/json');
        if (token !== undefined && !headers.has('X-CSRF-Token')) headers.set('X-CSRF-Token', token);
      }
      const method = requestOptions.method ?? (body === undefined ? 'GET' : 'POST');
      return app.request(path, { method, headers, ...(body === undefined ? {} : { body }) });
    },
    async close() {
      await db.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await db.close();
    },
  };
}

/** The `name=value` pairs of a response's Set-Cookie headers (a later one wins), for the next request. */
export function cookiesOf(response: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const header of response.headers.getSetCookie()) {
    const [pair] = header.split(';');
    const index = pair?.indexOf('=') ?? -1;
    if (pair && index > 0) out[pair.slice(0, index).trim()] = pair.slice(index + 1).trim();
  }
  return out;
}

/** The `_csrf` value of the first form on a page. */
export function csrfOf(body: string): string {
  const match = /name="_csrf" value="([^"]*)"/u.exec(body);
  if (!match?.[1]) throw new Error('no _csrf field on the page');
  return match[1];
}
