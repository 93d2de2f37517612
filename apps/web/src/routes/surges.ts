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
import { type C, depsOf, LOCAL_TIME_SCRIPT, timeTag, userOf } from './inbox/shared.ts';
import {
  defaultTemplate,
  escalationSection,
  handlingText,
  isWaiting,
  lengthLine,
  membersTable,
  replyForm,
  SURGE_SCRIPT,
  type SurgeReplyFormState,
} from './surge-view.ts';

/*
 * Surges in the console: the list, and a surge's page with its size, rate, examples, members and the
 * decisions on the whole surge (the same surge desk as the Discord buttons): announce, reply to the
 * members (surge-view.ts shows the queue), escalate, dismiss all, close.
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
  'surges.members': { ja: 'メンバー（最初の {count} 件）', en: 'Members (the first {count})' },
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

const ACTIONS = ['announce', 'reply', 'escalate', 'dismiss', 'close'] as const;
type Action = (typeof ACTIONS)[number];

/** Members shown on a surge's page (every member counts; the rest are handled with "everyone waiting"). */
const MEMBERS_SHOWN = 300;
/** Members whose reply the length line measures. */
const MEASURED = 200;

/** A surge's page in the console. */
export const surgeHref = (surge: Pick<SurgeRecord, 'id'>) => `/surges/${encodeURIComponent(surge.id)}`;

/** A badge naming a surge and its size, linking to its page (the inbox can show it next to a match). */
export const surgeBadge = (c: C, surge: Pick<SurgeRecord, 'id' | 'count'>) =>
  html`<a class="badge" href="${surgeHref(surge)}">🌊 ${t(c, 'surges.one', { count: surge.count })}</a>`;

/** The first members still waiting, as matches (what the reply's length is measured over). */
async function waitingSample(
  c: C,
  members: Awaited<ReturnType<ReturnType<typeof depsOf>['repos']['surges']['members']>>,
) {
  const ids = members
    .filter(isWaiting)
    .slice(0, MEASURED)
    .map((m) => m.id);
  return ids.length === 0 ? [] : depsOf(c).repos.matches.list({ ids }, { limit: ids.length });
}

async function surgePage(
  c: C,
  id: string,
  flash?: { kind: 'ok' | 'error'; text: string },
  status?: 404 | 409 | 422 | 403,
  replyState?: SurgeReplyFormState,
) {
  const { repos, now } = depsOf(c);
  const surge = await repos.surges.get(id);
  if (surge === null)
    return page(c, {
      title: t(c, 'surges.title'),
      body: html`<p>${t(c, 'surges.notFound')}</p>`,
      status: 404,
    });
  const [members, announcements, progress, escalations, { config }, settings] = await Promise.all([
    repos.surges.members(id, 100_000),
    repos.surges.announcements(id),
    repos.surges.replyProgress(id),
    repos.surges.escalations(id),
    repos.config.current(),
    repos.discord.get(),
  ]);
  const tz = c.get('timeZone');
  const mayDecide = atLeast(userOf(c).role, 'editor');
  const waiting = members.filter(isWaiting).length;
  // The template asked for (?template=), else the guidance template of the surge's watch.
  const asked = c.req.query('template');
  const template =
    asked === undefined ? defaultTemplate(surge, config) : config.templates.find((tpl) => tpl.id === asked);
  const state: SurgeReplyFormState = replyState ?? {
    text: template?.text ?? '',
    templateId: template?.id ?? '',
    all: true,
    chosen: [],
  };
  const form = (action: Action, label: string, extra: unknown = '') =>
    html`<form method="post" action="${surgeHref(surge)}/${action}">${csrfField(c)}${extra}<button type="submit" class="${action === 'close' ? 'danger' : action === 'dismiss' ? 'secondary' : ''}">${label}</button></form>`;
  const body = html`
<div class="card">
<p><strong>${surge.count}</strong> · ${t(c, `surges.${surge.status}`)} · ${surge.watchId}</p>
<p>${t(c, 'surges.first')}: ${timeTag(surge.firstAt, tz)} · ${t(c, 'surges.latest')}: ${timeTag(surge.lastAt, tz)}</p>
<p>${Object.entries(surge.intents).map(([k, n]) => html`<span class="badge">${k} ${n}</span> `)}
${Object.entries(surge.platforms).map(([k, n]) => html`<span class="badge">${k} ${n}</span> `)}</p>
<p>${t(c, 'surges.handling')}: ${handlingText(c, surge)}</p>
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
${escalationSection(c, { surge, config, settings, escalations })}
<h2>${t(c, 'surges.replies')}</h2>
<p>${t(c, 'surges.replies.counts', { ...progress })}</p>
${mayDecide ? replyForm(c, { surge, config, waiting, sample: await waitingSample(c, members), state }) : ''}
<h2>${t(c, 'surges.members', { count: Math.min(members.length, MEMBERS_SHOWN) })}</h2>
${membersTable(c, members.slice(0, MEMBERS_SHOWN), now(), replyState)}`;
  return page(c, {
    title: t(c, 'surges.one', { count: surge.count }),
    body,
    script: `${LOCAL_TIME_SCRIPT}\n${SURGE_SCRIPT}`,
    ...(flash ? { flash } : {}),
    ...(status ? { status } : {}),
  });
}

