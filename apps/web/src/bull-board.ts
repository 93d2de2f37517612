import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { HonoAdapter } from '@bull-board/hono';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Queue } from 'bullmq';
import { Hono } from 'hono';
import { QUEUES_PATH } from './auth/authenticate.ts';

// bull-board's page asks Google Fonts for its typeface, which our CSP (nothing from elsewhere) blocks:
// the request is left out of the page and the board uses the system's fonts instead.
const EXTERNAL_STYLESHEET = /<link\b[^>]*\bhref="https?:\/\/[^"]*"[^>]*>\s*/gu;
const SYSTEM_FONTS = {
  'font-sans': 'system-ui, -apple-system, "Segoe UI", "Hiragino Sans", "Noto Sans JP", sans-serif',
  'font-mono': 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
};

/**
 * bull-board for the queues at {@link QUEUES_PATH}: titled kikimimi, with a link back to the console,
 * and nothing loaded from elsewhere.
 */
export function createQueueBoard(queues: readonly Queue[]): Hono {
  const serverAdapter = new HonoAdapter(serveStatic).setBasePath(QUEUES_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue)),
    // @bull-board/hono pins its own copy of @bull-board/api: the same interface, another declaration.
    serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    options: {
      uiConfig: {
        boardTitle: 'kikimimi',
        miscLinks: [{ text: '← kikimimi', url: '/inbox' }],
        theme: { light: SYSTEM_FONTS, dark: SYSTEM_FONTS },
      },
    },
  });
  const board = new Hono();
  board.use('*', async (c, next) => {
    // The board's logo links to its home as "<base>/"; served at the base path without the slash.
    if (c.req.method === 'GET' && c.req.path === `${QUEUES_PATH}/`) return c.redirect(QUEUES_PATH, 302);
    await next();
    if (!c.res.headers.get('content-type')?.includes('text/html')) return;
    const page = (await c.res.text()).replace(EXTERNAL_STYLESHEET, '');
    const headers = new Headers(c.res.headers);
    headers.delete('content-length');
    c.res = new Response(page, { status: c.res.status, headers });
  });
  board.route('/', serverAdapter.registerPlugin());
  return board;
}
