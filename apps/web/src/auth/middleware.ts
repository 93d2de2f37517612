import type { MiddlewareHandler } from 'hono';
import type { AppEnv, Role } from '../context.ts';
import { addMessages, t } from '../i18n.ts';
import { atLeast, page } from '../layout.ts';

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
