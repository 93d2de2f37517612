import type { PlatformAccount } from '@kikimimi/db';
import { type Config, PLATFORMS, type Platform, type Watch, watchSchema } from '@kikimimi/rules';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { requireRole, requireUser } from '../../auth/middleware.ts';
import type { AppEnv } from '../../context.ts';
import { t } from '../../i18n.ts';
import { atLeast, csrfField, type FieldErrors, page } from '../../layout.ts';
import { X_COST_PER_POST_READ } from './accounts.ts';
import { decisionsTable, unmatchedList } from './decision-view.ts';
import { registerDelete, registerToggle, saveItem } from './item-routes.ts';
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
  localizeProblems,
  markedExcerpt,
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
import { checkbox, checkboxes, field, textArea, textInput } from './ui.ts';
import {
  type CompiledWatchInfo,
  compileWatch,
  type DryRun,
  dryRunWatch,
  FETCH_PAGE_SIZE,
  type FreshFetch,
  fetchFresh,
  PREVIEW_POSTS,
} from './watch-preview.ts';

/** What the watch form holds (strings as typed). */
export interface WatchForm {
  /** The id the watch was saved under; '' for a new watch. */
  readonly originalId: string;
  readonly id: string;
  readonly name: string;
  readonly query: string;
  readonly platforms: readonly string[];
  readonly languages: string;
  readonly enabled: boolean;
}

const EMPTY: WatchForm = {
  originalId: '',
  id: '',
  name: '',
  query: '',
  platforms: [],
  languages: '',
  enabled: true,
};

function formOf(watch: Watch): WatchForm {
  return {
    originalId: watch.id,
    id: watch.id,
    name: watch.name ?? '',
    query: watch.query,
    platforms: watch.platforms ?? [],
    languages: (watch.languages ?? []).join(', '),
    enabled: watch.enabled,
  };
}

function readWatchForm(body: FormBody): WatchForm {
  return {
    originalId: str(body, 'originalId'),
    id: str(body, 'id'),
    name: str(body, 'name'),
    query: text(body, 'query').trim(),
    platforms: strings(body, 'platforms'),
    languages: str(body, 'languages'),
    enabled: checked(body, 'enabled'),
  };
}

/** The watch as the configuration schema takes it. */
export function watchInput(form: WatchForm): Record<string, unknown> {
  const languages = list(form.languages).map((l) => l.toLowerCase());
  return defined({
    id: form.id,
    name: form.name === '' ? undefined : form.name,
    query: form.query,
    platforms: form.platforms.length === 0 ? undefined : [...form.platforms],
    languages: languages.length === 0 ? undefined : languages,
    enabled: form.enabled,
  });
}

