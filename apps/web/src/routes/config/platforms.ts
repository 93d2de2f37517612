import type { InstanceInfo } from '@kikimimi/connectors';
import type { PlatformAccount } from '@kikimimi/db';
import { PLATFORMS, type Platform, platformOptionsSchema } from '@kikimimi/rules';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { requireRecentSignIn, requireRole, requireUser } from '../../auth/middleware.ts';
import type { AppEnv } from '../../context.ts';
import { t } from '../../i18n.ts';
import { atLeast, csrfField, type FieldErrors, fieldError, page } from '../../layout.ts';
import {
  type AccountStatus,
  accountFieldsSchema,
  accountStatus,
  checkCredentials,
  repositoryProblems,
  X_COST_PER_POST_READ,
} from './accounts.ts';
import { addressProblems, type ConnectionResult, testConnection } from './connectors.ts';
import {
  actorOf,
  type C,
  checked,
  configStyle,
  defined,
  depsOf,
  doneFlash,
  doneUrl,
  type FormBody,
  localizeProblems,
  num,
  type Problem,
  problemSummary,
  publishChange,
  readForm,
  str,
  toFieldErrors,
  userOf,
  validate,
  when,
} from './shared.ts';
import { badge, checkbox, field, textInput } from './ui.ts';

/** Platforms whose accounts this page connects: all of them. */
const CONNECTABLE = PLATFORMS;

/** Non-secret values of a connect or edit form; secret fields are never filled back in. */
export interface AccountForm {
  readonly label: string;
  readonly baseUrl: string;
  readonly streamingUrl: string;
  readonly enabled: boolean;
  readonly pollIntervalSeconds: string;
  readonly streamEnabled: boolean;
  /** X: oauth1 or oauth2. */
  readonly credentialKind: string;
}

const SECRET_FIELDS = {
  x: { oauth1: ['appKey', 'appSecret', 'accessToken', 'accessSecret'], oauth2: ['oauth2AccessToken'] },
  mastodon: ['accessToken'],
  bluesky: ['identifier', 'appPassword'],
} as const;

function readAccountForm(body: FormBody): AccountForm {
  return {
    label: str(body, 'label'),
    baseUrl: str(body, 'baseUrl'),
    streamingUrl: str(body, 'streamingUrl'),
    enabled: checked(body, 'enabled'),
    pollIntervalSeconds: str(body, 'pollIntervalSeconds'),
    streamEnabled: checked(body, 'streamEnabled'),
    credentialKind: str(body, 'credentialKind') === 'oauth2' ? 'oauth2' : 'oauth1',
  };
}

function formOf(account: PlatformAccount): AccountForm {
  return {
    label: account.label,
    baseUrl: account.baseUrl ?? '',
    streamingUrl: account.streamingUrl ?? '',
    enabled: account.enabled,
    pollIntervalSeconds: String(account.pollIntervalSeconds),
    streamEnabled: account.streamEnabled,
    credentialKind: 'oauth1',
  };
}

const NEW_FORM: AccountForm = {
  label: '',
  baseUrl: '',
  streamingUrl: '',
  enabled: true,
  pollIntervalSeconds: '60',
  streamEnabled: false,
  credentialKind: 'oauth1',
};

/**
 * The credentials typed into the form, or undefined when every secret field is empty (on an existing
 * account: keep the stored ones). Problem paths are form field names.
 */
function readCredentials(
  c: C,
  platform: Platform,
  body: FormBody,
  kind: string,
): { credentials: unknown; problems: Problem[] } {
  const lang = c.get('lang');
  if (platform === 'bluesky') {
    const identifier = str(body, 'identifier');
    const appPassword = str(body, 'appPassword');
    if (identifier === '' && appPassword === '') return { credentials: undefined, problems: [] };
    const credentials = { identifier, appPassword };
    return { credentials, problems: checkCredentials(lang, platform, credentials) };
  }
  if (platform === 'mastodon') {
    const accessToken = str(body, 'accessToken');
    if (accessToken === '') return { credentials: undefined, problems: [] };
    const credentials = { accessToken };
    return { credentials, problems: checkCredentials(lang, platform, credentials) };
  }
  if (kind === 'oauth2') {
    const accessToken = str(body, 'oauth2AccessToken');
    if (accessToken === '') return { credentials: undefined, problems: [] };
    const credentials = { kind: 'oauth2', accessToken };
    const problems = checkCredentials(lang, platform, credentials).map((p) => ({
      ...p,
      path: 'oauth2AccessToken',
    }));
    return { credentials, problems };
  }
  const values = Object.fromEntries(SECRET_FIELDS.x.oauth1.map((name) => [name, str(body, name)]));
  if (Object.values(values).every((v) => v === '')) return { credentials: undefined, problems: [] };
  const credentials = { kind: 'oauth1', ...values };
  return { credentials, problems: checkCredentials(lang, platform, credentials) };
}

