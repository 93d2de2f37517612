import {
  type Config,
  type EscalationRule,
  escalationRuleSchema,
  intentSchema,
  PLATFORMS,
  prioritySchema,
} from '@kikimimi/rules';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { requireRole, requireUser } from '../../auth/middleware.ts';
import type { AppEnv } from '../../context.ts';
import { t } from '../../i18n.ts';
import { atLeast, csrfField, type FieldErrors, page } from '../../layout.ts';
import { registerDelete, registerToggle, saveItem } from './item-routes.ts';
import { unboundRoleProblems } from './mention-roles.ts';
import { QUERY_CHECK_SCRIPT } from './scripts.ts';
import {
  actorOf,
  type C,
  checked,
  checkQuery,
  configStyle,
  defined,
  depsOf,
  doneFlash,
  type FormBody,
  list,
  listPageOf,
  markedExcerpt,
  num,
  type Problem,
  problemSummary,
  type QueryCheckError,
  queryProblem,
  readForm,
  str,
  strings,
  text,
  toFieldErrors,
  userOf,
  validate,
} from './shared.ts';
import { checkbox, checkboxes, datalist, field, select, textArea, textInput } from './ui.ts';

export interface EscalationForm {
  readonly originalId: string;
  readonly id: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly query: string;
  readonly watches: readonly string[];
  readonly intents: readonly string[];
  readonly platforms: readonly string[];
  readonly minFollowers: string;
  readonly maxFollowers: string;
  readonly route: string;
  readonly mentionRoles: string;
  readonly priority: string;
}

const EMPTY: EscalationForm = {
  originalId: '',
  id: '',
  name: '',
  enabled: true,
  query: '',
  watches: [],
  intents: [],
  platforms: [],
  minFollowers: '',
  maxFollowers: '',
  route: '',
  mentionRoles: '',
  priority: '',
};

function formOf(rule: EscalationRule): EscalationForm {
  return {
    originalId: rule.id,
    id: rule.id,
    name: rule.name ?? '',
    enabled: rule.enabled,
    query: rule.when.query ?? '',
    watches: rule.when.watches ?? [],
    intents: rule.when.intents ?? [],
    platforms: rule.when.platforms ?? [],
    minFollowers: rule.when.minFollowers === undefined ? '' : String(rule.when.minFollowers),
    maxFollowers: rule.when.maxFollowers === undefined ? '' : String(rule.when.maxFollowers),
    route: rule.actions.route ?? '',
    mentionRoles: rule.actions.mentionRoles.join(', '),
    priority: rule.actions.priority ?? '',
  };
}

function readEscalationForm(body: FormBody): EscalationForm {
  return {
    originalId: str(body, 'originalId'),
    id: str(body, 'id'),
    name: str(body, 'name'),
    enabled: checked(body, 'enabled'),
    query: text(body, 'query').trim(),
    watches: strings(body, 'watches'),
    intents: strings(body, 'intents'),
    platforms: strings(body, 'platforms'),
    minFollowers: str(body, 'minFollowers'),
    maxFollowers: str(body, 'maxFollowers'),
    route: str(body, 'route'),
    mentionRoles: str(body, 'mentionRoles'),
    priority: str(body, 'priority'),
  };
}

const nonEmpty = (values: readonly string[]) => (values.length === 0 ? undefined : [...values]);

export function escalationInput(form: EscalationForm): Record<string, unknown> {
  const followers = (name: 'minFollowers' | 'maxFollowers') => num({ [name]: form[name] }, name);
  return defined({
    id: form.id,
    name: form.name === '' ? undefined : form.name,
    enabled: form.enabled,
    when: defined({
      query: form.query === '' ? undefined : form.query,
      watches: nonEmpty(form.watches),
      intents: nonEmpty(form.intents),
      platforms: nonEmpty(form.platforms),
      minFollowers: followers('minFollowers'),
      maxFollowers: followers('maxFollowers'),
    }),
    actions: defined({
      route: form.route === '' ? undefined : form.route,
      mentionRoles: list(form.mentionRoles),
      priority: form.priority === '' ? undefined : form.priority,
    }),
  });
}

const FIELDS = new Set([
  'id',
  'name',
  'enabled',
  'query',
  'watches',
  'intents',
  'platforms',
  'minFollowers',
  'maxFollowers',
  'route',
  'mentionRoles',
  'priority',
]);

