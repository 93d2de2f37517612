import type { MiddlewareHandler } from 'hono';
import type { AppEnv, Role } from '../context.ts';
import { addMessages, t } from '../i18n.ts';
import { atLeast, page } from '../layout.ts';
import { REAUTH_WINDOW_SECONDS } from './session.ts';

addMessages({
  'error.forbidden': { ja: '権限がありません', en: 'Not allowed' },
  'error.forbiddenText': {
    ja: 'このページには {role} 以上の権限が必要です。管理者に依頼してください。',
    en: 'This page needs the {role} role or higher. Ask an admin.',
  },
});

const isApi = (path: string) => path === '/api' || path.startsWith('/api/');

/**
 * Lets the request through only for a signed-in user (session, or API token under /api) holding at
 * least `role`. Pages redirect to the login; the API answers 401/403 JSON.
 */
export function requireRole(role: Role): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const user = c.get('user');
    const api = isApi(new URL(c.req.url).pathname);
    if (user === null || user === undefined) {
      if (api)
        return c.json(
          { error: 'unauthorized', message: 'sign in or send an API token (Authorization: Bearer …)' },
          401,
        );
      const url = new URL(c.req.url);
      // Only a GET can be replayed after signing in.
      const next = c.req.method === 'GET' ? `?next=${encodeURIComponent(url.pathname + url.search)}` : '';
      return c.redirect(`/login${next}`, 303);
    }
    if (!atLeast(user.role, role)) {
      if (api) return c.json({ error: 'forbidden', message: `this needs the ${role} role` }, 403);
      return page(c, {
        title: t(c, 'error.forbidden'),
        body: t(c, 'error.forbiddenText', { role }) as never,
        status: 403,
      });
    }
    await next();
  };
}

/** Read access: any signed-in user. */
export const requireUser = requireRole('viewer');

/**
 * Lets a session through only when its user gave their password in the last REAUTH_WINDOW_SECONDS
 * (user administration, platform credentials): else pages go to /reauth (then back to `back`, or to
 * the page itself for a GET) and the API answers 403 `reauth`. API tokens are not asked (no person).
 */
export function requireRecentSignIn(back: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const signedInAt = c.get('signedInAt');
    if (c.get('auth') !== 'session' || signedInAt === null) return next();
    const age = (c.get('deps').now().getTime() - signedInAt.getTime()) / 1000;
    if (age <= REAUTH_WINDOW_SECONDS) return next();
    if (isApi(c.req.path))
      return c.json(
        { error: 'reauth', message: 'enter your password again at /reauth (or use an API token)' },
        403,
      );
    const url = new URL(c.req.url);
    const target = c.req.method === 'GET' ? url.pathname + url.search : back;
    return c.redirect(`/reauth?next=${encodeURIComponent(target)}`, 303);
  };
}