/** The account fields of the form as the repository takes them, checked (messages in the user's language). */
function accountFields(
  c: C,
  platform: Platform,
  form: AccountForm,
): { fields: Record<string, unknown>; problems: Problem[] } {
  const fields = defined({
    label: form.label,
    baseUrl: form.baseUrl === '' ? null : form.baseUrl,
    streamingUrl: platform !== 'x' ? (form.streamingUrl === '' ? null : form.streamingUrl) : undefined,
    enabled: form.enabled,
    pollIntervalSeconds: num({ v: form.pollIntervalSeconds }, 'v') ?? 60,
    streamEnabled: platform !== 'x' ? form.streamEnabled : undefined,
  });
  const checked = validate(accountFieldsSchema, fields, c.get('lang'));
  const problems = checked.ok ? [] : checked.problems;
  if (platform === 'mastodon' && form.baseUrl === '')
    problems.push({ path: 'baseUrl', message: t(c, 'config.account.instanceRequired') });
  return { fields, problems };
}

interface ConnectState {
  readonly platform: Platform;
  readonly form: AccountForm;
  readonly errors?: FieldErrors;
  readonly general?: readonly Problem[];
  readonly problemCount?: number;
  readonly result?: ConnectionResult;
}

interface EditState {
  readonly id: string;
  readonly form: AccountForm;
  readonly errors: FieldErrors;
  readonly general: readonly Problem[];
  readonly problemCount: number;
}

interface OptionsState {
  readonly errors: FieldErrors;
  readonly general: readonly Problem[];
  readonly problemCount: number;
  readonly values: Record<string, string | boolean>;
}

interface PageState {
  readonly connect?: ConnectState;
  readonly edit?: EditState;
  readonly options?: OptionsState;
  readonly flash?: { kind: 'ok' | 'error'; text: string };
  readonly status?: 200 | 404 | 422;
}

function resultLine(c: C, result: ConnectionResult | undefined) {
  if (result === undefined) return '';
  return result.ok
    ? html`<p class="ok" role="status">${t(c, 'config.connect.ok', { handle: result.identity.handle, name: result.identity.displayName })}</p>${instanceLines(c, result.instance)}`
    : html`<p class="error" role="alert">${result.message}</p>`;
}

/** What a Mastodon server says about itself, and what it means for watches. */
function instanceLines(c: C, instance: InstanceInfo | undefined) {
  if (instance === undefined) return '';
  return html`<div class="hint" data-instance="${instance.domain}">
<p>${t(c, 'config.connect.instance', { domain: instance.domain, version: instance.version || '?', max: instance.maxCharacters })}</p>
<p>${t(c, 'config.connect.instanceSearch')}</p>
${instance.search.idBoundsRefused ? html`<p>${t(c, 'config.connect.instanceIdBounds')}</p>` : ''}
${instance.hashtagTimelines === null ? '' : html`<p>${t(c, 'config.connect.instanceHashtags', { access: instance.hashtagTimelines })}</p>`}
</div>`;
}

function secretInput(
  c: C,
  prefix: string,
  name: string,
  label: string,
  errors: FieldErrors | undefined,
  existing: boolean,
) {
  return field({
    path: name,
    id: `${prefix}${name}`,
    label,
    errors,
    hint: existing ? t(c, 'config.account.keepSecret') : undefined,
    control: textInput({
      path: name,
      id: `${prefix}${name}`,
      type: 'password',
      value: '',
      errors,
      autocomplete: 'new-password',
    }),
  });
}

