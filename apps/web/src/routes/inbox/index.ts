import type { MatchRecord } from '@kikimimi/db';
import { escalationTargets } from '@kikimimi/desk';
import { measureReplyTo } from '@kikimimi/rules';
import { Hono } from 'hono';
import { html } from 'hono/html';
import { requireRole, requireUser } from '../../auth/middleware.ts';
import type { AppEnv } from '../../context.ts';
import { t } from '../../i18n.ts';
import { atLeast, csrfField, page } from '../../layout.ts';
import { surgeJson } from '../surge-marks.ts';
import { ACTION_NAMES, type ActionName, type ActionOutcome, runDeskAction } from './actions.ts';
import { auditBody, auditCursor, auditForRole, parseAuditQuery } from './audit.ts';
import { BULK_ACTIONS, type BulkAction, bulkPage, MAX_BULK, runBulk } from './bulk.ts';
import { matchesCsv } from './csv.ts';
import { dashboardBody, TIME_ZONE_SET } from './dashboard.ts';
import type { DashboardCache } from './dashboard-cache.ts';
import { filterQuery, type ParsedFilters, parseFilters } from './filters.ts';
import { inboxEvents, inboxScript, keyHelp, MATCH_SCRIPT } from './live-view.ts';
import {
  auditJson,
  type C,
  caseEventJson,
  decisionJson,
  depsOf,
  encodeCursor,
  LOCAL_TIME_SCRIPT,
  matchJson,
  replyJson,
  reviewMessageJson,
  userOf,
} from './shared.ts';
import {
  type ActionForms,
  detailBody,
  filterForm,
  INBOX_STYLE,
  isHandled,
  loadDetail,
  type MatchDetail,
  matchRow,
  prefill,
  prefillFollowUp,
  recipientOf,
  surgeSizesOf,
  watchNamesOf,
} from './views.ts';

/*
 * The inbox (matches, one match with its history and the reviewer's actions), the dashboard and the
 * audit log, as server-rendered pages (`inboxRoutes`, mounted at '/') and as JSON (`inboxApi`, mounted
 * at '/api'). Everyone signed in reads; editors and admins act. CSRF is checked by the app's
 * middleware before any of these routes run.
 */

const PAGE_SIZE = 50;
/** `?refresh=1`: recompute the dashboard's figures now (see dashboard-cache.ts). */
const REFRESH = new Set(['1', 'true']);
const ACTIONS: readonly ActionName[] = ACTION_NAMES;
/** The outcomes a redirect after an action may announce (`?done=`). */
const DONE = new Set([
  'replied',
  'escalated',
  'dismissed',
  'manual_done',
  'retried',
  'followed_up',
  'noted',
  'assigned',
  'case_state',
  'linked',
]);

const cursorOf = (m: MatchRecord) => encodeCursor(m.createdAt, m.id);

/** A page of matches plus whether another follows. */
async function listMatches(c: C, parsed: ParsedFilters, limit: number) {
  const items = await depsOf(c).repos.matches.list(parsed.filters, {
    limit: limit + 1,
    ...(parsed.before ? { before: parsed.before } : {}),
  });
  const more = items.length > limit;
  const shown = more ? items.slice(0, limit) : items;
  const last = shown[shown.length - 1];
  return { items: shown, next: more && last ? cursorOf(last) : null };
}

async function runAction(
  c: C,
  action: ActionName,
  id: string,
  input: Record<string, unknown>,
): Promise<ActionOutcome> {
  const outcome = await runDeskAction(depsOf(c), c.get('lang'), userOf(c), action, id, input);
  // Every open inbox shows it at once (the worker announces what its jobs change later).
  if (outcome.ok) await depsOf(c).live?.publish('changed', [outcome.match.id]);
  return outcome;
}

function matchNotFound(c: C) {
  return page(c, {
    title: t(c, 'inbox.error.notFound'),
    body: html`<p>${t(c, 'inbox.error.notFoundText')}</p><p><a href="/inbox">${t(c, 'inbox.detail.back')}</a></p>`,
    active: 'inbox',
    status: 404,
  });
}

