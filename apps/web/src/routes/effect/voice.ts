import type { CaseEvent, MatchRecord } from '@kikimimi/db';
import { type DeskOutcome, failureMessage, problemMessage } from '@kikimimi/desk';
import type { Config } from '@kikimimi/rules';
import { html } from 'hono/html';
import { t } from '../../i18n.ts';
import { csrfField, fieldError, type Html } from '../../layout.ts';
import type { C } from '../inbox/shared.ts';
import './messages.ts';

/*
 * Tagging a case as a customer voice (ご意見) for a department, from the console: a small form the
 * match page includes (`voiceForm`), posted to /inbox/:id/voice (routes in index.ts), decided by the
 * desk (desk.tagVoice) like every other decision.
 */

/** What the form shows again after a refused submission. */
export interface VoiceFormState {
  readonly department?: string;
  readonly summary?: string;
  readonly errors?: Readonly<Record<string, string>>;
}

/** The departments offered: the escalation routes of the configuration (any other name may be typed). */
export function departmentSuggestions(config: Pick<Config, 'escalation'>): string[] {
  return [
    ...new Set(config.escalation.flatMap((rule) => (rule.actions.route ? [rule.actions.route] : []))),
  ].sort();
}

/**
 * The voice form for a match's page: the voices already tagged on the case (from its events), then a
 * department (suggested from the escalation routes) and an optional summary. Editors and admins only.
 */
export function voiceForm(
  c: C,
  match: Pick<MatchRecord, 'id'>,
  options: {
    readonly events?: readonly CaseEvent[];
    readonly departments?: readonly string[];
    readonly state?: VoiceFormState;
  } = {},
): Html {
  const voices = (options.events ?? []).filter((e) => e.kind === 'voice');
  const role = c.get('user')?.role;
  const mayTag = role === 'editor' || role === 'admin';
  const errors = options.state?.errors ?? {};
  const listId = `voice-departments-${match.id}`;
  const tagged =
    voices.length === 0
      ? ''
      : html`<p>${t(c, 'voice.tagged')}: ${voices.map(
          (v, i) =>
            html`${i > 0 ? ', ' : ''}<strong>${String(v.detail.department ?? '')}</strong>${v.text ? html` — ${v.text}` : ''}`,
        )}</p>`;
  if (!mayTag) return html`<section class="card" id="voice">${tagged}</section>`;
  return html`<section class="card" id="voice"><h2>${t(c, 'voice.title')}</h2>
<p class="muted">${t(c, 'voice.hint')}</p>${tagged}
<form method="post" action="/inbox/${match.id}/voice" novalidate>${csrfField(c)}
<div><label for="voice-department">${t(c, 'voice.department')}</label>
<input id="voice-department" name="department" list="${listId}" maxlength="100" required value="${options.state?.department ?? ''}"${errors.department ? html` aria-invalid="true" aria-describedby="voice-department-error"` : ''}>
<datalist id="${listId}">${(options.departments ?? []).map((d) => html`<option>${d}</option>`)}</datalist>
<span id="voice-department-error">${fieldError(errors, 'department')}</span></div>
<div><label for="voice-summary">${t(c, 'voice.summary')}</label>
<textarea id="voice-summary" name="summary" rows="2" maxlength="1000"${errors.summary ? html` aria-invalid="true"` : ''}>${options.state?.summary ?? ''}</textarea>
${fieldError(errors, 'summary')}</div>
<p><button type="submit">${t(c, 'voice.submit')}</button></p>
</form></section>`;
}

/** A refused tag as an HTTP status, a message and problems by field, in the request's language. */
export function voiceRefusal(c: C, outcome: Exclude<DeskOutcome, { ok: true }>) {
  const lang = c.get('lang');
  const status =
    outcome.code === 'not_found'
      ? 404
      : outcome.code === 'forbidden'
        ? 403
        : outcome.code === 'invalid'
          ? 422
          : 409;
  return {
    status: status as 403 | 404 | 409 | 422,
    error: outcome.code,
    message: failureMessage(outcome, lang),
    problems:
      outcome.code === 'invalid'
        ? outcome.problems.map((p) => ({ path: p.field, message: problemMessage(p, lang) }))
        : [],
  };
}
