import type { SurgeRecord } from '@kikimimi/db';
import { createSurgeDesk, failureMessage, problemMessage, type SurgeOutcome } from '@kikimimi/desk';
import { Hono } from 'hono';
import { html } from 'hono/html';
import { requireRole, requireUser } from '../auth/middleware.ts';
import type { AppEnv } from '../context.ts';
import { addMessages, t } from '../i18n.ts';
import { atLeast, csrfField, page } from '../layout.ts';
import { deskActor } from './inbox/actions.ts';
import type { DashboardCache } from './inbox/dashboard-cache.ts';
import { type C, depsOf, timeTag, userOf } from './inbox/shared.ts';

/*
 * Surges in the console: the list, and a surge's page with its size, rate, examples, members and the
 * decisions on the whole surge (the same surge desk as the Discord buttons).
 */

addMessages({
  'surges.title': { ja: '急増', en: 'Surges' },
  'surges.none': { ja: '急増はまだありません。', en: 'No surges yet.' },
  'surges.count': { ja: '件数', en: 'Posts' },
  'surges.watch': { ja: 'ウォッチ', en: 'Watch' },
  'surges.status': { ja: '状態', en: 'Status' },
  'surges.open': { ja: '継続中', en: 'open' },
  'surges.closed': { ja: '終了', en: 'closed' },
  'surges.detected': { ja: '検出', en: 'Detected' },
  'surges.first': { ja: '最初', en: 'First' },
  'surges.latest': { ja: '最新', en: 'Latest' },
  'surges.handling': { ja: '対応', en: 'Handling' },
  'surges.examples': { ja: '代表的な投稿', en: 'Representative posts' },
  'surges.members': { ja: 'メンバー（最初の 200 件）', en: 'Members (first 200)' },
  'surges.perMinute': { ja: '件数／分', en: 'Posts per minute' },
  'surges.announcements': { ja: '告知', en: 'Announcements' },
  'surges.announce': {
    ja: '告知を投稿（各アカウントに1回）',
    en: 'Post the announcement (once per account)',
  },
  'surges.dismiss': { ja: 'すべて対応不要にする', en: 'Dismiss all' },
  'surges.close': { ja: '急増を終了する', en: 'Close the surge' },
  'surges.done': { ja: '完了しました。', en: 'Done.' },
  'surges.notFound': { ja: 'その急増はありません。', en: 'No such surge.' },
  'surges.one': { ja: '急増 {count} 件', en: 'Surge of {count}' },
});

const ACTIONS = ['announce', 'dismiss', 'close'] as const;
type Action = (typeof ACTIONS)[number];

/** A surge's page in the console. */
export const surgeHref = (surge: Pick<SurgeRecord, 'id'>) => `/surges/${encodeURIComponent(surge.id)}`;

/** A badge naming a surge and its size, linking to its page (the inbox can show it next to a match). */
export const surgeBadge = (c: C, surge: Pick<SurgeRecord, 'id' | 'count'>) =>
  html`<a class="badge" href="${surgeHref(surge)}">🌊 ${t(c, 'surges.one', { count: surge.count })}</a>`;