function detailPage(c: C, detail: MatchDetail, forms: ActionForms, status?: 200 | 403 | 404 | 409 | 422) {
  const done = c.req.query('done');
  const flash =
    done !== undefined && DONE.has(done)
      ? c.req.query('warn') === 'queue'
        ? { kind: 'error' as const, text: `${t(c, `inbox.done.${done}`)} ${t(c, 'inbox.queueWarning')}` }
        : { kind: 'ok' as const, text: t(c, `inbox.done.${done}`) }
      : forms.flash
        ? { kind: 'error' as const, text: forms.flash }
        : undefined;
  const a = detail.match.post.author;
  return page(c, {
    title: `${t(c, 'inbox.detail.title')}: @${a.handle}`,
    body: html`${detailBody(c, detail, forms)}${keyHelp(c)}`,
    active: 'inbox',
    script: `${LOCAL_TIME_SCRIPT};${MATCH_SCRIPT}`,
    ...(flash ? { flash } : {}),
    ...(status ? { status } : {}),
  });
}

const text = (value: unknown) => (typeof value === 'string' ? value : '');

export function inboxRoutes(dashboards: DashboardCache): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/inbox', requireUser, async (c) => {
    const parsed = parseFilters(c, 'before');
    const [{ items, next }, { config }, users] = await Promise.all([
      listMatches(c, parsed, PAGE_SIZE),
      depsOf(c).repos.config.current(),
      depsOf(c).repos.users.list(),
    ]);
    const hasErrors = Object.keys(parsed.errors).length > 0;
    const names = watchNamesOf(config);
    const surges = await surgeSizesOf(depsOf(c).repos, items);
    const me = userOf(c);
    const editor = atLeast(me.role, 'editor');
    const teammates = users.filter((u) => u.id !== me.id);
    // The table is there even when empty: the live feed adds rows to it.
    const body = html`<style nonce="${c.get('nonce')}">${INBOX_STYLE}</style>
${filterForm(c, parsed.query, parsed.errors, names, teammates)}
${parsed.errors.before ? html`<p class="error" role="alert" data-field="before">${parsed.errors.before}</p>` : ''}
<p><a href="/inbox.csv${filterQuery(parsed.query)}" download>${t(c, 'inbox.csv')}</a> <small class="muted">${t(c, 'inbox.keys.hint')}</small></p>
<p id="live-status" role="status" aria-live="polite" data-template="${t(c, 'inbox.live.new', { n: '{n}' })}"></p>
${
  editor
    ? html`<form method="post" action="/inbox/bulk" id="bulk-form" class="bulk" aria-label="${t(c, 'inbox.bulk.title')}">${csrfField(c)}
<strong>${t(c, 'inbox.bulk.title')}</strong>
<button type="submit" name="action" value="dismiss" class="secondary">${t(c, 'inbox.bulk.dismiss')}</button>
<label for="bulk-assignee" class="sr">${t(c, 'inbox.bulk.assignTo')}</label>
<select id="bulk-assignee" name="assignee"><option value="me">${t(c, 'case.assign.me', { name: me.username })}</option><option value="">${t(c, 'case.nobody')}</option>${users
        .filter((u) => u.id !== me.id && atLeast(u.role, 'editor'))
        .map((u) => html`<option value="${u.id}">${u.username}</option>`)}</select>