/** The fields shared by the connect form and the edit form of an account. */
function accountFormFields(
  c: C,
  prefix: string,
  platform: Platform,
  form: AccountForm,
  errors: FieldErrors | undefined,
  existing: boolean,
) {
  const x = platform === 'x';
  const id = (path: string) => `${prefix}${path}`;
  if (platform === 'bluesky')
    return html`
    ${field({ path: 'label', id: id('label'), label: t(c, 'config.account.label'), errors, hint: t(c, 'config.account.labelHint'), control: textInput({ path: 'label', id: id('label'), value: form.label, errors, required: true }) })}
    <div class="row">
      <div>${field({ path: 'identifier', id: id('identifier'), label: t(c, 'config.account.blueskyHandle'), errors, hint: existing ? t(c, 'config.account.keepSecret') : 'alice.bsky.social', control: textInput({ path: 'identifier', id: id('identifier'), value: '', errors, autocomplete: 'off' }) })}</div>
      <div>${secretInput(c, prefix, 'appPassword', t(c, 'config.account.appPassword'), errors, existing)}</div>
    </div>
    ${field({ path: 'baseUrl', id: id('baseUrl'), label: t(c, 'config.account.pdsUrl'), errors, hint: t(c, 'config.account.pdsUrlHint'), control: textInput({ path: 'baseUrl', id: id('baseUrl'), type: 'url', value: form.baseUrl, errors, placeholder: 'https://bsky.social' }) })}
    <div class="row">
      <div>${field({ path: 'pollIntervalSeconds', id: id('pollIntervalSeconds'), label: t(c, 'config.account.interval'), errors, control: textInput({ path: 'pollIntervalSeconds', id: id('pollIntervalSeconds'), type: 'number', min: 1, value: form.pollIntervalSeconds, errors }) })}</div>
    </div>
    ${checkbox({ path: 'enabled', id: id('enabled'), label: t(c, 'config.enabled'), checked: form.enabled })}
    ${checkbox({ path: 'streamEnabled', id: id('streamEnabled'), label: t(c, 'config.account.stream'), checked: form.streamEnabled })}
    <details${form.streamingUrl !== '' ? html` open` : ''}><summary>${t(c, 'config.account.advanced')}</summary>
      ${field({ path: 'streamingUrl', id: id('streamingUrl'), label: t(c, 'config.account.relayUrl'), errors, hint: t(c, 'config.account.relayUrlHint'), control: textInput({ path: 'streamingUrl', id: id('streamingUrl'), type: 'url', value: form.streamingUrl, errors, placeholder: 'https://bsky.network' }) })}
    </details>`;
  return html`
    ${field({ path: 'label', id: id('label'), label: t(c, 'config.account.label'), errors, hint: t(c, 'config.account.labelHint'), control: textInput({ path: 'label', id: id('label'), value: form.label, errors, required: true }) })}
    ${x ? '' : field({ path: 'baseUrl', id: id('baseUrl'), label: t(c, 'config.account.instanceUrl'), errors, hint: 'https://mstdn.jp', control: textInput({ path: 'baseUrl', id: id('baseUrl'), type: 'url', value: form.baseUrl, errors, required: true, placeholder: 'https://' }) })}
    ${
      x
        ? html`<div class="field checks"><label>${t(c, 'config.account.credentialKind')}</label>
            <label><input type="radio" name="credentialKind" value="oauth1"${form.credentialKind !== 'oauth2' ? html` checked` : ''}> ${t(c, 'config.account.oauth1')}</label>
            <label><input type="radio" name="credentialKind" value="oauth2"${form.credentialKind === 'oauth2' ? html` checked` : ''}> ${t(c, 'config.account.oauth2')}</label></div>
          <fieldset class="card"><legend>${t(c, 'config.account.oauth1')}</legend>
            <div class="row">
              <div>${secretInput(c, prefix, 'appKey', t(c, 'config.account.appKey'), errors, existing)}</div>
              <div>${secretInput(c, prefix, 'appSecret', t(c, 'config.account.appSecret'), errors, existing)}</div>
            </div>
            <div class="row">
              <div>${secretInput(c, prefix, 'accessToken', t(c, 'config.account.accessToken'), errors, existing)}</div>
              <div>${secretInput(c, prefix, 'accessSecret', t(c, 'config.account.accessSecret'), errors, existing)}</div>
            </div>
          </fieldset>
          <fieldset class="card"><legend>${t(c, 'config.account.oauth2')}</legend>
            ${secretInput(c, prefix, 'oauth2AccessToken', t(c, 'config.account.oauth2Token'), errors, existing)}
            <p class="hint">${t(c, 'config.account.oauth2Hint')}</p>
          </fieldset>`
        : secretInput(c, prefix, 'accessToken', t(c, 'config.account.accessToken'), errors, existing)
    }
    <div class="row">
      <div>${field({ path: 'pollIntervalSeconds', id: id('pollIntervalSeconds'), label: t(c, 'config.account.interval'), errors, control: textInput({ path: 'pollIntervalSeconds', id: id('pollIntervalSeconds'), type: 'number', min: 1, value: form.pollIntervalSeconds, errors }) })}</div>
    </div>
    ${checkbox({ path: 'enabled', id: id('enabled'), label: t(c, 'config.enabled'), checked: form.enabled })}
    ${x ? '' : checkbox({ path: 'streamEnabled', id: id('streamEnabled'), label: t(c, 'config.account.stream'), checked: form.streamEnabled })}
    <details${form.baseUrl !== '' && x ? html` open` : form.streamingUrl !== '' ? html` open` : ''}><summary>${t(c, 'config.account.advanced')}</summary>
      ${x ? field({ path: 'baseUrl', id: id('baseUrl'), label: t(c, 'config.account.baseUrl'), errors, hint: t(c, 'config.account.baseUrlHint'), control: textInput({ path: 'baseUrl', id: id('baseUrl'), type: 'url', value: form.baseUrl, errors, placeholder: 'https://api.x.com' }) }) : ''}
      ${x ? '' : field({ path: 'streamingUrl', id: id('streamingUrl'), label: t(c, 'config.account.streamingUrl'), errors, hint: t(c, 'config.account.streamingUrlHint'), control: textInput({ path: 'streamingUrl', id: id('streamingUrl'), type: 'url', value: form.streamingUrl, errors }) })}
    </details>`;
}

