import { randomBytes } from 'node:crypto';
import { organizationTimeZone } from '@kikimimi/rules';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie } from 'hono/cookie';
import { HTTPException } from 'hono/http-exception';
import { routePath } from 'hono/route';
import { secureHeaders } from 'hono/secure-headers';
import { Counter, Histogram, type Registry } from 'prom-client';
import { authenticate, crossSiteRefusal, csrfProtection, QUEUES_PATH } from './auth/authenticate.ts';
import { requireRole } from './auth/middleware.ts';
import { LANG_COOKIE, setLangCookie } from './auth/session.ts';
import type { AppEnv, WebDeps } from './context.ts';
import { detectLang } from './i18n.ts';
import { authRoutes } from './routes/auth.ts';
import { configApi, configRoutes } from './routes/config/index.ts';
import { effectApi, effectRoutes } from './routes/effect/index.ts';
import { createDashboardCache } from './routes/inbox/dashboard-cache.ts';
import { inboxApi, inboxRoutes } from './routes/inbox/index.ts';
import { statsOf } from './routes/inbox/shared.ts';
import { surgeRoutes } from './routes/surges.ts';
import { clientError, notFound, serverError, systemRoutes } from './routes/system.ts';

/** How long the dashboard's figures are reused by default (DASHBOARD_CACHE_SECONDS; see dashboard-cache.ts). */
export const DASHBOARD_CACHE_MS = 60_000;

/** Forms and JSON bodies above this are refused (413) before anyone reads them. */
export const MAX_BODY_BYTES = 5 * 1024 * 1024;
/** What a signed-out visitor may send (sign-in and setup forms are a few hundred bytes). */
export const SIGNED_OUT_MAX_BODY_BYTES = 16 * 1024;

/**
 * Bodies above the limit are refused (413): by their Content-Length before anything is read, else
 * while reading. Signed-out visitors may send only small ones: /login and /setup are open to anyone,
 * and reading megabytes of form per request from strangers stalls the console (and the worker beside
 * it). Runs after authentication (which reads no body) and crossSiteRefusal.
 */
function requestBodyLimit(): MiddlewareHandler<AppEnv> {
  const onError = (c: Context) => clientError(c as Context<AppEnv>, 413);
  const signedIn = bodyLimit({ maxSize: MAX_BODY_BYTES, onError });
  const signedOut = bodyLimit({ maxSize: SIGNED_OUT_MAX_BODY_BYTES, onError });
  return (c, next) => (c.get('user') === null ? signedOut(c, next) : signedIn(c, next));
}

