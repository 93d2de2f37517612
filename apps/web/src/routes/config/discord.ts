import { type DiscordSettings, discordSettingsSchema } from '@kikimimi/db';
import { type Config, PLATFORMS, routingSchema } from '@kikimimi/rules';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { requireRole, requireUser } from '../../auth/middleware.ts';
import type { AppEnv, Lang } from '../../context.ts';
import { t } from '../../i18n.ts';
import { atLeast, csrfField, type FieldErrors, page } from '../../layout.ts';
import {
  actorOf,
  type C,
  configStyle,
  depsOf,
  doneFlash,
  doneUrl,
  type FormBody,
  list,
  localizeProblems,
  type Problem,
  problemSummary,
  publishChange,
  readForm,
  str,
  strings,
  toFieldErrors,
  userOf,
  validate,
} from './shared.ts';
import { datalist, field, select, textInput } from './ui.ts';

interface Row {
  readonly name: string;
  readonly id: string;
}

export interface DiscordForm {
  readonly guildId: string;
  readonly channels: readonly Row[];
  readonly reviewerRoleIds: string;
  readonly roles: readonly Row[];
  readonly locale: string;
}

/** Where the configuration uses each logical name, for the admin to see what still needs a Discord id. */
export interface References {
  readonly channels: ReadonlyMap<string, readonly string[]>;
  readonly roles: ReadonlyMap<string, readonly string[]>;
}

/** Channel names (routing, escalation routes, the digest's) and role names (escalation mentions) the configuration refers to. */
export function references(lang: Lang, config: Config): References {
  const channels = new Map<string, string[]>();
  const roles = new Map<string, string[]>();
  const add = (map: Map<string, string[]>, name: string, where: string) =>
    map.set(name, [...(map.get(name) ?? []), where]);
  add(channels, config.routing.defaultReviewChannel, t(lang, 'config.discord.use.default'));
  for (const [platform, name] of Object.entries(config.routing.platforms)) {
    if (name)
      add(
        channels,
        name,
        t(lang, 'config.discord.use.platform', { platform: t(lang, `config.platform.${platform}`) }),
      );
  }
  for (const [watch, name] of Object.entries(config.routing.watches))
    add(channels, name, t(lang, 'config.discord.use.watch', { id: watch }));
  for (const rule of config.escalation) {
    if (rule.actions.route)
      add(channels, rule.actions.route, t(lang, 'config.discord.use.escalation', { id: rule.id }));
    for (const role of rule.actions.mentionRoles) {
      // Only bound names are mentioned (a raw id too is listed here, never pinged: see mention-roles.ts).
      add(roles, role, t(lang, 'config.discord.use.mention', { id: rule.id }));
    }
  }
  if (config.conversations.digest.every !== 'off')
    add(channels, config.conversations.digest.channel, t(lang, 'config.discord.use.digest'));
  return { channels, roles };
}

function rowsOf(
  bound: Readonly<Record<string, string>>,
  referenced: ReadonlyMap<string, readonly string[]>,
): Row[] {
  const rows = Object.entries(bound).map(([name, id]) => ({ name, id }));
  for (const name of referenced.keys()) if (!(name in bound)) rows.push({ name, id: '' });
  return [...rows, { name: '', id: '' }, { name: '', id: '' }];
}

function formOf(settings: DiscordSettings, refs: References): DiscordForm {
  return {
    guildId: settings.guildId ?? '',
    channels: rowsOf(settings.channels, refs.channels),
    reviewerRoleIds: settings.reviewerRoleIds.join(', '),
    roles: rowsOf(settings.roles, refs.roles),
    locale: settings.locale,
  };
}

function readRows(body: FormBody, names: string, ids: string): Row[] {
  const n = strings(body, names);
  const i = strings(body, ids);
  return n.map((name, k) => ({ name: name.trim(), id: (i[k] ?? '').trim() }));
}

function readDiscordForm(body: FormBody): DiscordForm {
  return {
    guildId: str(body, 'guildId'),
    channels: readRows(body, 'channelName', 'channelId'),
    reviewerRoleIds: str(body, 'reviewerRoleIds'),
    roles: readRows(body, 'roleName', 'roleId'),
    locale: str(body, 'locale'),
  };
}