function connectForm(c: C, platform: Platform, state: ConnectState | undefined) {
  const form = state?.platform === platform ? state.form : NEW_FORM;
  const errors = state?.platform === platform ? state.errors : undefined;
  return html`<details class="card" id="connect-${platform}"${state?.platform === platform ? html` open` : ''}>
    <summary><strong>${t(c, 'config.connect.title', { platform: t(c, `config.platform.${platform}`) })}</strong></summary>
    ${state?.platform === platform ? html`${problemSummary(c, state.general ?? [], state.problemCount ?? 0)}${resultLine(c, state.result)}` : ''}
    <p class="hint">${t(c, `config.connect.${platform}Hint`)}</p>
    <form method="post" action="/platforms/${platform}" novalidate autocomplete="off">
      ${csrfField(c)}
      ${accountFormFields(c, `connect-${platform}-`, platform, form, errors, false)}
      ${checkbox({ path: `saveUntested-${platform}`, name: 'saveUntested', label: t(c, 'config.connect.saveUntested'), checked: false })}
      <p class="actions">
        <button type="submit" name="action" value="connect">${t(c, 'config.connect.connect')}</button>
        <button type="submit" name="action" value="test" class="secondary">${t(c, 'config.connect.testOnly')}</button>
      </p>
      <p class="hint">${t(c, 'config.account.secretsNote')}</p>
    </form>
  </details>`;
}

function sourcesTable(c: C, status: AccountStatus) {
  if (status.sources.length === 0) return html`<p class="muted">${t(c, 'config.account.noSources')}</p>`;
  return html`<table>
    <thead><tr><th>${t(c, 'config.account.source')}</th><th>${t(c, 'config.account.lastPoll')}</th><th>${t(c, 'config.account.rateLimit')}</th><th>${t(c, 'config.account.lastError')}</th></tr></thead>
    <tbody>${status.sources.map(
      (s) => html`<tr>
        <td><code>${s.sourceKey}</code></td>
        <td>${when(c, s.lastPolledAt)}${s.notBefore ? html`<div class="hint">${t(c, 'config.account.notBefore', { at: when(c, s.notBefore) })}</div>` : ''}</td>
        <td>${s.rateLimitRemaining === null ? '—' : html`${s.rateLimitRemaining}${s.rateLimitLimit === null ? '' : ` / ${s.rateLimitLimit}`}<div class="hint">${t(c, 'config.account.resets', { at: when(c, s.rateLimitResetAt) })}</div>`}</td>
        <td>${s.lastError ? html`<span class="error">${s.lastError}</span><div class="hint">${when(c, s.lastErrorAt)} · ${t(c, 'config.account.failures', { n: s.consecutiveFailures })}</div>` : '—'}</td>
      </tr>`,
    )}</tbody>
  </table>`;
}

const perCaseText = (n: number) => n.toFixed(n < 0.1 ? 3 : 2);

/** What following customers' answers costs on X now (one request per check for every followed case). */
function followCostLine(c: C, status: AccountStatus) {
  const follow = status.follow;
  if (follow === null) return '';
  const line =
    follow.followedCases === 0
      ? t(c, 'config.account.follow.idle', { every: follow.checkEveryMinutes })
      : t(c, 'config.account.follow.line', {
          cases: follow.followedCases,
          every: follow.checkEveryMinutes,
          perDay: Math.round(follow.requestsPerDay),
          perCase: perCaseText(follow.requestsPerCasePerDay ?? 0),
        });
  return html`<div data-figure="follow-cost"><strong>${t(c, 'config.account.follow.title')}</strong>: ${line} <span class="hint">${t(c, 'config.account.follow.note')}</span></div>`;
}