/** `languages[1]` → `languages`, `query` → `query`. */
const fieldOfPath = (path: string | undefined) =>
  path === undefined ? undefined : (path.split(/[.[]/u)[0] ?? path);

interface LocalCheck {
  readonly problems: Problem[];
  readonly queryError?: QueryCheckError;
}

/** The checks the form can make alone: the schema (in the user's language) and the query syntax with its position. */
function checkForm(c: C, form: WatchForm): LocalCheck {
  const lang = c.get('lang');
  const checked = validate(watchSchema, watchInput(form), lang);
  const problems = checked.ok ? [] : checked.problems;
  if (form.query !== '' && !problems.some((p) => p.path === 'query')) {
    const query = checkQuery(lang, form.query);
    if (!query.ok) {
      problems.push(queryProblem(lang, 'query', form.query, query.error));
      return { problems, queryError: query.error };
    }
  }
  return { problems };
}

interface WatchPageState {
  readonly form: WatchForm;
  readonly errors?: FieldErrors;
  readonly general?: readonly Problem[];
  readonly problemCount?: number;
  readonly queryError?: QueryCheckError | undefined;
  readonly preview?: DryRun;
  /** The preview is of the saved watch (not of the form's contents). */
  readonly previewSaved?: boolean;
  readonly fetched?: FreshFetch;
  readonly status?: 200 | 404 | 422;
}

const platformOptions = (c: C) => PLATFORMS.map((p) => ({ value: p, label: t(c, `config.platform.${p}`) }));

function compiledSection(c: C, info: CompiledWatchInfo | null) {
  if (info === null) return html`<p class="muted">${t(c, 'config.watch.compiledNone')}</p>`;
  return html`
    ${
      info.x === null
        ? ''
        : html`<h3>${t(c, 'config.watch.xQuery')}</h3>
          ${info.x.queries.map(
            (q) => html`<pre class="preview"><code>${q.query}</code></pre>
              <p class="counter${q.query.length > info.maxQueryLength ? ' over' : ''}">${t(c, 'config.watch.xLength', { length: q.query.length, limit: info.maxQueryLength })}</p>`,
          )}
          ${info.x.problems.map((p) => html`<p class="error">${p.message}</p>`)}
          ${info.x.queries.length > 1 ? html`<p class="hint">${t(c, 'config.watch.xSplit', { count: info.x.queries.length })}</p>` : ''}`
    }
    ${
      info.mastodon === null
        ? ''
        : html`<h3>${t(c, 'config.watch.mastodonSources')}</h3>
          <p>${t(c, 'config.watch.hashtags')}: ${info.mastodon.hashtags.length === 0 ? '—' : info.mastodon.hashtags.map((h) => html`<code>#${h}</code> `)}</p>
          <p>${t(c, 'config.watch.searchTerms')}: ${info.mastodon.searchTerms.length === 0 ? '—' : info.mastodon.searchTerms.map((s) => html`<code>${s}</code> `)}</p>
          ${searchOnlyWarning(c, info.mastodon)}
          <p class="hint">${t(c, 'config.watch.mastodonHint')}</p>`
    }
    ${
      info.bluesky === null
        ? ''
        : html`<h3>${t(c, 'config.platform.bluesky')}</h3>
          ${info.bluesky.queries.map((q) => html`<pre class="preview"><code>${q.query}</code></pre>`)}
          ${info.bluesky.problems.map((p) => html`<p class="error">${p.message}</p>`)}`
    }`;
}

/**
 * Terms that cannot be followed as hashtags on Mastodon (phrases, words with spaces or symbols) are
 * found only by its full-text search, which needs the server's search index and finds only posts of
 * accounts that opted in to search: say so next to the watch, by name.
 */
function searchOnlyWarning(c: C, sources: { hashtags: readonly string[]; searchTerms: readonly string[] }) {
  const searchOnly = sources.searchTerms.filter((term) => !sources.hashtags.includes(term));
  if (searchOnly.length === 0) return '';
  return html`<p class="error" data-warning="mastodon-search-only">${t(c, 'config.watch.searchOnly', {
    terms: searchOnly.map((term) => `「${term}」`).join(' '),
  })}</p>`;
}

function previewSection(c: C, preview: DryRun | undefined, saved: boolean) {
  if (preview === undefined) return '';
  return html`<section class="card" id="preview">
    <h2>${t(c, 'config.preview.title')}</h2>
    <p class="hint">${t(c, saved ? 'config.preview.savedLabel' : 'config.preview.unsavedLabel', { n: PREVIEW_POSTS })}</p>
    ${
      preview.ok
        ? html`<p><strong>${t(c, 'config.preview.count', { matched: preview.matched, scanned: preview.scanned })}</strong>${preview.matched > preview.matches.length ? html` <span class="muted">${t(c, 'config.preview.shown', { n: preview.matches.length })}</span>` : ''}</p>
          ${preview.scanned === 0 ? html`<p class="muted">${t(c, 'config.preview.noPosts')}</p>` : decisionsTable(c, preview.matches)}`
        : problemSummary(c, preview.problems)
    }
  </section>`;
}

function fetchSection(c: C, fetched: FreshFetch | undefined) {
  if (fetched === undefined) return '';
  return html`<section class="card" id="fetch">
    <h2>${t(c, 'config.fetch.title')}</h2>
    ${
      fetched.ok
        ? html`<p class="hint">${t(c, 'config.fetch.label', { account: fetched.account.label, platform: t(c, `config.platform.${fetched.account.platform}`) })}</p>
          <p>${t(c, 'config.fetch.source')}: <code>${fetched.source.kind === 'hashtag' ? `#${fetched.source.tag}` : 'query' in fetched.source ? fetched.source.query : fetched.source.kind}</code>${fetched.sourceCount > 1 ? html` <span class="muted">${t(c, 'config.fetch.oneOf', { n: fetched.sourceCount })}</span>` : ''}</p>
          <p><strong>${t(c, 'config.fetch.count', { fetched: fetched.fetched, matched: fetched.matches.length, read: fetched.postsRead })}</strong></p>
          ${fetched.account.platform === 'x' ? html`<p class="hint">${t(c, 'config.fetch.cost', { read: fetched.postsRead, cost: `$${(fetched.postsRead * X_COST_PER_POST_READ).toFixed(3)}` })}</p>` : ''}
          ${decisionsTable(c, fetched.matches)}
          ${unmatchedList(c, fetched.unmatched)}`
        : html`<p class="error" role="alert">${fetched.message}</p>${fetched.problems ? problemSummary(c, localizeProblems(c.get('lang'), fetched.problems)) : ''}`
    }
  </section>`;
}

async function renderWatchPage(c: C, state: WatchPageState) {
  const deps = depsOf(c);
  const user = userOf(c);
  const canEdit = atLeast(user.role, 'editor');
  const { config } = await deps.repos.config.current();
  const { form } = state;
  const isNew = form.originalId === '';
  const accounts = canEdit ? await deps.repos.accounts.list() : [];
  const info =
    form.query === ''
      ? null
      : compileWatch(config, { id: form.id, query: form.query, platforms: form.platforms as Platform[] });
  const fetchable = accounts.filter(
    (a: PlatformAccount) => form.platforms.length === 0 || form.platforms.includes(a.platform),
  );
  const errors = state.errors;
  const flash = doneFlash(c);
  const title = isNew ? t(c, 'config.watch.new') : t(c, 'config.watch.edit', { id: form.originalId });
  const body = html`${configStyle(c)}
    <p><a href="/watches">← ${t(c, 'config.watch.back')}</a></p>
    ${problemSummary(c, state.general ?? [], state.problemCount ?? 0)}
    <form method="post" action="/watches" class="card" novalidate>
      ${csrfField(c)}
      <input type="hidden" name="originalId" value="${form.originalId}">
      <fieldset${canEdit ? '' : html` disabled`}>
        <div class="row">
          <div>${field({ path: 'id', label: t(c, 'config.watch.id'), errors, hint: isNew ? t(c, 'config.idHint') : t(c, 'config.idFixed'), control: textInput({ path: 'id', value: form.id, errors, required: true, readonly: !isNew }) })}</div>
          <div>${field({ path: 'name', label: t(c, 'config.watch.name'), errors, control: textInput({ path: 'name', value: form.name, errors }) })}</div>
        </div>
        ${field({
          path: 'query',
          label: t(c, 'config.watch.query'),
          errors,
          hint: t(c, 'config.watch.queryHint'),
          control: textArea({
            path: 'query',
            value: form.query,
            errors,
            rows: 4,
            required: true,
            data: { 'query-check': 'query-status' },
          }),
        })}
        <div id="query-status" aria-live="polite" data-ok="${t(c, 'config.query.ok')}" data-position="${t(c, 'config.positionTemplate')}">${state.queryError ? markedExcerpt(form.query, state.queryError.offset, state.queryError.length) : ''}</div>
        ${checkboxes({ name: 'platforms', legend: t(c, 'config.watch.platforms'), options: platformOptions(c), selected: form.platforms, errors, hint: t(c, 'config.watch.platformsHint') })}
        ${field({ path: 'languages', label: t(c, 'config.watch.languages'), errors, hint: t(c, 'config.watch.languagesHint'), control: textInput({ path: 'languages', value: form.languages, errors, placeholder: 'ja, en' }) })}
        ${checkbox({ path: 'enabled', label: t(c, 'config.enabled'), checked: form.enabled })}
        ${
          canEdit
            ? html`<p class="actions">
                <button type="submit" name="action" value="save">${t(c, 'config.save')}</button>
                <button type="submit" name="action" value="preview" class="secondary">${t(c, 'config.preview.button', { n: PREVIEW_POSTS })}</button>
              </p>
              <details${state.fetched ? html` open` : ''}><summary>${t(c, 'config.fetch.summary')}</summary>
                ${
                  fetchable.length === 0
                    ? html`<p class="muted">${t(c, 'config.fetch.noAccounts')}</p>`
                    : html`<p class="hint">${t(c, 'config.fetch.hint', { x: FETCH_PAGE_SIZE.x, cost: `$${(FETCH_PAGE_SIZE.x * X_COST_PER_POST_READ).toFixed(2)}`, mastodon: FETCH_PAGE_SIZE.mastodon })}</p>
                      <div class="row"><div><label for="f-account">${t(c, 'config.fetch.account')}</label>
                      <select id="f-account" name="account">${fetchable.map((a) => html`<option value="${a.id}">${t(c, `config.platform.${a.platform}`)} · ${a.label}${a.handle ? ` (@${a.handle})` : ''}</option>`)}</select></div>
                      <div><button type="submit" name="action" value="fetch" class="secondary">${t(c, 'config.fetch.button')}</button></div></div>`
                }
              </details>`
            : ''
        }
      </fieldset>
      ${!canEdit && !isNew ? html`<p><a class="button" href="/watches/${encodeURIComponent(form.originalId)}/preview#preview">${t(c, 'config.preview.button', { n: PREVIEW_POSTS })}</a></p>` : ''}
    </form>
    ${previewSection(c, state.preview, state.previewSaved === true)}
    ${fetchSection(c, state.fetched)}
    <section class="card"><h2>${t(c, 'config.watch.compiled')}</h2>${compiledSection(c, info)}</section>
    ${!isNew && canEdit ? html`<p><a href="/watches/${encodeURIComponent(form.originalId)}/delete">${t(c, 'config.delete')}</a></p>` : ''}`;
  return page(c, {
    title,
    body,
    active: 'watches',
    status: state.status ?? 200,
    ...(flash && (state.status ?? 200) === 200 ? { flash } : {}),
    script: QUERY_CHECK_SCRIPT,
  });
}

async function findWatch(
  c: C,
  id: string,
): Promise<{ config: Config; watch: Watch | undefined; index: number }> {
  const { config } = await depsOf(c).repos.config.current();
  const index = config.watches.findIndex((w) => w.id === id);
  return { config, watch: config.watches[index], index };
}

function notFound(c: C) {
  return page(c, {
    title: t(c, 'config.notFound'),
    body: html`<p>${t(c, 'config.watch.notFound')}</p><p><a href="/watches">${t(c, 'config.watch.back')}</a></p>`,
    active: 'watches',
    status: 404,
  });
}

function listPage(c: C, config: Config) {
  const user = userOf(c);
  const canEdit = atLeast(user.role, 'editor');
  const filter = c.req.query('platform');
  const platform = PLATFORMS.find((p) => p === filter);
  const watches = config.watches.filter(
    (w) =>
      platform === undefined ||
      w.platforms === undefined ||
      w.platforms.length === 0 ||
      w.platforms.includes(platform),
  );
  const { items: shown, nav } = listPageOf(c, watches);
  const filterLink = (value: Platform | undefined, label: string) =>
    html`<a href="/watches${value ? `?platform=${value}` : ''}" class="${platform === value ? 'active' : ''}">${label}</a>`;
  const body = html`${configStyle(c)}
    <p class="filters">${t(c, 'config.filter')}: ${filterLink(undefined, t(c, 'config.all'))} ${PLATFORMS.map((p) => filterLink(p, t(c, `config.platform.${p}`)))}</p>
    ${canEdit ? html`<p><a class="button" href="/watches/new">${t(c, 'config.watch.new')}</a></p>` : ''}
    ${
      watches.length === 0
        ? html`<p class="muted">${t(c, 'config.watch.empty')}</p>`
        : html`<table>
          <thead><tr><th>${t(c, 'config.watch.id')}</th><th>${t(c, 'config.watch.name')}</th><th>${t(c, 'config.watch.query')}</th><th>${t(c, 'config.watch.platforms')}</th><th>${t(c, 'config.watch.languages')}</th><th>${t(c, 'config.state')}</th><th></th></tr></thead>
          <tbody>${shown.map(
            (w) => html`<tr id="watch-${w.id}">
              <td><a href="/watches/${encodeURIComponent(w.id)}"><code>${w.id}</code></a></td>
              <td>${w.name ?? ''}</td>
              <td><code>${w.query}</code></td>
              <td>${w.platforms === undefined || w.platforms.length === 0 ? t(c, 'config.all') : w.platforms.map((p) => t(c, `config.platform.${p}`)).join(', ')}</td>
              <td>${w.languages === undefined || w.languages.length === 0 ? t(c, 'config.any') : w.languages.join(', ')}</td>
              <td><span class="badge ${w.enabled ? 'on' : 'off'}">${w.enabled ? t(c, 'config.enabled') : t(c, 'config.disabled')}</span></td>
              <td class="actions">
                <a href="/watches/${encodeURIComponent(w.id)}/preview#preview">${t(c, 'config.preview.short')}</a>
                ${
                  canEdit
                    ? html`<form method="post" action="/watches/${encodeURIComponent(w.id)}/toggle">${csrfField(c)}<button class="secondary" type="submit">${w.enabled ? t(c, 'config.disable') : t(c, 'config.enable')}</button></form>`
                    : ''
                }
              </td>
            </tr>`,
          )}</tbody>
        </table>${nav}`
    }`;
  const flash = doneFlash(c);
  return page(c, { title: t(c, 'nav.watches'), body, active: 'watches', ...(flash ? { flash } : {}) });
}

/** Saves the form: local checks first (field errors in the user's language), then the whole configuration. */
async function save(c: C, form: WatchForm) {
  const local = checkForm(c, form);
  const { config, index } = await findWatch(c, form.id);
  const outcome = await saveItem(c, {
    path: '/watches',
    form,
    index,
    count: config.watches.length,
    problems: local.problems,
    input: watchInput(form),
    upsert: (input, actor) => depsOf(c).repos.config.upsertWatch(input, actor),
  });
  if ('saved' in outcome) return outcome.saved;
  const { problems } = outcome;
  const isField = (path: string) =>
    ['id', 'name', 'query', 'platforms', 'languages', 'enabled'].includes(fieldOfPath(path) ?? '');
  const { errors, general } = toFieldErrors(problems, (path) =>
    isField(path) ? fieldOfPath(path) : undefined,
  );
  return renderWatchPage(c, {
    form,
    errors,
    general,
    problemCount: problems.length,
    queryError: local.queryError,
    status: 422,
  });
}

export function registerWatchRoutes(app: Hono<AppEnv>): void {
  app.get('/watches', requireUser, async (c) => listPage(c, (await depsOf(c).repos.config.current()).config));

  app.get('/watches/new', requireRole('editor'), (c) => renderWatchPage(c, { form: EMPTY }));

  app.get('/watches/:id', requireUser, async (c) => {
    const { watch } = await findWatch(c, c.req.param('id'));
    if (watch === undefined) return notFound(c);
    return renderWatchPage(c, { form: formOf(watch) });
  });

  app.get('/watches/:id/preview', requireUser, async (c) => {
    const { watch } = await findWatch(c, c.req.param('id'));
    if (watch === undefined) return notFound(c);
    const preview = await dryRunWatch(depsOf(c), { ...watch }, depsOf(c).now());
    return renderWatchPage(c, { form: formOf(watch), preview, previewSaved: true });
  });

  app.post('/watches', requireRole('editor'), async (c) => {
    const body = await readForm(c);
    const form = readWatchForm(body);
    const action = str(body, 'action');
    if (action === 'preview' || action === 'fetch') {
      const local = checkForm(c, form);
      if (local.problems.length > 0) {
        const { errors, general } = toFieldErrors(local.problems, fieldOfPath);
        return renderWatchPage(c, {
          form,
          errors,
          general,
          problemCount: local.problems.length,
          queryError: local.queryError,
          status: 422,
        });
      }
      const deps = depsOf(c);
      if (action === 'preview')
        return renderWatchPage(c, { form, preview: await dryRunWatch(deps, watchInput(form), deps.now()) });
      const fetched = await fetchFresh(
        deps,
        c.get('lang'),
        watchInput(form),
        str(body, 'account'),
        deps.now(),
      );
      return renderWatchPage(c, { form, fetched, status: fetched.ok ? 200 : 422 });
    }
    return save(c, form);
  });

  registerToggle(app, {
    back: 'config.watch.back',
    path: '/watches',
    active: 'watches',
    anchor: 'watch',
    find: async (c, id) => (await findWatch(c, id)).watch,
    save: (c, watch) => depsOf(c).repos.config.upsertWatch(watch, actorOf(c)),
    notFound,
  });

  registerDelete(app, {
    path: '/watches',
    active: 'watches',
    noun: 'config.watch.noun',
    exists: async (c, id) => (await findWatch(c, id)).watch !== undefined,
    remove: (c, id) => depsOf(c).repos.config.removeWatch(id, actorOf(c)),
    notFound,
  });
}
