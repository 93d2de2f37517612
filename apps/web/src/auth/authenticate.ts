import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { AppEnv } from '../context.ts';
import { t } from '../i18n.ts';
import { page } from '../layout.ts';
import {
  clearSessionCookie,
  csrfTokenFor,
  preSessionSecret,
  SESSION_COOKIE,
  SESSION_MAX_AGE_SECONDS,
  sameToken,
  setSessionCookie,
} from './session.ts';

export const isApiPath = (path: string) => path === '/api' || path.startsWith('/api/');
/** bull-board's own UI posts JSON without our token: there, fetch metadata / Origin alone decide. */
export const QUEUES_PATH = '/admin/queues';
const isQueuesPath = (path: string) => path === QUEUES_PATH || path.startsWith(`${QUEUES_PATH}/`);
/** No page, no cookie: probes. */
const isProbe = (path: string) => path === '/healthz' || path === '/metrics';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/iu;
/**
 * Requests (their contexts: a body limit may replace the raw request) that came with a session cookie
 * that is no longer valid (expired, signed out elsewhere).
 */
const staleSessions = new WeakSet<object>();

/**
 * Who is asking. Under /api an `Authorization: Bearer kk_…` header decides alone (a bad token is a
 * 401, never a fallback to the cookie); otherwise the `kk_session` cookie. Sets `user`, `auth` and
 * `csrfToken` (the session's, or the signed-out double-submit one); a dead session's cookie is cleared.
 */
export function authenticate(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { repos, now } = c.get('deps');
    const path = c.req.path;
    c.set('user', null);
    c.set('auth', null);
    c.set('signedInAt', null);
    c.set('csrfToken', '');
    const authorization = c.req.header('authorization');
    if (isApiPath(path) && authorization !== undefined) {
      const token = BEARER.exec(authorization)?.[1];
      const user = token === undefined ? null : await repos.apiTokens.verify(token, now());
      if (user === null) {
        c.header('WWW-Authenticate', 'Bearer realm="kikimimi"');
        return c.json({ error: 'unauthorized', message: 'the API token is invalid or revoked' }, 401);
      }
      c.set('user', user);
      c.set('auth', 'token');
      await next();
      return;
    }
    const token = getCookie(c, SESSION_COOKIE);
    if (token !== undefined) {
      const session = await repos.sessions.get(token, now(), {
        maxAgeSeconds: c.get('deps').sessionMaxAgeSeconds ?? SESSION_MAX_AGE_SECONDS,
      });
      if (session === null) {
        clearSessionCookie(c);
        staleSessions.add(c);
      } else {
        c.set('user', session.user);
        c.set('auth', 'session');
        c.set('signedInAt', session.createdAt);
        c.set('csrfToken', csrfTokenFor(session.csrfSecret));
        if (session.renewed) setSessionCookie(c, token);
      }
    }
    if (c.get('user') === null && !isApiPath(path) && !isProbe(path)) {
      c.set('csrfToken', csrfTokenFor(preSessionSecret(c)));
    }
    await next();
  };
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const FORM_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data'];

/**
 * True when the browser says the request comes from our own pages. `Sec-Fetch-Site` (every current
 * browser) must be same-origin (or none: typed by the user); without it, an `Origin` header must name
 * this host. Without either (curl, old browsers) only the token decides.
 */
function fromOurOrigin(c: Context<AppEnv>, strict: boolean): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  const origin = c.req.header('origin');
  if (origin === undefined) return !strict;
  try {
    return new URL(origin).host === new URL(c.req.url).host;
  } catch {
    return false;
  }
}

async function submittedToken(c: Context<AppEnv>): Promise<unknown> {
  const header = c.req.header('x-csrf-token');
  if (header !== undefined) return header;
  const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase() ?? '';
  if (!FORM_TYPES.includes(type)) return undefined;
  // Parsed once: Hono caches the form, so the route reads it again for free.
  const body = await c.req.parseBody();
  return body._csrf;
}

/** The 403 of a request that failed the CSRF checks: JSON under /api, else a page. */
function refuseCsrf(c: Context<AppEnv>) {
  return isApiPath(c.req.path)
    ? c.json(
        { error: 'csrf', message: 'missing or wrong CSRF token (X-CSRF-Token) or cross-site request' },
        403,
      )
    : page(c, { title: t(c, 'error.csrf'), body: t(c, 'error.csrfText') as never, status: 403 });
}

/** Whether an unsafe request needs the CSRF checks: not for API tokens, nor signed out under /api. */
const needsCsrfCheck = (c: Context<AppEnv>) =>
  UNSAFE.has(c.req.method) && c.get('auth') !== 'token' && !(c.get('user') === null && isApiPath(c.req.path));

/**
 * The CSRF checks that need no body, run before any body is read: a POST/PUT/PATCH/DELETE the browser
 * says comes from another site is refused at once (bull-board's JSON calls must say they come from
 * our pages). The body limits and the token check come after.
 */
export function crossSiteRefusal(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!needsCsrfCheck(c)) return next();
    if (!fromOurOrigin(c, isQueuesPath(c.req.path))) return refuseCsrf(c);
    await next();
  };
}

/**
 * Refuses every POST/PUT/PATCH/DELETE that is not an API-token request unless it carries the CSRF
 * token (`_csrf` field or `X-CSRF-Token` header); crossSiteRefusal has checked where it comes from.
 * A request whose session just expired is sent to the login instead.
 */
export function csrfProtection(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    // bull-board's UI cannot send our token: its origin alone decides (crossSiteRefusal).
    if (!needsCsrfCheck(c) || isQueuesPath(c.req.path)) return next();
    if (!sameToken(await submittedToken(c), c.get('csrfToken'))) {
      // A form of a session that has just ended (its token was that session's): sign in again.
      if (c.get('user') === null && staleSessions.has(c) && !isApiPath(c.req.path))
        return c.redirect('/login', 303);
      return refuseCsrf(c);
    }
    await next();
  };
}