/** The settings the form describes; row problems keyed `channels[2].id`. Rows without an id bind nothing. */
export function discordInput(
  c: C,
  form: DiscordForm,
): { input: Record<string, unknown>; problems: Problem[] } {
  const problems: Problem[] = [];
  const table = (kind: 'channels' | 'roles', rows: readonly Row[]) => {
    const out: Record<string, string> = {};
    rows.forEach((row, i) => {
      if (row.id === '') return;
      if (row.name === '')
        problems.push({ path: `${kind}[${i}].name`, message: t(c, 'config.discord.nameMissing') });
      else if (row.name in out)
        problems.push({
          path: `${kind}[${i}].name`,
          message: t(c, 'config.discord.duplicate', { name: row.name }),
        });
      else out[row.name] = row.id;
    });
    return out;
  };
  const input = {
    guildId: form.guildId === '' ? null : form.guildId,
    channels: table('channels', form.channels),
    reviewerRoleIds: list(form.reviewerRoleIds),
    roles: table('roles', form.roles),
    locale: form.locale,
  };
  return { input, problems };
}

/** `channels.billing` → the row of "billing"; `reviewerRoleIds[1]` → `reviewerRoleIds`. */
function locate(form: DiscordForm, problem: Problem): Problem {
  const row = /^(channels|roles)\.(.+)$/u.exec(problem.path);
  if (row) {
    const kind = row[1] as 'channels' | 'roles';
    const index = form[kind].findIndex((r) => r.name === row[2] && r.id !== '');
    return { ...problem, path: `${kind}[${index}].id` };
  }
  return { ...problem, path: problem.path.split(/[.[]/u)[0] ?? problem.path };
}

interface RoutingForm {
  readonly defaultReviewChannel: string;
  readonly platforms: Readonly<Record<string, string>>;
  readonly watches: Readonly<Record<string, string>>;
}

function routingFormOf(config: Config): RoutingForm {
  return {
    defaultReviewChannel: config.routing.defaultReviewChannel,
    platforms: { ...config.routing.platforms },
    watches: { ...config.routing.watches },
  };
}

interface PageState {
  readonly discord?: { form: DiscordForm; errors: FieldErrors; general: readonly Problem[]; count: number };
  readonly routing?: { form: RoutingForm; errors: FieldErrors; general: readonly Problem[]; count: number };
}

function rowsTable(
  c: C,
  kind: 'channels' | 'roles',
  rows: readonly Row[],
  errors: FieldErrors | undefined,
  names: [string, string],
) {
  const rowError = (path: string) =>
    errors?.[path] ? html`<div class="error" role="alert" data-field="${path}">${errors[path]}</div>` : '';
  return html`<table>
    <thead><tr><th>${t(c, `config.discord.${kind}Name`)}</th><th>${t(c, `config.discord.${kind}Id`)}</th></tr></thead>
    <tbody>${rows.map(
      (row, i) => html`<tr>
        <td>${textInput({ path: `${kind}[${i}].name`, name: names[0], value: row.name, errors })}${rowError(`${kind}[${i}].name`)}</td>
        <td>${textInput({ path: `${kind}[${i}].id`, name: names[1], value: row.id, errors, placeholder: '123456789012345678' })}${rowError(`${kind}[${i}].id`)}</td>
      </tr>`,
    )}</tbody>
  </table>`;
}

function referencesTable(
  c: C,
  refs: ReadonlyMap<string, readonly string[]>,
  bound: Readonly<Record<string, string>>,
) {
  if (refs.size === 0) return html`<p class="muted">—</p>`;
  return html`<table><tbody>${[...refs].map(
    ([name, uses]) => html`<tr>
      <td><code>${name}</code></td>
      <td>${uses.join(', ')}</td>
      <td>${bound[name] ? html`<span class="ok">✓ ${bound[name]}</span>` : html`<span class="error">${t(c, 'config.discord.unbound')}</span>`}</td>
    </tr>`,
  )}</tbody></table>`;
}

async function renderPage(c: C, state: PageState = {}) {
  const deps = depsOf(c);
  const role = userOf(c).role;
  const isAdmin = atLeast(role, 'admin');
  const canEdit = atLeast(role, 'editor');
  const [{ config }, settings] = await Promise.all([deps.repos.config.current(), deps.repos.discord.get()]);
  const refs = references(c.get('lang'), config);
  const form = state.discord?.form ?? formOf(settings, refs);
  const errors = state.discord?.errors;
  const routing = state.routing?.form ?? routingFormOf(config);
  const rErrors = state.routing?.errors;
  const missing = [...refs.channels.keys()].filter((name) => !settings.channels[name]);
  const flash = doneFlash(c);
  const failed = state.discord !== undefined || state.routing !== undefined;
  const body = html`${configStyle(c)}
    <section class="card" id="references">
      <h2>${t(c, 'config.discord.referencesTitle')}</h2>
      ${missing.length > 0 ? html`<p class="error">${t(c, 'config.discord.missing', { names: missing.join(', ') })}</p>` : html`<p class="ok">${t(c, 'config.discord.allBound')}</p>`}
      <h3>${t(c, 'config.discord.channels')}</h3>
      ${referencesTable(c, refs.channels, settings.channels)}
      <h3>${t(c, 'config.discord.roles')}</h3>
      ${referencesTable(c, refs.roles, settings.roles)}
    </section>
    <section class="card" id="settings">
      <h2>${t(c, 'config.discord.settingsTitle')}</h2>
      <p class="hint">${t(c, 'config.discord.intro')}</p>
      ${state.discord ? problemSummary(c, state.discord.general, state.discord.count) : ''}
      <form method="post" action="/discord" novalidate>
        ${csrfField(c)}
        <fieldset${isAdmin ? '' : html` disabled`}>
          <div class="row">
            <div>${field({ path: 'guildId', label: t(c, 'config.discord.guildId'), errors, control: textInput({ path: 'guildId', value: form.guildId, errors, placeholder: '123456789012345678' }) })}</div>
            <div>${field({
              path: 'locale',
              label: t(c, 'config.discord.locale'),
              errors,
              control: select({
                path: 'locale',
                value: form.locale,
                errors,
                options: [
                  { value: 'ja', label: '日本語 (ja)' },
                  { value: 'en', label: 'English (en)' },
                ],
              }),
            })}</div>
          </div>
          <h3>${t(c, 'config.discord.channels')}</h3>
          <p class="hint">${t(c, 'config.discord.rowsHint')}</p>
          ${rowsTable(c, 'channels', form.channels, errors, ['channelName', 'channelId'])}
          ${field({ path: 'reviewerRoleIds', label: t(c, 'config.discord.reviewerRoleIds'), errors, hint: t(c, 'config.discord.reviewerRoleIdsHint'), control: textInput({ path: 'reviewerRoleIds', value: form.reviewerRoleIds, errors }) })}
          <h3>${t(c, 'config.discord.roles')}</h3>
          ${rowsTable(c, 'roles', form.roles, errors, ['roleName', 'roleId'])}
          ${isAdmin ? html`<p><button type="submit">${t(c, 'config.save')}</button></p>` : html`<p class="muted">${t(c, 'config.adminOnly')}</p>`}
        </fieldset>
      </form>
    </section>
    <section class="card" id="routing">
      <h2>${t(c, 'config.routing.title')}</h2>
      <p class="hint">${t(c, 'config.routing.intro')}</p>
      ${state.routing ? problemSummary(c, state.routing.general, state.routing.count) : ''}
      <form method="post" action="/discord/routing" novalidate>
        ${csrfField(c)}
        <fieldset${canEdit ? '' : html` disabled`}>
          ${field({ path: 'defaultReviewChannel', label: t(c, 'config.routing.default'), errors: rErrors, control: textInput({ path: 'defaultReviewChannel', value: routing.defaultReviewChannel, errors: rErrors, list: 'channel-names', required: true }) })}
          <div class="row">${PLATFORMS.map(
            (p) =>
              html`<div>${field({ path: `platforms.${p}`, label: t(c, 'config.routing.platform', { platform: t(c, `config.platform.${p}`) }), errors: rErrors, control: textInput({ path: `platforms.${p}`, value: routing.platforms[p] ?? '', errors: rErrors, list: 'channel-names' }) })}</div>`,
          )}</div>
          ${
            config.watches.length === 0
              ? ''
              : html`<h3>${t(c, 'config.routing.watches')}</h3><div class="row">${config.watches.map(
                  (w) =>
                    html`<div>${field({ path: `watches.${w.id}`, label: w.name ?? w.id, errors: rErrors, control: textInput({ path: `watches.${w.id}`, value: routing.watches[w.id] ?? '', errors: rErrors, list: 'channel-names' }) })}</div>`,
                )}</div>`
          }
          <p class="hint">${t(c, 'config.routing.blank')}</p>
          ${datalist('channel-names', Object.keys(settings.channels))}
          ${canEdit ? html`<p><button type="submit">${t(c, 'config.save')}</button></p>` : ''}
        </fieldset>
      </form>
    </section>`;
  return page(c, {
    title: t(c, 'nav.discord'),
    body,
    active: 'discord',
    status: failed ? 422 : 200,
    ...(flash && !failed ? { flash } : {}),
  });
}

export function registerDiscordRoutes(app: Hono<AppEnv>): void {
  app.get('/discord', requireUser, (c) => renderPage(c));

  app.post('/discord', requireRole('admin'), async (c) => {
    const lang = c.get('lang');
    const form = readDiscordForm(await readForm(c));
    const { input, problems } = discordInput(c, form);
    const validated = validate(discordSettingsSchema, input, lang);
    if (!validated.ok) problems.push(...validated.problems.map((p) => locate(form, p)));
    if (problems.length === 0) {
      const result = await depsOf(c).repos.discord.set(input, actorOf(c));
      if (result.ok) {
        await publishChange(c, 'discord');
        return c.redirect(doneUrl('/discord', 'saved'), 303);
      }
      problems.push(...localizeProblems(lang, result.problems).map((p) => locate(form, p)));
    }
    const { errors, general } = toFieldErrors(problems, (path) =>
      /^(?:guildId|reviewerRoleIds|locale|(?:channels|roles)\[\d+\]\.(?:name|id))$/u.test(path)
        ? path
        : undefined,
    );
    return renderPage(c, { discord: { form, errors, general, count: problems.length } });
  });

  app.post('/discord/routing', requireRole('editor'), async (c) => {
    const lang = c.get('lang');
    const body = await readForm(c);
    const { config } = await depsOf(c).repos.config.current();
    const form: RoutingForm = {
      defaultReviewChannel: str(body, 'defaultReviewChannel'),
      platforms: Object.fromEntries(PLATFORMS.map((p) => [p, str(body, `platforms.${p}`)])),
      watches: Object.fromEntries(config.watches.map((w) => [w.id, str(body, `watches.${w.id}`)])),
    };
    const nonBlank = (record: Readonly<Record<string, string>>) =>
      Object.fromEntries(Object.entries(record).filter(([, v]) => v !== ''));
    const input = {
      defaultReviewChannel: form.defaultReviewChannel,
      platforms: nonBlank(form.platforms),
      watches: nonBlank(form.watches),
    };
    const problems: Problem[] = [];
    const validated = validate(routingSchema, input, lang);
    if (!validated.ok) problems.push(...validated.problems);
    if (problems.length === 0) {
      const result = await depsOf(c).repos.config.setRouting(input, actorOf(c));
      if (result.ok) {
        await publishChange(c, 'routing');
        return c.redirect(doneUrl('/discord#routing', 'saved', result.version), 303);
      }
      problems.push(
        ...localizeProblems(lang, result.problems).map((p) => ({
          ...p,
          path: p.path.replace(/^routing\./u, ''),
        })),
      );
    }
    const { errors, general } = toFieldErrors(problems, (path) =>
      path === 'defaultReviewChannel' || /^(?:platforms|watches)\./u.test(path) ? path : undefined,
    );
    return renderPage(c, { routing: { form, errors, general, count: problems.length } });
  });
}