function accountCard(c: C, status: AccountStatus, isAdmin: boolean, edit: EditState | undefined) {
  const { account } = status;
  const editing = edit?.id === account.id ? edit : undefined;
  return html`<article class="card" id="account-${account.id}">
    <h3>${account.label} ${badge(account.enabled, t(c, 'config.enabled'), t(c, 'config.disabled'))} ${account.demo ? html`<span class="badge">${t(c, 'config.account.demo')}</span>` : ''}</h3>
    <table><tbody>
      <tr><th>${t(c, 'config.account.handle')}</th><td>${account.handle ? `@${account.handle}` : html`<span class="muted">${t(c, 'config.account.unchecked')}</span>`}</td></tr>
      ${account.baseUrl ? html`<tr><th>${account.platform === 'x' ? t(c, 'config.account.baseUrl') : account.platform === 'bluesky' ? t(c, 'config.account.pdsUrl') : t(c, 'config.account.instanceUrl')}</th><td><code>${account.baseUrl}</code></td></tr>` : ''}
      <tr><th>${t(c, 'config.account.interval')}</th><td>${t(c, 'config.account.seconds', { n: account.pollIntervalSeconds })}</td></tr>
      ${account.platform !== 'x' ? html`<tr><th>${t(c, 'config.account.stream')}</th><td>${badge(account.streamEnabled, t(c, 'config.on'), t(c, 'config.off'))}${account.streamingUrl ? html` <code>${account.streamingUrl}</code>` : ''}</td></tr>` : ''}
      <tr><th>${t(c, 'config.account.usage', { month: status.month })}</th><td>${t(c, 'config.account.usageLine', { read: status.postsRead, requests: status.requests, replies: status.replies })}
        ${status.estimatedCostUsd === null ? '' : html`<div><strong>${t(c, 'config.account.cost', { cost: `$${status.estimatedCostUsd.toFixed(2)}` })}</strong> <span class="hint">${t(c, 'config.account.costNote', { per: `$${X_COST_PER_POST_READ}` })}</span></div>`}
        ${followCostLine(c, status)}</td></tr>
      <tr><th>${t(c, 'config.account.lastError')}</th><td>${status.lastError ? html`<span class="error">${status.lastError.message}</span> <span class="hint">${when(c, status.lastError.at)} · <code>${status.lastError.source}</code></span>` : '—'}</td></tr>
    </tbody></table>
    <h4>${t(c, 'config.account.sources')}</h4>
    ${sourcesTable(c, status)}
    ${
      isAdmin
        ? html`<div class="actions">
            <form class="inline" method="post" action="/platforms/accounts/${account.id}/test">${csrfField(c)}<button type="submit" class="secondary">${t(c, 'config.connect.test')}</button></form>
            <a href="/platforms/accounts/${account.id}/delete">${t(c, 'config.account.remove')}</a>
          </div>
          <details${editing ? html` open` : ''}><summary>${t(c, 'config.account.edit')}</summary>
            ${editing ? problemSummary(c, editing.general, editing.problemCount) : ''}
            <form method="post" action="/platforms/accounts/${account.id}" novalidate autocomplete="off">
              ${csrfField(c)}
              ${accountFormFields(c, `account-${account.id}-`, account.platform, editing?.form ?? formOf(account), editing?.errors, true)}
              <p><button type="submit">${t(c, 'config.save')}</button></p>
            </form>
          </details>`
        : ''
    }
  </article>`;
}