/** `when.watches[0]` → `watches`, `actions.route` → `route`. */
function fieldOf(path: string): string | undefined {
  const name = path.replace(/^(?:when|actions)\./u, '').split(/[.[]/u)[0] ?? '';
  return FIELDS.has(name) ? name : undefined;
}

function checkForm(
  c: C,
  config: Config,
  form: EscalationForm,
): { problems: Problem[]; queryError?: QueryCheckError } {
  const lang = c.get('lang');
  const validated = validate(escalationRuleSchema, escalationInput(form), lang);
  const problems = validated.ok ? [] : validated.problems;
  const known = new Set(config.watches.map((w) => w.id));
  form.watches.forEach((id, i) => {
    if (!known.has(id))
      problems.push({ path: `when.watches[${i}]`, message: t(c, 'config.unknownWatch', { id }) });
  });
  if (form.query !== '' && !problems.some((p) => p.path === 'when.query')) {
    const query = checkQuery(lang, form.query);
    if (!query.ok) {
      problems.push(queryProblem(lang, 'when.query', form.query, query.error));
      return { problems, queryError: query.error };
    }
  }
  return { problems };
}

interface EscalationPageState {
  readonly form: EscalationForm;
  readonly errors?: FieldErrors;
  readonly general?: readonly Problem[];
  readonly problemCount?: number;
  readonly queryError?: QueryCheckError | undefined;
  readonly status?: 200 | 422;
}

async function renderEscalationPage(c: C, state: EscalationPageState) {
  const deps = depsOf(c);
  const canEdit = atLeast(userOf(c).role, 'editor');
  const [{ config }, discord] = await Promise.all([deps.repos.config.current(), deps.repos.discord.get()]);
  const { form, errors } = state;
  const isNew = form.originalId === '';
  const flash = doneFlash(c);
  const body = html`${configStyle(c)}
    <p><a href="/escalation">← ${t(c, 'config.escalation.back')}</a></p>
    ${problemSummary(c, state.general ?? [], state.problemCount ?? 0)}
    <form method="post" action="/escalation" class="card" novalidate>
      ${csrfField(c)}
      <input type="hidden" name="originalId" value="${form.originalId}">
      <fieldset${canEdit ? '' : html` disabled`}>
        <div class="row">
          <div>${field({ path: 'id', label: t(c, 'config.escalation.id'), errors, hint: isNew ? t(c, 'config.idHint') : t(c, 'config.idFixed'), control: textInput({ path: 'id', value: form.id, errors, required: true, readonly: !isNew }) })}</div>
          <div>${field({ path: 'name', label: t(c, 'config.escalation.name'), errors, control: textInput({ path: 'name', value: form.name, errors }) })}</div>
        </div>
        ${checkbox({ path: 'enabled', label: t(c, 'config.enabled'), checked: form.enabled })}
        <h2>${t(c, 'config.escalation.when')}</h2>
        <p class="hint">${t(c, 'config.escalation.whenHint')}</p>
        ${field({ path: 'query', label: t(c, 'config.escalation.query'), errors, hint: t(c, 'config.watch.queryHint'), control: textArea({ path: 'query', value: form.query, errors, rows: 3, data: { 'query-check': 'query-status' } }) })}
        <div id="query-status" aria-live="polite" data-ok="${t(c, 'config.query.ok')}" data-position="${t(c, 'config.positionTemplate')}">${state.queryError ? markedExcerpt(form.query, state.queryError.offset, state.queryError.length) : ''}</div>
        ${checkboxes({ name: 'watches', legend: t(c, 'config.escalation.watches'), options: config.watches.map((w) => ({ value: w.id, label: w.name ?? w.id })), selected: form.watches, errors })}
        ${checkboxes({ name: 'intents', legend: t(c, 'config.escalation.intents'), options: intentSchema.options.map((i) => ({ value: i, label: t(c, `config.intent.${i}`) })), selected: form.intents, errors })}
        ${checkboxes({ name: 'platforms', legend: t(c, 'config.escalation.platforms'), options: PLATFORMS.map((p) => ({ value: p, label: t(c, `config.platform.${p}`) })), selected: form.platforms, errors })}
        <div class="row">
          <div>${field({ path: 'minFollowers', label: t(c, 'config.escalation.minFollowers'), errors, control: textInput({ path: 'minFollowers', type: 'number', min: 0, value: form.minFollowers, errors }) })}</div>
          <div>${field({ path: 'maxFollowers', label: t(c, 'config.escalation.maxFollowers'), errors, control: textInput({ path: 'maxFollowers', type: 'number', min: 0, value: form.maxFollowers, errors }) })}</div>
        </div>
        <h2>${t(c, 'config.escalation.actions')}</h2>
        <div class="row">
          <div>${field({ path: 'route', label: t(c, 'config.escalation.route'), errors, hint: t(c, 'config.escalation.routeHint'), control: textInput({ path: 'route', value: form.route, errors, list: 'known-channels' }) })}</div>
          <div>${field({ path: 'priority', label: t(c, 'config.escalation.priority'), errors, control: select({ path: 'priority', value: form.priority, errors, options: [{ value: '', label: t(c, 'config.escalation.priorityNone') }, ...prioritySchema.options.map((p) => ({ value: p, label: t(c, `config.priority.${p}`) }))] }) })}</div>
        </div>
        ${field({ path: 'mentionRoles', label: t(c, 'config.escalation.mentionRoles'), errors, hint: t(c, 'config.escalation.mentionRolesHint'), control: textInput({ path: 'mentionRoles', value: form.mentionRoles, errors, list: 'known-roles' }) })}
        ${datalist('known-channels', Object.keys(discord.channels))}
        ${datalist('known-roles', Object.keys(discord.roles))}
        ${canEdit ? html`<p><button type="submit">${t(c, 'config.save')}</button></p>` : ''}
      </fieldset>
    </form>
    ${!isNew && canEdit ? html`<p><a href="/escalation/${encodeURIComponent(form.originalId)}/delete">${t(c, 'config.delete')}</a></p>` : ''}`;
  return page(c, {
    title: isNew ? t(c, 'config.escalation.new') : t(c, 'config.escalation.edit', { id: form.originalId }),
    body,
    active: 'escalation',
    status: state.status ?? 200,
    ...(flash && (state.status ?? 200) === 200 ? { flash } : {}),
    script: QUERY_CHECK_SCRIPT,
  });
}

/** Conditions in one line: "query · watches brand · intents complaint · ≥ 1000 followers". */
function conditions(c: C, rule: EscalationRule) {
  const parts: string[] = [];
  const w = rule.when;
  if (w.query) parts.push(`${t(c, 'config.escalation.query')}: ${w.query}`);
  if (w.watches) parts.push(`${t(c, 'config.escalation.watches')}: ${w.watches.join(', ')}`);
  if (w.intents)
    parts.push(
      `${t(c, 'config.escalation.intents')}: ${w.intents.map((i) => t(c, `config.intent.${i}`)).join(', ')}`,
    );
  if (w.platforms)
    parts.push(
      `${t(c, 'config.escalation.platforms')}: ${w.platforms.map((p) => t(c, `config.platform.${p}`)).join(', ')}`,
    );
  if (w.minFollowers !== undefined)
    parts.push(`${t(c, 'config.escalation.minFollowers')}: ${w.minFollowers}`);
  if (w.maxFollowers !== undefined)
    parts.push(`${t(c, 'config.escalation.maxFollowers')}: ${w.maxFollowers}`);
  return parts.length === 0 ? t(c, 'config.escalation.always') : parts.join(' · ');
}

async function listPage(c: C) {
  const { config } = await depsOf(c).repos.config.current();
  const canEdit = atLeast(userOf(c).role, 'editor');
  const flash = doneFlash(c);
  const { items: rules, nav } = listPageOf(c, config.escalation);
  const body = html`${configStyle(c)}
    <p class="hint">${t(c, 'config.escalation.intro')}</p>
    ${canEdit ? html`<p><a class="button" href="/escalation/new">${t(c, 'config.escalation.new')}</a></p>` : ''}
    ${
      config.escalation.length === 0
        ? html`<p class="muted">${t(c, 'config.escalation.empty')}</p>`
        : html`<table><thead><tr><th>${t(c, 'config.escalation.id')}</th><th>${t(c, 'config.escalation.when')}</th><th>${t(c, 'config.escalation.actions')}</th><th>${t(c, 'config.state')}</th><th></th></tr></thead>
          <tbody>${rules.map(
            (rule) => html`<tr id="rule-${rule.id}">
              <td><a href="/escalation/${encodeURIComponent(rule.id)}"><code>${rule.id}</code></a>${rule.name ? html`<div>${rule.name}</div>` : ''}</td>
              <td>${conditions(c, rule)}</td>
              <td>${rule.actions.route ? html`<div>${t(c, 'config.escalation.route')}: <code>${rule.actions.route}</code></div>` : ''}
                ${rule.actions.mentionRoles.length > 0 ? html`<div>${t(c, 'config.escalation.mentionRoles')}: ${rule.actions.mentionRoles.join(', ')}</div>` : ''}
                ${rule.actions.priority ? html`<div>${t(c, 'config.escalation.priority')}: ${t(c, `config.priority.${rule.actions.priority}`)}</div>` : ''}</td>
              <td><span class="badge ${rule.enabled ? 'on' : 'off'}">${rule.enabled ? t(c, 'config.enabled') : t(c, 'config.disabled')}</span></td>
              <td class="actions">${canEdit ? html`<form method="post" action="/escalation/${encodeURIComponent(rule.id)}/toggle">${csrfField(c)}<button class="secondary" type="submit">${rule.enabled ? t(c, 'config.disable') : t(c, 'config.enable')}</button></form>` : ''}</td>
            </tr>`,
          )}</tbody></table>${nav}`
    }`;
  return page(c, { title: t(c, 'nav.escalation'), body, active: 'escalation', ...(flash ? { flash } : {}) });
}

async function findRule(c: C, id: string) {
  const { config } = await depsOf(c).repos.config.current();
  const index = config.escalation.findIndex((r) => r.id === id);
  return { config, rule: config.escalation[index], index };
}

function notFound(c: C) {
  return page(c, {
    title: t(c, 'config.notFound'),
    body: html`<p>${t(c, 'config.escalation.notFound')}</p><p><a href="/escalation">${t(c, 'config.escalation.back')}</a></p>`,
    active: 'escalation',
    status: 404,
  });
}

export function registerEscalationRoutes(app: Hono<AppEnv>): void {
  app.get('/escalation', requireUser, (c) => listPage(c));
  app.get('/escalation/new', requireRole('editor'), (c) => renderEscalationPage(c, { form: EMPTY }));
  app.get('/escalation/:id', requireUser, async (c) => {
    const { rule } = await findRule(c, c.req.param('id'));
    if (rule === undefined) return notFound(c);
    return renderEscalationPage(c, { form: formOf(rule) });
  });

  app.post('/escalation', requireRole('editor'), async (c) => {
    const form = readEscalationForm(await readForm(c));
    const { config, index } = await findRule(c, form.id);
    const local = checkForm(c, config, form);
    const input = escalationInput(form);
    const { roles } = await depsOf(c).repos.discord.get();
    const outcome = await saveItem(c, {
      path: '/escalation',
      form,
      index,
      count: config.escalation.length,
      problems: [...local.problems, ...unboundRoleProblems(c, input, roles)],
      input,
      upsert: (input, actor) => depsOf(c).repos.config.upsertEscalationRule(input, actor),
    });
    if ('saved' in outcome) return outcome.saved;
    const { problems } = outcome;
    const { errors, general } = toFieldErrors(problems, fieldOf);
    return renderEscalationPage(c, {
      form,
      errors,
      general,
      problemCount: problems.length,
      queryError: local.queryError,
      status: 422,
    });
  });

  registerToggle(app, {
    back: 'config.escalation.back',
    path: '/escalation',
    active: 'escalation',
    anchor: 'rule',
    find: async (c, id) => (await findRule(c, id)).rule,
    save: (c, rule) => depsOf(c).repos.config.upsertEscalationRule(rule, actorOf(c)),
    notFound,
  });

  registerDelete(app, {
    path: '/escalation',
    active: 'escalation',
    noun: 'config.escalation.noun',
    exists: async (c, id) => (await findRule(c, id)).rule !== undefined,
    remove: (c, id) => depsOf(c).repos.config.removeEscalationRule(id, actorOf(c)),
    notFound,
  });
}