async function surgePage(
  c: C,
  id: string,
  flash?: { kind: 'ok' | 'error'; text: string },
  status?: 404 | 409 | 422 | 403,
) {
  const { repos } = depsOf(c);
  const surge = await repos.surges.get(id);
  if (surge === null)
    return page(c, {
      title: t(c, 'surges.title'),
      body: html`<p>${t(c, 'surges.notFound')}</p>`,
      status: 404,
    });
  const [members, announcements] = await Promise.all([
    repos.surges.members(id, 200),
    repos.surges.announcements(id),
  ]);
  const tz = c.get('timeZone');
  const mayDecide = atLeast(userOf(c).role, 'editor');
  const form = (action: Action, label: string, extra: unknown = '') =>
    html`<form method="post" action="${surgeHref(surge)}/${action}">${csrfField(c)}${extra}<button type="submit" class="${action === 'close' ? 'danger' : action === 'dismiss' ? 'secondary' : ''}">${label}</button></form>`;
  const body = html`
<div class="card">
<p><strong>${surge.count}</strong> · ${t(c, `surges.${surge.status}`)} · ${surge.watchId}</p>
<p>${t(c, 'surges.first')}: ${timeTag(surge.firstAt, tz)} · ${t(c, 'surges.latest')}: ${timeTag(surge.lastAt, tz)}</p>
<p>${Object.entries(surge.intents).map(([k, n]) => html`<span class="badge">${k} ${n}</span> `)}
${Object.entries(surge.platforms).map(([k, n]) => html`<span class="badge">${k} ${n}</span> `)}</p>
<p>${t(c, 'surges.handling')}: ${surge.handling.join(', ') || '—'}</p>
</div>
<h2>${t(c, 'surges.perMinute')}</h2>
<table><tr>${surge.perMinute.slice(-30).map((p) => html`<td title="${new Date(p.minute).toISOString()}">${p.count}</td>`)}</tr></table>
<h2>${t(c, 'surges.examples')}</h2>
<ul>${surge.examples.map((e) => html`<li>${e.text}</li>`)}</ul>
<h2>${t(c, 'surges.announcements')}</h2>
<ul>${announcements.map((a) => html`<li>${a.platform}: ${a.state} ${a.url ? html`<a href="${a.url}">${a.url}</a>` : ''} ${a.error ?? ''}</li>`)}</ul>
${
  mayDecide
    ? html`<div class="card">
${form('announce', t(c, 'surges.announce'), html`<label for="text">${t(c, 'surges.announcements')}</label><textarea id="text" name="text" required maxlength="10000"></textarea>`)}
<p>${form('dismiss', t(c, 'surges.dismiss'))}</p>
${surge.status === 'open' ? form('close', t(c, 'surges.close')) : ''}
</div>`
    : ''
}
<h2>${t(c, 'surges.members')}</h2>
<table>${members.map((m) => html`<tr><td><a href="/inbox/${m.id}">${m.status}</a></td><td>${m.platform}</td><td>${m.text}</td></tr>`)}</table>`;
  return page(c, {
    title: t(c, 'surges.one', { count: surge.count }),
    body,
    ...(flash ? { flash } : {}),
    ...(status ? { status } : {}),
  });
}

/** `dashboards`: the dashboard's cached figures, dropped after a decision (they mark surges' handling). */
export function surgeRoutes(dashboards?: Pick<DashboardCache, 'clear'>): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/surges', requireUser, async (c) => {
    const surges = await depsOf(c).repos.surges.list({ limit: 200 });
    const tz = c.get('timeZone');
    const body =
      surges.length === 0
        ? html`<p>${t(c, 'surges.none')}</p>`
        : html`<table><tr><th>${t(c, 'surges.detected')}</th><th>${t(c, 'surges.count')}</th><th>${t(c, 'surges.watch')}</th><th>${t(c, 'surges.status')}</th><th>${t(c, 'surges.handling')}</th><th>${t(c, 'surges.examples')}</th></tr>
${surges.map((s) => html`<tr><td><a href="${surgeHref(s)}">${timeTag(s.detectedAt, tz)}</a></td><td>${s.count}</td><td>${s.watchId}</td><td>${t(c, `surges.${s.status}`)}</td><td>${s.handling.join(', ') || '—'}</td><td>${s.examples[0]?.text ?? ''}</td></tr>`)}</table>`;
    return page(c, { title: t(c, 'surges.title'), body });
  });

  app.get('/surges/:id', requireUser, (c) => surgePage(c, c.req.param('id')));

  for (const action of ACTIONS) {
    app.post(`/surges/:id/${action}`, requireRole('editor'), async (c) => {
      const id = c.req.param('id');
      const deps = depsOf(c);
      const desk = createSurgeDesk({ repos: deps.repos, now: deps.now });
      const actor = deskActor(userOf(c));
      const form = await c.req.parseBody();
      const outcome: SurgeOutcome =
        action === 'announce'
          ? await desk.announce(actor, id, { text: typeof form.text === 'string' ? form.text : '' })
          : action === 'dismiss'
            ? await desk.dismissAll(actor, id, {})
            : await desk.close(actor, id);
      if (outcome.ok) {
        dashboards?.clear();
        await deps.relayOutbox();
        return c.redirect(`${surgeHref(outcome.surge)}?done=${action}`, 303);
      }
      const lang = c.get('lang');
      const text = [
        failureMessage(outcome, lang),
        ...(outcome.code === 'invalid' ? outcome.problems.map((p) => problemMessage(p, lang)) : []),
      ].join(' ');
      const status =
        outcome.code === 'not_found'
          ? 404
          : outcome.code === 'forbidden'
            ? 403
            : outcome.code === 'invalid'
              ? 422
              : 409;
      return surgePage(c, id, { kind: 'error', text }, status);
    });
  }
  return app;
}
