import type { AuditEntry } from '@kikimimi/db';
import { html } from 'hono/html';
import type { Role } from '../../context.ts';
import { t } from '../../i18n.ts';
import { type FieldErrors, fieldError } from '../../layout.ts';
import { type C, decodeCursor, encodeCursor, label, redact, timeTag } from './shared.ts';

const NAME = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/u;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/iu;

/**
 * The action filter as the repository takes it: "match" or "match." or "match.*" → every action
 * under match (`match.*`); a dotted full name ("config.replace") → that action.
 */
export function actionFilter(input: string): string | null | undefined {
  const text = input.trim().toLowerCase();
  if (text === '') return undefined;
  const prefix = text.endsWith('.*') ? text.slice(0, -2) : text.endsWith('.') ? text.slice(0, -1) : null;
  if (prefix !== null) return NAME.test(prefix) ? `${prefix}.*` : null;
  if (!NAME.test(text)) return null;
  return text.includes('.') ? text : `${text}.*`;
}

export interface AuditQuery {
  readonly action: string | undefined;
  readonly actionText: string;
  readonly before: { at: Date; id: string } | undefined;
  readonly errors: FieldErrors;
}

/** The audit filters of a request; `cursorParam`: `before` (pages) or `cursor` (API). */
export function parseAuditQuery(c: C, cursorParam: 'before' | 'cursor' = 'before'): AuditQuery {
  const errors: Record<string, string> = {};
  const actionText = (c.req.query('action') ?? '').trim();
  const action = actionFilter(actionText);
  if (action === null) errors.action = t(c, 'audit.actionInvalid');
  const cursorText = (c.req.query(cursorParam) ?? '').trim();
  let before: AuditQuery['before'];
  if (cursorText !== '') {
    const cursor = decodeCursor(cursorText);
    if (cursor !== null && /^\d{1,18}$/u.test(cursor.id)) before = cursor;
    else errors[cursorParam] = t(c, 'inbox.filter.badCursor');
  }
  return { action: action ?? undefined, actionText, before, errors };
}

export const auditCursor = (entry: AuditEntry) => encodeCursor(entry.at, entry.id);

/** Sign-in entries: what people typed as user names (passwords, sometimes) and their addresses. */
const ADMIN_ONLY_DETAIL = /^user\.login/u;

/** An entry as `role` may see it: the detail of sign-in entries is for admins only. */
export function auditForRole(entry: AuditEntry, role: Role): AuditEntry {
  return role !== 'admin' && ADMIN_ONLY_DETAIL.test(entry.action) ? { ...entry, detail: {} } : entry;
}

/** Where an entry's target leads: a match's page for match and reply actions. */
function target(entry: AuditEntry) {
  if (entry.target === null) return '';
  if (UUID.test(entry.target) && /^(match|reply)\./u.test(entry.action)) {
    return html`<a href="/inbox/${entry.target}"><code>${entry.target}</code></a>`;
  }
  return html`<code>${entry.target}</code>`;
}

export function auditBody(c: C, query: AuditQuery, entries: AuditEntry[], next: string | null) {
  const keep = query.action === undefined ? {} : { action: query.actionText };
  const nextHref = next === null ? null : `/audit?${new URLSearchParams({ ...keep, before: next })}`;
  return html`<form method="get" action="/audit" class="card" style="display:flex;gap:1rem;align-items:end;flex-wrap:wrap">
<div style="flex:1;min-width:16rem"><label for="a-action">${t(c, 'audit.action')}</label>
<input id="a-action" type="text" name="action" value="${query.actionText}" placeholder="match, config, account.create" aria-describedby="a-action-help">
<small id="a-action-help" class="muted">${t(c, 'audit.actionHelp')}</small>${fieldError(query.errors, 'action')}</div>
<div><button type="submit">${t(c, 'audit.filter')}</button> <a href="/audit">${t(c, 'inbox.filter.clear')}</a></div>
</form>${fieldError(query.errors, 'before')}
${
  entries.length === 0
    ? html`<p class="muted">${t(c, 'audit.empty')}</p>`
    : html`<table class="audit"><thead><tr><th>${t(c, 'audit.when')}</th><th>${t(c, 'audit.actor')}</th><th>${t(c, 'audit.action')}</th><th>${t(c, 'audit.target')}</th><th>${t(c, 'audit.detail')}</th></tr></thead>
<tbody>${entries.map(
        (e) =>
          html`<tr data-audit="${e.id}"><td>${timeTag(e.at, c.get('timeZone'))}</td><td>${e.actor.name || e.actor.id} <span class="badge">${label(c, 'inbox.actor', e.actor.kind)}</span></td><td><code>${e.action}</code></td><td>${target(e)}</td><td>${
            Object.keys(e.detail).length === 0
              ? ''
              : html`<pre class="detail" style="white-space:pre-wrap;overflow-wrap:anywhere;margin:0;font-size:.85rem;max-width:40rem">${JSON.stringify(redact(e.detail), null, 1)}</pre>`
          }</td></tr>`,
      )}</tbody></table>`
}
<p>${query.before ? html`<a href="/audit${query.action === undefined ? '' : `?${new URLSearchParams(keep)}`}">${t(c, 'inbox.first')}</a> ` : ''}${
    nextHref ? html`<a href="${nextHref}" rel="next">${t(c, 'inbox.next')}</a>` : ''
  }</p>`;
}