/** What the page says after a decision (the redirect carries the counts). */
function doneFlash(c: C): { kind: 'ok'; text: string } | undefined {
  const done = c.req.query('done');
  if (done === undefined) return undefined;
  const count = (name: string) => Number.parseInt(c.req.query(name) ?? '0', 10) || 0;
  if (done === 'reply') {
    const remaining = count('remaining');
    const skipped = count('skipped');
    const parts = [
      t(c, 'surges.done.reply', { queued: count('queued') }),
      ...(skipped > 0 ? [t(c, 'surges.done.skipped', { skipped })] : []),
      ...(remaining > 0 ? [t(c, 'surges.done.remaining', { count: remaining })] : []),
    ];
    // Japanese sentences follow one another without a space.
    return { kind: 'ok', text: parts.join(c.get('lang') === 'ja' ? '' : ' ') };
  }
  if (done === 'escalate')
    return { kind: 'ok', text: t(c, 'surges.done.escalate', { target: c.req.query('target') ?? '' }) };
  return { kind: 'ok', text: t(c, 'surges.done') };
}

/** Where a decision sends the browser: the surge's page, saying what happened. */
function doneHref(action: Action, outcome: Extract<SurgeOutcome, { ok: true }>): string {
  const query = new URLSearchParams({ done: action });
  if (action === 'reply') {
    query.set('queued', String(outcome.queued?.length ?? 0));
    // Left out with a reason (those answered or dismissed meanwhile are not "left out").
    query.set(
      'skipped',
      String((outcome.skipped ?? []).filter((s) => s.reason !== 'already_handled').length),
    );
    if ((outcome.remaining ?? 0) > 0) query.set('remaining', String(outcome.remaining));
  }
  if (action === 'escalate' && outcome.target !== undefined) query.set('target', outcome.target);
  return `${surgeHref(outcome.surge)}?${query.toString()}`;
}

const text = (value: unknown) => (typeof value === 'string' ? value : '');

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
${surges.map((s) => html`<tr><td><a href="${surgeHref(s)}">${timeTag(s.detectedAt, tz)}</a></td><td>${s.count}</td><td>${s.watchId}</td><td>${t(c, `surges.${s.status}`)}</td><td>${handlingText(c, s)}</td><td>${s.examples[0]?.text ?? ''}</td></tr>`)}</table>`;
    return page(c, { title: t(c, 'surges.title'), body });
  });

  app.get('/surges/:id', requireUser, (c) => surgePage(c, c.req.param('id'), doneFlash(c)));

  for (const action of ACTIONS) {
    app.post(`/surges/:id/${action}`, requireRole('editor'), async (c) => {
      const id = c.req.param('id');
      const deps = depsOf(c);
      const desk = createSurgeDesk({ repos: deps.repos, now: deps.now });
      const actor = deskActor(userOf(c));
      const form = await c.req.parseBody({ all: true });
      const chosen = [form.matchIds ?? []].flat().filter((v): v is string => typeof v === 'string');
      const outcome: SurgeOutcome =
        action === 'announce'
          ? await desk.announce(actor, id, { text: text(form.text) })
          : action === 'reply'
            ? await desk.replyToMembers(actor, id, {
                all: text(form.all),
                matchIds: chosen,
                text: text(form.text),
                templateId: text(form.templateId),
              })
            : action === 'escalate'
              ? await desk.escalate(actor, id, { target: text(form.target) })
              : action === 'dismiss'
                ? await desk.dismissAll(actor, id, {})
                : await desk.close(actor, id);
      if (outcome.ok) {
        dashboards?.clear();
        await deps.relayOutbox();
        return c.redirect(doneHref(action, outcome), 303);
      }
      const lang = c.get('lang');
      const message = [
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
      // A refused reply keeps what the reviewer wrote and chose.
      const kept =
        action === 'reply'
          ? { text: text(form.text), templateId: text(form.templateId), all: text(form.all) !== '', chosen }
          : undefined;
      return surgePage(c, id, { kind: 'error', text: message }, status, kept);
    });
  }

  // The reply box's length line: the text measured per member still waiting, as the reply will check it.
  app.post('/api/surges/:id/measure', requireUser, async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      body = null;
    }
    const input = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
    if (typeof input.text !== 'string' || input.text.length > 20_000)
      return c.json({ error: 'invalid', message: 'send { "text": "…", "templateId"?: "…" }' }, 400);
    const { repos } = depsOf(c);
    const id = c.req.param('id');
    if ((await repos.surges.get(id)) === null)
      return c.json({ error: 'not_found', message: t(c, 'surges.notFound') }, 404);
    const [members, { config }] = await Promise.all([
      repos.surges.members(id, 100_000),
      repos.config.current(),
    ]);
    const line = lengthLine(
      c,
      await waitingSample(c, members),
      { text: input.text, templateId: text(input.templateId) },
      config,
    );
    return c.json(line);
  });
  return app;
}