function optionsSection(
  c: C,
  config: {
    x: { excludeReposts: boolean; maxQueryLength: number };
    mastodon: { maxCharacters: number; instance?: string | undefined };
  },
  canEdit: boolean,
  state: OptionsState | undefined,
) {
  const v = state?.values;
  const errors = state?.errors;
  const value = (key: string, fallback: string | number | undefined) =>
    v && typeof v[key] === 'string' ? (v[key] as string) : (fallback ?? '');
  const flag = (key: string, fallback: boolean) => (v ? v[key] === true : fallback);
  return html`<section class="card" id="options">
    <h2>${t(c, 'config.options.title')}</h2>
    ${state ? problemSummary(c, state.general, state.problemCount) : ''}
    <form method="post" action="/platforms/options" novalidate>
      ${csrfField(c)}
      <fieldset${canEdit ? '' : html` disabled`}>
        ${checkbox({ path: 'x.excludeReposts', label: t(c, 'config.options.excludeReposts'), checked: flag('x.excludeReposts', config.x.excludeReposts) })}
        <div class="row">
          <div>${field({ path: 'x.maxQueryLength', label: t(c, 'config.options.maxQueryLength'), errors, control: textInput({ path: 'x.maxQueryLength', type: 'number', value: value('x.maxQueryLength', config.x.maxQueryLength), errors }) })}</div>
          <div>${field({ path: 'mastodon.maxCharacters', label: t(c, 'config.options.maxCharacters'), errors, hint: t(c, 'config.options.maxCharactersHint'), control: textInput({ path: 'mastodon.maxCharacters', type: 'number', value: value('mastodon.maxCharacters', config.mastodon.maxCharacters), errors }) })}</div>
          <div>${field({ path: 'mastodon.instance', label: t(c, 'config.options.instance'), errors, hint: t(c, 'config.options.instanceHint'), control: textInput({ path: 'mastodon.instance', value: value('mastodon.instance', config.mastodon.instance), errors, placeholder: 'mstdn.jp' }) })}</div>
        </div>
        ${canEdit ? html`<p><button type="submit">${t(c, 'config.save')}</button></p>` : ''}
      </fieldset>
    </form>
  </section>`;
}

async function renderPage(c: C, state: PageState = {}) {
  const deps = depsOf(c);
  const role = userOf(c).role;
  const isAdmin = atLeast(role, 'admin');
  const now = deps.now();
  const [accounts, { config }] = await Promise.all([deps.repos.accounts.list(), deps.repos.config.current()]);
  const statuses = await Promise.all(accounts.map((account) => accountStatus(deps, account, now)));
  const body = html`${configStyle(c)}
    ${CONNECTABLE.map((platform) => {
      const mine = statuses.filter((s) => s.account.platform === platform);
      return html`<section id="platform-${platform}">
        <h2>${t(c, `config.platform.${platform}`)}</h2>
        ${mine.length === 0 ? html`<p class="muted">${t(c, 'config.account.none')}</p>` : mine.map((s) => accountCard(c, s, isAdmin, state.edit))}
        ${isAdmin ? connectForm(c, platform, state.connect) : ''}
      </section>`;
    })}
    ${isAdmin ? '' : html`<p class="muted">${t(c, 'config.adminOnly')}</p>`}
    ${optionsSection(c, config.platforms, atLeast(role, 'editor'), state.options)}`;
  const flash = state.flash ?? doneFlash(c);
  return page(c, {
    title: t(c, 'nav.platforms'),
    body,
    active: 'platforms',
    status: state.status ?? 200,
    ...(flash ? { flash } : {}),
  });
}