<button type="submit" name="action" value="assign" class="secondary">${t(c, 'inbox.bulk.assign')}</button>
</form>`
    : ''
}
<p class="muted" id="inbox-empty"${items.length === 0 ? '' : html` hidden`}>${t(c, 'inbox.empty')}</p>
<div class="inbox-wrap"><table class="inbox" id="inbox-table"${items.length === 0 ? html` hidden` : ''}><thead><tr>${
      editor
        ? html`<th><input type="checkbox" id="select-all" aria-label="${t(c, 'inbox.bulk.selectAll')}"></th>`
        : ''
    }<th>${t(c, 'inbox.col.time')}</th><th>${t(c, 'inbox.col.platform')}</th><th>${t(c, 'inbox.col.author')}</th><th>${t(c, 'inbox.col.post')}</th><th>${t(c, 'inbox.col.watches')}</th><th>${t(c, 'inbox.col.intent')}</th><th>${t(c, 'inbox.col.status')}</th><th>${t(c, 'inbox.col.case')}</th></tr></thead>
<tbody>${items.map((m) => matchRow(c, m, names, editor, surges))}</tbody></table></div>
<p>${parsed.before ? html`<a href="/inbox${filterQuery(parsed.query)}">${t(c, 'inbox.first')}</a> ` : ''}${
      next
        ? html`<a href="/inbox${filterQuery(parsed.query, { before: next })}" rel="next">${t(c, 'inbox.next')}</a>`
        : ''
    }</p>
${keyHelp(c)}`;
    return page(c, {
      title: t(c, 'inbox.title'),
      body,
      active: 'inbox',
      // Live rows only on the first page (a later page is a fixed window into the past).
      script: `${LOCAL_TIME_SCRIPT};${inboxScript(`/inbox/events${filterQuery(parsed.query)}`, parsed.before === undefined)}`,
      ...(hasErrors ? { status: 400 as const } : {}),
    });
  });

  app.get('/inbox/events', requireUser, (c) => inboxEvents(c, parseFilters(c, 'before')));

  app.post('/inbox/bulk', requireRole('editor'), async (c) => {
    const form = await c.req.parseBody({ all: true });
    const raw = form.ids;
    const ids = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter(
      (v): v is string => typeof v === 'string',
    );
    const action = text(form.action);
    const problem = !BULK_ACTIONS.includes(action as BulkAction)
      ? t(c, 'inbox.bulk.unknownAction')
      : ids.length === 0
        ? t(c, 'inbox.bulk.none')
        : ids.length > MAX_BULK
          ? t(c, 'inbox.bulk.tooMany', { max: MAX_BULK })
          : null;
    if (problem !== null) {
      return page(c, {
        title: t(c, 'inbox.bulk.resultTitle'),
        body: html`<p class="error" role="alert">${problem}</p><p><a href="/inbox">${t(c, 'inbox.detail.back')}</a></p>`,
        active: 'inbox',
        status: 422,
      });
    }
    const results = await runBulk(
      (id, input) => runAction(c, action === 'dismiss' ? 'dismiss' : 'assign', id, input),
      ids,
      { assignee: text(form.assignee), reason: text(form.reason) },
    );
    if (results.some((r) => r.outcome.ok)) dashboards.clear();
    return bulkPage(c, results);
  });

  app.get('/inbox.csv', requireUser, async (c) => {
    const parsed = parseFilters(c, 'before');
    const filterErrors = Object.entries(parsed.errors).filter(([field]) => field !== 'before');
    if (filterErrors.length > 0) {
      return c.text(filterErrors.map(([field, message]) => `${field}: ${message}`).join('\n'), 400);
    }
    const day = depsOf(c).now().toISOString().slice(0, 10).replaceAll('-', '');
    return new Response(matchesCsv(depsOf(c).repos, parsed.filters), {
      headers: {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Disposition': `attachment; filename="kikimimi-matches-${day}.csv"`,
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
      },
    });
  });

  app.get('/inbox/:id', requireUser, async (c) => {
    const detail = await loadDetail(depsOf(c), c.req.param('id'));
    if (detail === null) return matchNotFound(c);
    const answer = c.req.query('answer') ?? '';
    return detailPage(c, detail, {
      reply: prefill(c, detail, c.req.query('template')),
      errors: {},
      case: { followUp: prefillFollowUp(c, detail, c.req.query('followTemplate'), answer) },
    });
  });

  for (const action of ACTIONS) {
    app.post(`/inbox/:id/${action}`, requireRole('editor'), async (c) => {
      const id = c.req.param('id');
      const form = await c.req.parseBody();
      const outcome = await runAction(c, action, id, form);
      if (outcome.ok) {
        dashboards.clear();
        const warn = outcome.queueFailed ? '&warn=queue' : '';
        return c.redirect(`/inbox/${outcome.match.id}?done=${outcome.kind}${warn}`, 303);
      }
      if (outcome.status === 404) return matchNotFound(c);
      const detail = await loadDetail(depsOf(c), id);
      if (detail === null) return matchNotFound(c);
      const errors = Object.fromEntries((outcome.problems ?? []).map((p) => [p.path, p.message]));
      const forms: ActionForms = {
        reply:
          action === 'reply'
            ? { templateId: text(form.templateId), category: text(form.category), text: text(form.text) }
            : prefill(c, detail, undefined),
        target: text(form.target),
        reason: text(form.reason),
        url: text(form.url),
        errors,
        flash: outcome.message,
        ...(outcome.status === 409 || outcome.status === 403 ? { error: outcome.message } : {}),
        case: {
          followUp:
            action === 'follow-up'
              ? {
                  templateId: text(form.templateId),
                  category: text(form.category),
                  text: text(form.text),
                  answerId: text(form.answerId),
                }
              : prefillFollowUp(c, detail, undefined),
          note: action === 'note' ? text(form.text) : '',
        },
      };
      return detailPage(c, detail, forms, outcome.status);
    });
  }

  app.get('/dashboard', requireUser, async (c) => {
    const days = Number(c.req.query('days') ?? '7');
    // The organisation's time zone unless another is asked for.
    const tz = c.req.query('tz') ?? c.get('timeZone');
    const form = {
      days: Number.isInteger(days) && days >= 1 && days <= 366 ? days : 7,
      timeZone: TIME_ZONE_SET.has(tz) ? tz : c.get('timeZone'),
    };
    const [view, { config }] = await Promise.all([
      dashboards.get(form, { refresh: REFRESH.has(c.req.query('refresh') ?? '') }),
      depsOf(c).repos.config.current(),
    ]);
    const templateNames = new Map(config.templates.map((tpl) => [tpl.id, tpl.name ?? tpl.id]));
    return page(c, {
      title: t(c, 'dashboard.title'),
      body: dashboardBody(c, view, form, templateNames, watchNamesOf(config)),
      active: 'dashboard',
    });
  });

  app.get('/audit', requireUser, async (c) => {
    const query = parseAuditQuery(c);
    const entries = await depsOf(c).repos.audit.list({
      limit: PAGE_SIZE + 1,
      ...(query.action ? { action: query.action } : {}),
      ...(query.before ? { before: query.before } : {}),
    });
    const more = entries.length > PAGE_SIZE;
    const role = userOf(c).role;
    const shown = (more ? entries.slice(0, PAGE_SIZE) : entries).map((e) => auditForRole(e, role));
    const last = shown[shown.length - 1];
    return page(c, {
      title: t(c, 'audit.title'),
      body: auditBody(c, query, shown, more && last ? auditCursor(last) : null),
      active: 'audit',
      script: LOCAL_TIME_SCRIPT,
      ...(Object.keys(query.errors).length > 0 ? { status: 400 as const } : {}),
    });
  });

  return app;
}

