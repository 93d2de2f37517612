import type { Context } from 'hono';
import { Hono } from 'hono';
import { html } from 'hono/html';
import { isApiPath } from '../auth/authenticate.ts';
import { sameToken } from '../auth/session.ts';
import type { AppEnv } from '../context.ts';
import { addMessages, t } from '../i18n.ts';
import { page } from '../layout.ts';

addMessages({
  'error.notFound': { ja: 'ページが見つかりません', en: 'Page not found' },
  'error.notFoundText': {
    ja: 'お探しのページは存在しないか、移動しました。',
    en: 'The page you are looking for does not exist or has moved.',
  },
  'error.server': { ja: 'エラーが発生しました', en: 'Something went wrong' },
  'error.serverText': {
    ja: '処理中に問題が発生しました。時間をおいてもう一度お試しください。続く場合は管理者に連絡してください（参照番号: {ref}）。',
    en: 'The request could not be completed. Please try again in a moment; if it keeps happening, tell an admin (reference: {ref}).',
  },
  'error.badRequest': { ja: 'リクエストを処理できません', en: 'The request cannot be processed' },
  'error.badRequestText': {
    ja: '送信された内容を処理できませんでした（{status}）。',
    en: 'What was sent could not be processed ({status}).',
  },
  'error.csrf': { ja: 'リクエストを確認できません', en: 'Request not verified' },
  'error.csrfText': {
    ja: 'フォームの有効期限が切れたか、別のサイトから送信されました。ページを再読み込みしてもう一度お試しください。',
    en: 'The form expired or was sent from another site. Reload the page and try again.',
  },
  'error.home': { ja: 'トップへ戻る', en: 'Back to the start' },
});

/** The 404 of a page (in the user's language) or of the API (JSON). */
export function notFound(c: Context<AppEnv>): Response | Promise<Response> {
  if (isApiPath(c.req.path)) return c.json({ error: 'not_found', message: 'no such resource' }, 404);
  return page(c, {
    title: t(c, 'error.notFound'),
    body: html`<p>${t(c, 'error.notFoundText')}</p><p><a href="/">${t(c, 'error.home')}</a></p>`,
    status: 404,
  });
}

/** A 4xx other than 404 raised by a middleware (a body too large, a malformed form). */
export function clientError(c: Context<AppEnv>, status: 400 | 413 | 415 | 422): Response | Promise<Response> {
  if (isApiPath(c.req.path))
    return c.json({ error: 'bad_request', message: `request refused (${status})` }, status);
  return page(c, {
    title: t(c, 'error.badRequest'),
    body: html`<p>${t(c, 'error.badRequestText', { status })}</p><p><a href="/">${t(c, 'error.home')}</a></p>`,
    status: status === 415 ? 400 : status,
  });
}

/** The 500: a reference to find the logged error, never the error itself. */
export function serverError(c: Context<AppEnv>, ref: string): Response | Promise<Response> {
  if (isApiPath(c.req.path)) return c.json({ error: 'internal', message: 'internal error', ref }, 500);
  return page(c, {
    title: t(c, 'error.server'),
    body: html`<p>${t(c, 'error.serverText', { ref })}</p><p><a href="/">${t(c, 'error.home')}</a></p>`,
    status: 500,
  });
}

/** `/` (to the setup or the inbox), `/healthz` and `/metrics`. */
export function systemRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/', async (c) => {
    if (c.get('user')) return c.redirect('/inbox', 302);
    const users = await c.get('deps').repos.users.count();
    return c.redirect(users === 0 ? '/setup' : '/inbox', 302);
  });

  // Load balancers and orchestrators: 200 when PostgreSQL and Redis answer, else 503.
  app.get('/healthz', async (c) => {
    let status: { db: boolean; redis: boolean };
    try {
      status = await c.get('deps').health();
    } catch {
      status = { db: false, redis: false };
    }
    const ok = status.db && status.redis;
    return c.json({ status: ok ? 'ok' : 'unavailable', db: status.db, redis: status.redis }, ok ? 200 : 503);
  });

  // Scrapers send METRICS_TOKEN as a bearer token; otherwise (or without one) a signed-in admin.
  app.get('/metrics', async (c) => {
    const { metrics: registry, metricsToken } = c.get('deps');
    const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/iu.exec(c.req.header('authorization') ?? '')?.[1];
    const scraper = metricsToken !== undefined && sameToken(bearer, metricsToken);
    const user = c.get('user');
    if (!scraper && user?.role !== 'admin') {
      if (user) return c.text('forbidden', 403);
      c.header('WWW-Authenticate', 'Bearer realm="metrics"');
      return c.text('unauthorized', 401);
    }
    return c.body(await registry.metrics(), 200, { 'Content-Type': registry.contentType });
  });

  return app;
}
