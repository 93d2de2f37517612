import {
  type Category,
  type Config,
  categorySchema,
  checkTemplateText,
  configSchema,
  PLATFORMS,
  type Template,
  templateSchema,
} from '@kikimimi/rules';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { requireRole, requireUser } from '../../auth/middleware.ts';
import type { AppEnv } from '../../context.ts';
import { t } from '../../i18n.ts';
import { atLeast, csrfField, type FieldErrors, page } from '../../layout.ts';
import { registerDelete, saveItem } from './item-routes.ts';
import { TEMPLATE_PREVIEW_SCRIPT } from './scripts.ts';
import {
  actorOf,
  type C,
  configStyle,
  defined,
  depsOf,
  doneFlash,
  doneUrl,
  type FormBody,
  listPageOf,
  localizeProblems,
  markedExcerpt,
  type Problem,
  problemSummary,
  publishChange,
  readForm,
  str,
  strings,
  templateProblems,
  text,
  toFieldErrors,
  userOf,
  validate,
} from './shared.ts';
import { previewTemplate, type TemplatePreview } from './template-preview.ts';
import { field, select, textArea, textInput } from './ui.ts';

export interface TemplateForm {
  readonly originalId: string;
  readonly id: string;
  readonly name: string;
  readonly platform: string;
  readonly category: string;
  /** "" for any language. */
  readonly language: string;
  readonly text: string;
  readonly watches: readonly string[];
}

const CATEGORIES = categorySchema.options;
const PLATFORM_CHOICES = ['*', ...PLATFORMS] as const;
/** The languages offered in the form; a template imported with another code keeps it. */
const LANGUAGE_CHOICES = ['ja', 'en'] as const;

function formOf(template: Template): TemplateForm {
  return {
    originalId: template.id,
    id: template.id,
    name: template.name ?? '',
    platform: template.platform,
    category: template.category,
    language: template.language ?? '',
    text: template.text,
    watches: template.watches ?? [],
  };
}

function readTemplateForm(body: FormBody): TemplateForm {
  return {
    originalId: str(body, 'originalId'),
    id: str(body, 'id'),
    name: str(body, 'name'),
    platform: str(body, 'platform') || '*',
    category: str(body, 'category'),
    language: str(body, 'language'),
    text: text(body, 'text'),
    watches: strings(body, 'watches'),
  };
}

export function templateInput(form: TemplateForm): Record<string, unknown> {
  return defined({
    id: form.id,
    name: form.name === '' ? undefined : form.name,
    platform: form.platform,
    category: form.category,
    language: form.language === '' ? undefined : form.language,
    text: form.text,
    watches: form.watches.length === 0 ? undefined : [...form.watches],
  });
}