// ---------------------------------------------------------------------------------------------
// JSON API

/** A JSON object body, or null when the body is not one. */
async function jsonBody(c: C): Promise<Record<string, unknown> | null> {
  try {
    const body: unknown = await c.req.json();
    return body !== null && typeof body === 'object' && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

const problemsOf = (errors: Readonly<Record<string, string>>) =>
  Object.entries(errors).map(([path, message]) => ({ path, message }));

function limitOf(c: C, fallback: number, max: number): number | null {
  const raw = c.req.query('limit');
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 && n <= max ? n : null;
}

function detailJson(detail: MatchDetail) {
  const { match, reply } = detail;
  const handled = isHandled(detail);
  const { targets, discord } = escalationTargets(match, detail.config, detail.settings);
  return {
    match: matchJson(match),
    decisions: detail.decisions.map(decisionJson),
    reply: reply === null ? null : replyJson(reply),
    replies: detail.case.replies.map(replyJson),
    case: {
      state: match.caseState,
      assignee: match.assignee,
      followUntil: match.followUntil?.toISOString() ?? null,
      events: detail.case.events.map(caseEventJson),
    },
    customer: {
      lastContact:
        detail.case.lastContact === null
          ? null
          : { ...detail.case.lastContact, at: detail.case.lastContact.at.toISOString() },
      cooldownHours: detail.case.cooldownHours,
      history: detail.case.history.map((h) => ({
        relation: h.relation,
        match: matchJson(h.match),
        replies: h.replies.map(replyJson),
      })),
    },
    reviewMessage: detail.message === null ? null : reviewMessageJson(detail.message),
    actions: {
      reply: !handled && !match.suppressed && detail.account !== null,
      dismiss: !handled,
      manualDone: reply !== null && (reply.state === 'manual_pending' || reply.state === 'failed'),
      escalationTargets: targets,
      escalationPostedToDiscord: discord,
    },
  };
}

export function inboxApi(dashboards: DashboardCache): Hono<AppEnv> {
  const api = new Hono<AppEnv>();

  api.get('/matches', requireUser, async (c) => {
    const parsed = parseFilters(c, 'cursor');
    const limit = limitOf(c, PAGE_SIZE, 200);
    const problems = problemsOf(parsed.errors);
    if (limit === null) problems.push({ path: 'limit', message: 'an integer from 1 to 200' });
    if (problems.length > 0) return c.json({ error: 'invalid', message: 'bad query', problems }, 400);
    const { items, next } = await listMatches(c, parsed, limit ?? PAGE_SIZE);
    return c.json({ items: items.map(matchJson), nextCursor: next });
  });

  api.post('/matches/bulk', requireRole('editor'), async (c) => {
    const body = await jsonBody(c);
    if (body === null)
      return c.json({ error: 'invalid_json', message: t(c, 'inbox.error.invalidJson') }, 400);
    const problems: { path: string; message: string }[] = [];
    const action = body.action;
    if (!BULK_ACTIONS.includes(action as BulkAction))
      problems.push({ path: 'action', message: `one of ${BULK_ACTIONS.join(', ')}` });
    const ids = body.ids;
    if (
      !Array.isArray(ids) ||
      ids.length === 0 ||
      ids.length > MAX_BULK ||
      ids.some((id) => typeof id !== 'string')
    )
      problems.push({ path: 'ids', message: `an array of 1 to ${MAX_BULK} match ids` });
    if (problems.length > 0) return c.json({ error: 'invalid', message: 'bad request', problems }, 400);
    const results = await runBulk(
      (id, input) => runAction(c, action === 'dismiss' ? 'dismiss' : 'assign', id, input),
      ids as string[],
      { assignee: body.assignee ?? '', reason: body.reason ?? '' },
    );
    if (results.some((r) => r.outcome.ok)) dashboards.clear();
    return c.json({
      results: results.map(({ id, outcome }) =>
        outcome.ok
          ? { id, ok: true, result: outcome.kind, match: matchJson(outcome.match) }
          : { id, ok: false, error: outcome.error, message: outcome.message },
      ),
    });
  });

  // The reply and follow-up boxes' counter: the text measured as the send check will measure it.
  api.post('/matches/:id/measure', requireUser, async (c) => {
    const body = await jsonBody(c);
    if (body === null || typeof body.text !== 'string' || body.text.length > 20_000)
      return c.json({ error: 'invalid', message: 'send { "text": "…", "answerId"?: "…" }' }, 400);
    const detail = await loadDetail(depsOf(c), c.req.param('id'));
    if (detail === null) return c.json({ error: 'not_found', message: t(c, 'inbox.error.notFound') }, 404);
    const text = body.text.trim();
    const measured = measureReplyTo(
      text,
      {
        platform: detail.match.platform,
        authorHandle: recipientOf(detail, typeof body.answerId === 'string' ? body.answerId : ''),
      },
      { maxCharacters: detail.config.platforms.mastodon.maxCharacters },
    );
    return c.json({ ...measured, blank: text === '', platform: detail.match.platform });
  });

  api.get('/matches/:id', requireUser, async (c) => {
    const detail = await loadDetail(depsOf(c), c.req.param('id'));
    if (detail === null) return c.json({ error: 'not_found', message: t(c, 'inbox.error.notFound') }, 404);
    return c.json(detailJson(detail));
  });

  for (const action of ACTIONS) {
    api.post(`/matches/:id/${action}`, requireRole('editor'), async (c) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return c.json({ error: 'invalid_json', message: t(c, 'inbox.error.invalidJson') }, 400);
      }
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        return c.json({ error: 'invalid_json', message: t(c, 'inbox.error.invalidJson') }, 400);
      }
      const outcome = await runAction(c, action, c.req.param('id'), body as Record<string, unknown>);
      if (outcome.ok) dashboards.clear();
      if (!outcome.ok) {
        return c.json(
          {
            error: outcome.error,
            message: outcome.message,
            ...(outcome.problems ? { problems: outcome.problems } : {}),
          },
          outcome.status,
        );
      }
      return c.json({
        ok: true,
        result: outcome.kind,
        match: matchJson(outcome.match),
        decision: outcome.decision === null ? null : decisionJson(outcome.decision),
        ...(outcome.reply ? { reply: replyJson(outcome.reply) } : {}),
        ...(outcome.event ? { event: caseEventJson(outcome.event) } : {}),
        queued: !outcome.queueFailed,
      });
    });
  }

  api.get('/dashboard', requireUser, async (c) => {
    const days = Number(c.req.query('days') ?? '7');
    const tz = c.req.query('tz') ?? c.get('timeZone');
    const problems = [];
    if (!Number.isInteger(days) || days < 1 || days > 366)
      problems.push({ path: 'days', message: 'an integer from 1 to 366' });
    if (!TIME_ZONE_SET.has(tz))
      problems.push({ path: 'tz', message: 'an IANA time zone such as "Asia/Tokyo"' });
    const refresh = c.req.query('refresh');
    if (refresh !== undefined && !REFRESH.has(refresh) && !['0', 'false'].includes(refresh))
      problems.push({ path: 'refresh', message: 'true or false (1 or 0)' });
    if (problems.length > 0) return c.json({ error: 'invalid', message: 'bad query', problems }, 400);
    const view = await dashboards.get(
      { days, timeZone: tz },
      { refresh: refresh !== undefined && REFRESH.has(refresh) },
    );
    return c.json({
      asOf: view.period.to.toISOString(),
      ...view,
      period: { ...view.period, from: view.period.from.toISOString(), to: view.period.to.toISOString() },
      surges: { ...view.surges, list: view.surges.list.map(surgeJson) },
    });
  });

  api.get('/audit', requireUser, async (c) => {
    const query = parseAuditQuery(c, 'cursor');
    const limit = limitOf(c, PAGE_SIZE, 500);
    const problems = problemsOf(query.errors);
    if (limit === null) problems.push({ path: 'limit', message: 'an integer from 1 to 500' });
    if (problems.length > 0) return c.json({ error: 'invalid', message: 'bad query', problems }, 400);
    const n = limit ?? PAGE_SIZE;
    const entries = await depsOf(c).repos.audit.list({
      limit: n + 1,
      ...(query.action ? { action: query.action } : {}),
      ...(query.before ? { before: query.before } : {}),
    });
    const more = entries.length > n;
    const role = userOf(c).role;
    const shown = (more ? entries.slice(0, n) : entries).map((e) => auditForRole(e, role));
    const last = shown[shown.length - 1];
    return c.json({ items: shown.map(auditJson), nextCursor: more && last ? auditCursor(last) : null });
  });

  return api;
}