/** Field of the account form a problem belongs to. */
const ACCOUNT_FIELDS = new Set([
  'label',
  'baseUrl',
  'streamingUrl',
  'enabled',
  'pollIntervalSeconds',
  'streamEnabled',
  'appKey',
  'appSecret',
  'accessToken',
  'accessSecret',
  'oauth2AccessToken',
  'identifier',
  'appPassword',
]);
const accountField = (path: string) => {
  const name = path.replace(/^credentials\./u, '').split(/[.[]/u)[0] ?? '';
  return ACCOUNT_FIELDS.has(name) ? name : undefined;
};

async function connect(c: C, platform: Platform) {
  const deps = depsOf(c);
  const lang = c.get('lang');
  const body = await readForm(c);
  const form = readAccountForm(body);
  const action = str(body, 'action') === 'test' ? 'test' : 'connect';
  const { fields, problems } = accountFields(c, platform, form);
  const creds = readCredentials(c, platform, body, form.credentialKind);
  problems.push(...creds.problems);
  if (creds.credentials === undefined) {
    const path =
      platform === 'x' && form.credentialKind === 'oauth2'
        ? 'oauth2AccessToken'
        : platform === 'x'
          ? 'appKey'
          : platform === 'bluesky'
            ? 'appPassword'
            : 'accessToken';
    problems.push({ path, message: t(c, 'config.account.credentialsRequired') });
  }
  const fail = (list: Problem[], result?: ConnectionResult) => {
    const { errors, general } = toFieldErrors(list, accountField);
    return renderPage(c, {
      connect: { platform, form, errors, general, problemCount: list.length, ...(result ? { result } : {}) },
      status: 422,
    });
  };
  if (problems.length > 0) return fail(problems);

  const target = {
    platform,
    baseUrl: (fields.baseUrl as string | null | undefined) ?? null,
    streamingUrl: (fields.streamingUrl as string | null | undefined) ?? null,
    credentials: creds.credentials,
  };
  const result = await testConnection(lang, target, {
    allowPrivateNetworks: deps.allowPrivateNetworks ?? false,
  });
  if (action === 'test') {
    return renderPage(c, { connect: { platform, form, result }, status: result.ok ? 200 : 422 });
  }
  // A destination on a private network is never saved untested: the worker would poll it with the token.
  if (!result.ok && (result.kind === 'private' || !checked(body, 'saveUntested'))) return fail([], result);

  let account: PlatformAccount;
  try {
    account = await deps.repos.accounts.create(
      { platform, ...fields, credentials: creds.credentials } as never,
      actorOf(c),
    );
  } catch (error) {
    const refused = repositoryProblems(lang, error);
    if (refused === null) throw error;
    return fail(refused, result);
  }
  if (result.ok)
    await deps.repos.accounts.recordIdentity(account.id, {
      handle: result.identity.handle,
      accountId: result.identity.id,
    });
  await publishChange(c, 'account');
  return c.redirect(doneUrl(`/platforms#account-${account.id}`, 'connected'), 303);
}

async function testStored(c: C, account: PlatformAccount): Promise<ConnectionResult> {
  const deps = depsOf(c);
  let credentials: unknown;
  try {
    credentials = await deps.repos.accounts.credentials(account.id);
  } catch (error) {
    deps.log.error({ err: error, account: account.id }, 'stored credentials unreadable');
    return { ok: false, kind: 'invalid', message: t(c, 'config.fetch.credentials') };
  }
  const result = await testConnection(
    c.get('lang'),
    { ...account, credentials },
    { allowPrivateNetworks: deps.allowPrivateNetworks ?? false },
  );
  if (result.ok)
    await deps.repos.accounts.recordIdentity(account.id, {
      handle: result.identity.handle,
      accountId: result.identity.id,
    });
  return result;
}

const resultFlash = (c: C, account: PlatformAccount, result: ConnectionResult) =>
  result.ok
    ? {
        kind: 'ok' as const,
        text: `${account.label}: ${t(c, 'config.connect.ok', { handle: result.identity.handle, name: result.identity.displayName })}`,
      }
    : { kind: 'error' as const, text: `${account.label}: ${result.message}` };

function accountNotFound(c: C) {
  return renderPage(c, { flash: { kind: 'error', text: t(c, 'config.account.notFound') }, status: 404 });
}

export function registerPlatformRoutes(app: Hono<AppEnv>): void {
  app.get('/platforms', requireUser, (c) => renderPage(c));

  app.post('/platforms/options', requireRole('editor'), async (c) => {
    const lang = c.get('lang');
    const body = await readForm(c);
    const instance = str(body, 'mastodon.instance');
    const input = {
      x: { excludeReposts: checked(body, 'x.excludeReposts'), maxQueryLength: num(body, 'x.maxQueryLength') },
      mastodon: defined({
        maxCharacters: num(body, 'mastodon.maxCharacters'),
        instance: instance === '' ? undefined : instance,
      }),
    };
    const problems: Problem[] = [];
    const validated = validate(platformOptionsSchema, input, lang);
    if (!validated.ok) problems.push(...validated.problems);
    if (problems.length === 0) {
      const result = await depsOf(c).repos.config.setPlatformOptions(input, actorOf(c));
      if (result.ok) {
        await publishChange(c, 'platform options');
        return c.redirect(doneUrl('/platforms#options', 'saved', result.version), 303);
      }
      problems.push(
        ...localizeProblems(lang, result.problems).map((p) => ({
          ...p,
          path: p.path.replace(/^platforms\./u, ''),
        })),
      );
    }
    const { errors, general } = toFieldErrors(problems, (path) =>
      /^(?:x|mastodon)\.\w+$/u.test(path) ? path : undefined,
    );
    const values: Record<string, string | boolean> = {
      'x.excludeReposts': checked(body, 'x.excludeReposts'),
      'x.maxQueryLength': str(body, 'x.maxQueryLength'),
      'mastodon.maxCharacters': str(body, 'mastodon.maxCharacters'),
      'mastodon.instance': instance,
    };
    return renderPage(c, {
      options: { errors, general, problemCount: problems.length, values },
      status: 422,
    });
  });

  for (const platform of CONNECTABLE) {
    app.post(`/platforms/${platform}`, requireRole('admin'), requireRecentSignIn('/platforms'), (c) =>
      connect(c, platform),
    );
  }

  app.post(
    '/platforms/accounts/:id/test',
    requireRole('admin'),
    requireRecentSignIn('/platforms'),
    async (c) => {
      const account = await depsOf(c).repos.accounts.get(c.req.param('id'));
      if (account === null) return accountNotFound(c);
      const result = await testStored(c, account);
      return renderPage(c, { flash: resultFlash(c, account, result), status: result.ok ? 200 : 422 });
    },
  );

  app.post('/platforms/accounts/:id', requireRole('admin'), requireRecentSignIn('/platforms'), async (c) => {
    const deps = depsOf(c);
    const lang = c.get('lang');
    const account = await deps.repos.accounts.get(c.req.param('id'));
    if (account === null) return accountNotFound(c);
    const body = await readForm(c);
    const form = readAccountForm(body);
    const { fields, problems } = accountFields(c, account.platform, form);
    const creds = readCredentials(c, account.platform, body, form.credentialKind);
    problems.push(...creds.problems);
    problems.push(
      ...(await addressProblems(lang, fields, { allowPrivateNetworks: deps.allowPrivateNetworks ?? false })),
    );
    const fail = (list: Problem[]) => {
      const { errors, general } = toFieldErrors(list, accountField);
      return renderPage(c, {
        edit: { id: account.id, form, errors, general, problemCount: list.length },
        status: 422,
      });
    };
    if (problems.length > 0) return fail(problems);
    const patch = {
      ...fields,
      ...(creds.credentials === undefined ? {} : { credentials: creds.credentials }),
    };
    let updated: PlatformAccount;
    try {
      updated = await deps.repos.accounts.update(account.id, patch, actorOf(c));
    } catch (error) {
      const refused = repositoryProblems(lang, error);
      if (refused === null) throw error;
      return fail(refused);
    }
    await publishChange(c, 'account');
    // New credentials or a new address clear the recorded identity: check them right away.
    if (
      creds.credentials !== undefined ||
      updated.baseUrl !== account.baseUrl ||
      updated.streamingUrl !== account.streamingUrl
    ) {
      const result = await testStored(c, updated);
      const flash = resultFlash(c, updated, result);
      return renderPage(c, {
        flash: { kind: flash.kind, text: `${t(c, 'config.done.saved')} ${flash.text}` },
      });
    }
    return c.redirect(doneUrl(`/platforms#account-${account.id}`, 'saved'), 303);
  });

  app.get(
    '/platforms/accounts/:id/delete',
    requireRole('admin'),
    requireRecentSignIn('/platforms'),
    async (c) => {
      const account = await depsOf(c).repos.accounts.get(c.req.param('id'));
      if (account === null) return accountNotFound(c);
      return page(c, {
        title: t(c, 'config.account.removeTitle', { label: account.label }),
        body: html`${configStyle(c)}<form method="post" action="/platforms/accounts/${account.id}/delete" class="card">
        ${csrfField(c)}
        <p>${t(c, 'config.account.removeConfirm', { label: account.label, platform: t(c, `config.platform.${account.platform}`) })}</p>
        ${checkbox({ path: 'confirm', label: t(c, 'config.account.removeCheck'), checked: false })}
        ${fieldError(c.req.query('confirm') === 'missing' ? { confirm: t(c, 'config.account.removeCheckMissing') } : undefined, 'confirm')}
        <p><button type="submit" class="danger">${t(c, 'config.account.remove')}</button> <a href="/platforms#account-${account.id}">${t(c, 'config.cancel')}</a></p>
      </form>`,
        active: 'platforms',
        status: c.req.query('confirm') === 'missing' ? 422 : 200,
      });
    },
  );

  app.post(
    '/platforms/accounts/:id/delete',
    requireRole('admin'),
    requireRecentSignIn('/platforms'),
    async (c) => {
      const deps = depsOf(c);
      const account = await deps.repos.accounts.get(c.req.param('id'));
      if (account === null) return accountNotFound(c);
      if (!checked(await readForm(c), 'confirm'))
        return c.redirect(`/platforms/accounts/${account.id}/delete?confirm=missing`, 303);
      await deps.repos.accounts.remove(account.id, actorOf(c));
      await publishChange(c, 'account');
      return c.redirect(doneUrl('/platforms', 'disconnected'), 303);
    },
  );
}