/** The HTTP metrics on the console's registry (created once per registry). */
function httpMetrics(registry: Registry) {
  const requests =
    (registry.getSingleMetric('kikimimi_http_requests_total') as
      | Counter<'method' | 'route' | 'status'>
      | undefined) ??
    new Counter({
      name: 'kikimimi_http_requests_total',
      help: 'HTTP requests to the web console, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    });
  const duration =
    (registry.getSingleMetric('kikimimi_http_request_duration_seconds') as
      | Histogram<'method' | 'route' | 'status'>
      | undefined) ??
    new Histogram({
      name: 'kikimimi_http_request_duration_seconds',
      help: 'Time to answer HTTP requests to the web console, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
  return { requests, duration };
}

/** Every request: counted and timed by route pattern (never by raw path: no unbounded labels, no ids). */
function observe(deps: WebDeps): MiddlewareHandler<AppEnv> {
  const metrics = httpMetrics(deps.metrics);
  return async (c, next) => {
    const start = performance.now();
    await next();
    const status = c.res.status;
    const route = status === 404 ? '(unmatched)' : routePath(c);
    const labels = { method: c.req.method, route, status: String(status) };
    metrics.requests.inc(labels);
    metrics.duration.observe(labels, (performance.now() - start) / 1000);
    deps.log.debug(
      { method: c.req.method, route, status, ms: Math.round(performance.now() - start) },
      'request',
    );
  };
}

/**
 * Content-Security-Policy: nothing from elsewhere; inline `<script>`/`<style>` only with this
 * response's nonce (layout.ts puts it on its own); style attributes allowed (harmless, used by pages).
 * bull-board's bundled UI gets inline styles too (it brings its own).
 */
function securityHeaders(): MiddlewareHandler<AppEnv> {
  const nonce = (c: Context) => `'nonce-${(c as Context<AppEnv>).get('nonce')}'`;
  const common = {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'", nonce],
    imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    fontSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  };
  const options = {
    xFrameOptions: 'DENY',
    referrerPolicy: 'same-origin',
    strictTransportSecurity: false as boolean | string,
    crossOriginEmbedderPolicy: false,
  } as const;
  const pages = secureHeaders({
    ...options,
    contentSecurityPolicy: { ...common, styleSrc: ["'self'", nonce], styleSrcAttr: ["'unsafe-inline'"] },
  });
  const queues = secureHeaders({
    ...options,
    contentSecurityPolicy: { ...common, styleSrc: ["'self'", "'unsafe-inline'"] },
  });
  return async (c, next) => {
    c.set('nonce', randomBytes(16).toString('base64'));
    const path = c.req.path;
    const handler = path === QUEUES_PATH || path.startsWith(`${QUEUES_PATH}/`) ? queues : pages;
    await handler(c, async () => {
      await next();
    });
    // Pages and API answers carry CSRF tokens, personal data and, once, new API tokens: never cached.
    const type = c.res.headers.get('Content-Type') ?? '';
    if (!c.res.headers.has('Cache-Control') && !/javascript|text\/css|image\/|font\//u.test(type)) {
      c.res.headers.set('Cache-Control', 'no-store');
    }
    if (c.get('deps').secureCookies) {
      c.res.headers.set('Strict-Transport-Security', 'max-age=15552000; includeSubDomains');
    }
  };
}

/** The language: ?lang= (remembered in the `lang` cookie), the cookie, then Accept-Language. */
function language(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const query = c.req.query('lang');
    c.set('lang', detectLang(query, getCookie(c, LANG_COOKIE), c.req.header('accept-language')));
    if (query === 'ja' || query === 'en') setLangCookie(c, query);
    await next();
  };
}

/**
 * The web console. Middleware, in order: deps → metrics → security headers (nonce, CSP) → language →
 * authentication (API token under /api, else session; reads no body) → cross-site refusal (fetch
 * metadata / Origin, before any body is read) → body limit (small for signed-out visitors) → CSRF
 * token → routes.
 */
export function createApp(deps: WebDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.use(async (c, next) => {
    c.set('deps', deps);
    c.set('user', null);
    c.set('auth', null);
    c.set('signedInAt', null);
    c.set('csrfToken', '');
    c.set('timeZone', 'UTC');
    await next();
  });
  app.use(observe(deps));
  app.use(securityHeaders());
  app.use(language());
  app.use(authenticate());
  // The organisation's one clock, for every time a signed-in user is shown.
  app.use(async (c, next) => {
    if (c.get('user') !== null)
      c.set('timeZone', organizationTimeZone((await deps.repos.config.current()).config));
    await next();
  });
  app.use(crossSiteRefusal());
  app.use(requestBodyLimit());
  app.use(csrfProtection());

  app.route('/', systemRoutes());
  app.route('/', authRoutes());

  app.use(QUEUES_PATH, requireRole('admin'));
  app.use(`${QUEUES_PATH}/*`, requireRole('admin'));
  if (deps.bullBoard) app.route(QUEUES_PATH, deps.bullBoard as unknown as Hono<AppEnv>);

  app.route('/', configRoutes());
  app.route('/api', configApi());
  const dashboards = createDashboardCache({
    source: statsOf(deps.repos),
    now: deps.now,
    ttlMs: deps.dashboardCacheMs ?? DASHBOARD_CACHE_MS,
    onError: (error, query) =>
      deps.log.warn({ err: error, ...query }, 'dashboard: refreshing the figures failed; showing older ones'),
  });
  app.route('/', inboxRoutes(dashboards));
  app.route('/', surgeRoutes(dashboards));
  app.route('/api', inboxApi(dashboards));
  app.route('/', effectRoutes());
  app.route('/api', effectApi());

  app.notFound((c) => notFound(c));
  app.onError((error, c) => {
    if (!c.get('lang')) c.set('lang', 'ja');
    if (error instanceof HTTPException && error.status < 500) {
      const status = error.status;
      if (status === 404) return notFound(c);
      if (status === 400 || status === 413 || status === 415 || status === 422) return clientError(c, status);
      return error.getResponse();
    }
    const ref = randomBytes(6).toString('hex');
    deps.log.error({ err: error, ref, method: c.req.method, path: c.req.path }, 'request failed');
    return serverError(c, ref);
  });

  return app;
}