const fieldOfPath = (path: string) => path.split(/[.[]/u)[0];
const FIELDS = new Set(['id', 'name', 'platform', 'category', 'language', 'text', 'watches']);

function checkForm(c: C, config: Config, form: TemplateForm): Problem[] {
  const lang = c.get('lang');
  const checked = validate(templateSchema, templateInput(form), lang);
  const problems = checked.ok ? [] : checked.problems;
  if (form.text !== '' && !problems.some((p) => p.path === 'text')) {
    problems.push(
      ...templateProblems(
        lang,
        'text',
        form.text,
        checkTemplateText(form.text, Object.keys(config.variables)),
      ),
    );
  }
  const known = new Set(config.watches.map((w) => w.id));
  form.watches.forEach((id, i) => {
    if (!known.has(id))
      problems.push({ path: `watches[${i}]`, message: t(c, 'config.unknownWatch', { id }) });
  });
  return problems;
}

const platformLabel = (c: C, platform: string) =>
  platform === '*' ? t(c, 'config.template.allPlatforms') : t(c, `config.platform.${platform}`);

/** "日本語", "English", "any language"; a code the console has no name for is shown as it is. */
const languageLabel = (c: C, language: string | undefined) =>
  language === undefined || language === ''
    ? t(c, 'config.template.anyLanguage')
    : (LANGUAGE_CHOICES as readonly string[]).includes(language)
      ? t(c, `config.language.${language}`)
      : language;

function languageOptions(c: C, current: string) {
  const codes: string[] = ['', ...LANGUAGE_CHOICES];
  if (!codes.includes(current)) codes.push(current);
  return codes.map((code) => ({ value: code, label: languageLabel(c, code) }));
}

/** The length per platform, as the server measures it; the inline script replaces it while typing. */
function counter(c: C, preview: TemplatePreview) {
  return html`${preview.previews.map(
    (
      p,
    ) => html`<div class="counter${p.ok ? '' : ' over'}" data-platform="${p.platform}">${t(c, `config.platform.${p.platform}`)}: ${p.length} / ${p.limit}</div>
      <pre class="preview">${p.text}</pre>`,
  )}`;
}

interface TemplatePageState {
  readonly form: TemplateForm;
  readonly errors?: FieldErrors;
  readonly general?: readonly Problem[];
  readonly problemCount?: number;
  readonly status?: 200 | 422;
}

async function renderTemplatePage(c: C, state: TemplatePageState) {
  const deps = depsOf(c);
  const canEdit = atLeast(userOf(c).role, 'editor');
  const { config } = await deps.repos.config.current();
  const { form, errors } = state;
  const isNew = form.originalId === '';
  const platform = PLATFORM_CHOICES.find((p) => p === form.platform) ?? '*';
  const preview = previewTemplate(config, { text: form.text, platform, watches: form.watches });
  const firstProblem = preview.problems[0];
  const flash = doneFlash(c);
  const body = html`${configStyle(c)}
    <p><a href="/templates">← ${t(c, 'config.template.back')}</a></p>
    ${problemSummary(c, state.general ?? [], state.problemCount ?? 0)}
    <form method="post" action="/templates" class="card" novalidate>
      ${csrfField(c)}
      <input type="hidden" name="originalId" value="${form.originalId}">
      <fieldset${canEdit ? '' : html` disabled`}>
        <div class="row">
          <div>${field({ path: 'id', label: t(c, 'config.template.id'), errors, hint: isNew ? t(c, 'config.idHint') : t(c, 'config.idFixed'), control: textInput({ path: 'id', value: form.id, errors, required: true, readonly: !isNew }) })}</div>
          <div>${field({ path: 'name', label: t(c, 'config.template.name'), errors, control: textInput({ path: 'name', value: form.name, errors }) })}</div>
        </div>
        <div class="row">
          <div>${field({ path: 'platform', label: t(c, 'config.template.platform'), errors, control: select({ path: 'platform', value: form.platform, errors, options: PLATFORM_CHOICES.map((p) => ({ value: p, label: platformLabel(c, p) })) }) })}</div>
          <div>${field({ path: 'category', label: t(c, 'config.template.category'), errors, control: select({ path: 'category', value: form.category, errors, options: CATEGORIES.map((k) => ({ value: k, label: t(c, `config.category.${k}`) })) }) })}</div>
          <div>${field({ path: 'language', label: t(c, 'config.template.language'), errors, hint: t(c, 'config.template.languageHint'), control: select({ path: 'language', value: form.language, errors, options: languageOptions(c, form.language) }) })}</div>
        </div>
        ${field({
          path: 'text',
          label: t(c, 'config.template.text'),
          errors,
          hint: t(c, 'config.template.textHint', {
            vars:
              Object.keys(config.variables)
                .map((v) => `{vars.${v}}`)
                .join(' ') || '—',
          }),
          control: textArea({
            path: 'text',
            value: form.text,
            errors,
            rows: 6,
            required: true,
            data: { 'template-preview': 'template-counter' },
          }),
        })}
        ${firstProblem ? markedExcerpt(form.text, firstProblem.offset, firstProblem.length) : ''}
        <div class="card" aria-live="polite">
          <strong>${t(c, 'config.template.previewTitle')}</strong>
          <p class="hint">${t(c, 'config.template.previewHint')}</p>
          <div id="template-counter" data-position="${t(c, 'config.positionTemplate')}" ${PLATFORMS.map((p) => html` data-label-${p}="${t(c, `config.platform.${p}`)}"`)}>${counter(c, preview)}</div>
        </div>
        <div class="field checks" id="field-watches"><label>${t(c, 'config.template.watches')}</label>
          ${config.watches.length === 0 ? html`<span class="muted">—</span>` : ''}
          ${config.watches.map((w) => html`<label><input type="checkbox" name="watches" value="${w.id}"${form.watches.includes(w.id) ? html` checked` : ''}> ${w.name ?? w.id}</label>`)}
          <p class="hint">${t(c, 'config.template.watchesHint')}</p>
          ${errors?.watches ? html`<div class="error" role="alert" data-field="watches">${errors.watches}</div>` : ''}
        </div>
        ${canEdit ? html`<p><button type="submit">${t(c, 'config.save')}</button></p>` : ''}
      </fieldset>
    </form>
    ${!isNew && canEdit ? html`<p><a href="/templates/${encodeURIComponent(form.originalId)}/delete">${t(c, 'config.delete')}</a></p>` : ''}`;
  return page(c, {
    title: isNew ? t(c, 'config.template.new') : t(c, 'config.template.edit', { id: form.originalId }),
    body,
    active: 'templates',
    status: state.status ?? 200,
    ...(flash && (state.status ?? 200) === 200 ? { flash } : {}),
    script: TEMPLATE_PREVIEW_SCRIPT,
  });
}

interface VariablesState {
  readonly rows: ReadonlyArray<{ name: string; value: string }>;
  readonly errors?: FieldErrors;
  readonly general?: readonly Problem[];
  readonly problemCount?: number;
}

function variablesSection(c: C, config: Config, canEdit: boolean, state?: VariablesState) {
  const rows = state?.rows ?? Object.entries(config.variables).map(([name, value]) => ({ name, value }));
  const blanks = canEdit
    ? [
        { name: '', value: '' },
        { name: '', value: '' },
      ]
    : [];
  const errors = state?.errors;
  return html`<section class="card" id="variables">
    <h2>${t(c, 'config.variables.title')}</h2>
    <p class="hint">${t(c, 'config.variables.hint')}</p>
    ${state ? problemSummary(c, state.general ?? [], state.problemCount ?? 0) : ''}
    <form method="post" action="/templates/variables">
      ${csrfField(c)}
      <fieldset${canEdit ? '' : html` disabled`}>
        <table><thead><tr><th>${t(c, 'config.variables.name')}</th><th>${t(c, 'config.variables.value')}</th></tr></thead>
        <tbody>${[...rows, ...blanks].map(
          (row, i) => html`<tr>
            <td>${textInput({ path: `variables[${i}].name`, name: 'varName', value: row.name, errors })}${errors?.[`variables[${i}].name`] ? html`<div class="error" role="alert" data-field="variables[${i}].name">${errors[`variables[${i}].name`]}</div>` : ''}</td>
            <td>${textInput({ path: `variables[${i}].value`, name: 'varValue', value: row.value, errors })}</td>
          </tr>`,
        )}</tbody></table>
        ${canEdit ? html`<p><button type="submit">${t(c, 'config.save')}</button></p>` : ''}
      </fieldset>
    </form>
  </section>`;
}

async function listPage(c: C, variables?: VariablesState) {
  const { config } = await depsOf(c).repos.config.current();
  const canEdit = atLeast(userOf(c).role, 'editor');
  const platformFilter = PLATFORM_CHOICES.find((p) => p === c.req.query('platform'));
  const categoryFilter = CATEGORIES.find((k) => k === c.req.query('category'));
  const shown = config.templates.filter(
    (tpl) =>
      (platformFilter === undefined ||
        tpl.platform === platformFilter ||
        (platformFilter !== '*' && tpl.platform === '*')) &&
      (categoryFilter === undefined || tpl.category === categoryFilter),
  );
  const link = (
    platform: string | undefined,
    category: string | undefined,
    label: string,
    active: boolean,
  ) => {
    const params = new URLSearchParams(defined({ platform, category }) as Record<string, string>);
    return html`<a href="/templates${params.size > 0 ? `?${params}` : ''}" class="${active ? 'active' : ''}">${label}</a>`;
  };
  const { items: onPage, nav } = listPageOf(c, shown);
  const byCategory = (category: Category) => onPage.filter((tpl) => tpl.category === category);
  const body = html`${configStyle(c)}
    <p class="filters">${t(c, 'config.template.platform')}: ${link(undefined, categoryFilter, t(c, 'config.all'), platformFilter === undefined)}
      ${PLATFORM_CHOICES.map((p) => link(p, categoryFilter, platformLabel(c, p), platformFilter === p))}</p>
    <p class="filters">${t(c, 'config.template.category')}: ${link(platformFilter, undefined, t(c, 'config.all'), categoryFilter === undefined)}
      ${CATEGORIES.map((k) => link(platformFilter, k, t(c, `config.category.${k}`), categoryFilter === k))}</p>
    ${
      canEdit
        ? html`<p><a class="button" href="/templates/new${platformFilter || categoryFilter ? `?${new URLSearchParams(defined({ platform: platformFilter, category: categoryFilter }) as Record<string, string>)}` : ''}">${t(c, 'config.template.new')}</a></p>`
        : ''
    }
    ${(categoryFilter === undefined ? CATEGORIES : [categoryFilter]).map((category) => {
      const items = byCategory(category);
      return html`<section class="card" id="category-${category}">
        <h2>${t(c, `config.category.${category}`)}</h2>
        ${
          items.length === 0
            ? html`<p class="muted">${t(c, 'config.template.none')}</p>`
            : html`<table><thead><tr><th>${t(c, 'config.template.id')}</th><th>${t(c, 'config.template.platform')}</th><th>${t(c, 'config.template.language')}</th><th>${t(c, 'config.template.text')}</th><th>${t(c, 'config.template.length')}</th><th>${t(c, 'config.template.watches')}</th></tr></thead>
              <tbody>${items.map((tpl) => {
                const preview = previewTemplate(config, {
                  text: tpl.text,
                  platform: tpl.platform,
                  watches: tpl.watches ?? [],
                });
                return html`<tr>
                  <td><a href="/templates/${encodeURIComponent(tpl.id)}"><code>${tpl.id}</code></a>${tpl.name ? html`<div>${tpl.name}</div>` : ''}</td>
                  <td>${platformLabel(c, tpl.platform)}</td>
                  <td>${languageLabel(c, tpl.language)}</td>
                  <td><pre class="preview">${tpl.text}</pre></td>
                  <td>${preview.previews.map((p) => html`<div class="counter${p.ok ? '' : ' over'}">${t(c, `config.platform.${p.platform}`)}: ${p.length} / ${p.limit}</div>`)}</td>
                  <td>${tpl.watches === undefined || tpl.watches.length === 0 ? t(c, 'config.all') : tpl.watches.join(', ')}</td>
                </tr>`;
              })}</tbody></table>`
        }
      </section>`;
    })}${nav}
    ${variablesSection(c, config, canEdit, variables)}`;
  const flash = doneFlash(c);
  return page(c, {
    title: t(c, 'nav.templates'),
    body,
    active: 'templates',
    status: variables ? 422 : 200,
    ...(flash && !variables ? { flash } : {}),
  });
}

async function findTemplate(c: C, id: string) {
  const { config } = await depsOf(c).repos.config.current();
  const index = config.templates.findIndex((tpl) => tpl.id === id);
  return { config, template: config.templates[index], index };
}

function notFound(c: C) {
  return page(c, {
    title: t(c, 'config.notFound'),
    body: html`<p>${t(c, 'config.template.notFound')}</p><p><a href="/templates">${t(c, 'config.template.back')}</a></p>`,
    active: 'templates',
    status: 404,
  });
}

export function registerTemplateRoutes(app: Hono<AppEnv>): void {
  app.get('/templates', requireUser, (c) => listPage(c));

  app.get('/templates/new', requireRole('editor'), (c) => {
    const platform = PLATFORM_CHOICES.find((p) => p === c.req.query('platform')) ?? '*';
    const category = CATEGORIES.find((k) => k === c.req.query('category')) ?? 'thanks';
    return renderTemplatePage(c, {
      form: { originalId: '', id: '', name: '', platform, category, language: '', text: '', watches: [] },
    });
  });

  app.get('/templates/:id', requireUser, async (c) => {
    const { template } = await findTemplate(c, c.req.param('id'));
    if (template === undefined) return notFound(c);
    return renderTemplatePage(c, { form: formOf(template) });
  });

  app.post('/templates', requireRole('editor'), async (c) => {
    const form = readTemplateForm(await readForm(c));
    const { config, index } = await findTemplate(c, form.id);
    const outcome = await saveItem(c, {
      path: '/templates',
      form,
      index,
      count: config.templates.length,
      problems: checkForm(c, config, form),
      input: templateInput(form),
      upsert: (input, actor) => depsOf(c).repos.config.upsertTemplate(input, actor),
    });
    if ('saved' in outcome) return outcome.saved;
    const { problems } = outcome;
    const { errors, general } = toFieldErrors(problems, (path) => {
      const name = fieldOfPath(path);
      return name !== undefined && FIELDS.has(name) ? name : undefined;
    });
    return renderTemplatePage(c, { form, errors, general, problemCount: problems.length, status: 422 });
  });

  app.post('/templates/variables', requireRole('editor'), async (c) => {
    const lang = c.get('lang');
    const body = await readForm(c);
    const names = strings(body, 'varName').map((n) => n.trim());
    const values = strings(body, 'varValue');
    const rows = names
      .map((name, i) => ({ name, value: values[i] ?? '' }))
      .filter((r) => r.name !== '' || r.value.trim() !== '');
    const problems: Problem[] = [];
    const variables: Record<string, string> = {};
    rows.forEach((row, i) => {
      if (row.name === '')
        problems.push({ path: `variables[${i}].name`, message: t(c, 'config.variables.nameMissing') });
      else if (row.name in variables)
        problems.push({
          path: `variables[${i}].name`,
          message: t(c, 'config.variables.duplicate', { name: row.name }),
        });
      else variables[row.name] = row.value;
    });
    const rowOf = (name: string) => rows.findIndex((r) => r.name === name);
    const checked = validate(configSchema.shape.variables, variables, lang);
    if (!checked.ok) {
      for (const p of checked.problems) problems.push({ ...p, path: `variables[${rowOf(p.path)}].name` });
    }
    if (problems.length === 0) {
      const result = await depsOf(c).repos.config.setVariables(variables, actorOf(c));
      if (result.ok) {
        await publishChange(c, 'variables');
        return c.redirect(doneUrl('/templates#variables', 'saved', result.version), 303);
      }
      problems.push(...localizeProblems(lang, result.problems));
    }
    const { errors, general } = toFieldErrors(problems, (path) =>
      /^variables\[\d+\]\.name$/u.test(path) ? path : undefined,
    );
    return listPage(c, { rows, errors, general, problemCount: problems.length });
  });

  registerDelete(app, {
    path: '/templates',
    active: 'templates',
    noun: 'config.template.noun',
    exists: async (c, id) => (await findTemplate(c, id)).template !== undefined,
    remove: (c, id) => depsOf(c).repos.config.removeTemplate(id, actorOf(c)),
    notFound,
  });
}
