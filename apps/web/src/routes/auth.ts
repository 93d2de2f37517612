import { type ApiToken, LastAdminError, MIN_PASSWORD_LENGTH, type User } from '@kikimimi/db';
import { timeZoneSchema } from '@kikimimi/rules';
import { type Context, Hono } from 'hono';
import { html } from 'hono/html';
import { clientIp } from '../auth/client-address.ts';
import { requireRecentSignIn, requireRole, requireUser } from '../auth/middleware.ts';
import { isWeakPassword } from '../auth/password-policy.ts';
import { actorOf, endSession, startSession } from '../auth/session.ts';
import type { AppEnv, Lang, Role } from '../context.ts';
import { addMessages, t } from '../i18n.ts';
import { csrfField, type FieldErrors, fieldError, type Html, page } from '../layout.ts';

addMessages({
  'auth.username': { ja: 'ユーザー名', en: 'Username' },
  'auth.password': { ja: 'パスワード', en: 'Password' },
  'auth.newPassword': { ja: '新しいパスワード', en: 'New password' },
  'auth.currentPassword': { ja: '現在のパスワード', en: 'Current password' },
  'auth.confirm': { ja: 'パスワード（確認）', en: 'Confirm password' },
  'auth.role': { ja: '権限', en: 'Role' },
  'auth.role.admin': { ja: '管理者', en: 'Admin' },
  'auth.role.editor': { ja: '編集者', en: 'Editor' },
  'auth.role.viewer': { ja: '閲覧者', en: 'Viewer' },
  'auth.passwordHint': {
    ja: '{min} 文字以上。よく使われるパスワードや単純な並びは使えません。長い文（パスフレーズ）がおすすめです。',
    en: 'At least {min} characters, not a common password or a simple pattern. A long phrase works well.',
  },
  'auth.error.usernameRequired': { ja: 'ユーザー名を入力してください', en: 'Enter a username' },
  'auth.error.usernameLong': { ja: 'ユーザー名は 64 文字以内です', en: 'At most 64 characters' },
  'auth.error.usernameChars': {
    ja: '文字・数字と . _ - @ だけが使えます',
    en: 'Letters, digits, ".", "_", "-" and "@" only',
  },
  'auth.error.usernameTaken': { ja: 'このユーザー名は使われています', en: 'This username is taken' },
  'auth.error.passwordShort': {
    ja: 'パスワードは {min} 文字以上にしてください',
    en: 'The password needs at least {min} characters',
  },
  'auth.error.passwordLong': { ja: 'パスワードは 1024 文字以内です', en: 'At most 1024 characters' },
  'auth.error.passwordWeak': {
    ja: '推測されやすいパスワードです（よく使われるパスワード、単語の並び、繰り返し、ユーザー名などを含んでいます）。関係のない単語を 4 つほど並べた文にしてください。',
    en: 'This password is too easy to guess (a common password, a keyboard or letter pattern, or your username). Use a phrase of about four unrelated words.',
  },
  'auth.error.confirm': { ja: '確認用のパスワードが一致しません', en: 'The passwords do not match' },
  'auth.error.currentPassword': { ja: '現在のパスワードが違います', en: 'The current password is wrong' },
  'auth.error.role': { ja: '権限を選んでください', en: 'Choose a role' },

  'auth.setup.title': { ja: '初期設定', en: 'First-time setup' },
  'auth.setup.intro': {
    ja: 'kikimimi へようこそ。最初の管理者アカウントを作成してください。ほかのユーザーはあとから「ユーザー」で追加できます。',
    en: 'Welcome to kikimimi. Create the first admin account; add other users later under “Users”.',
  },
  'auth.setup.submit': { ja: '管理者を作成してサインイン', en: 'Create the admin and sign in' },

  'auth.login.title': { ja: 'サインイン', en: 'Sign in' },
  'auth.login.submit': { ja: 'サインイン', en: 'Sign in' },
  'auth.login.failed': {
    ja: 'ユーザー名またはパスワードが違います。',
    en: 'The username or password is wrong.',
  },
  'auth.login.tooMany': {
    ja: 'サインインの失敗が続いたため、しばらく受け付けません。15 分ほどしてからもう一度お試しください。',
    en: 'Too many failed sign-ins. Please wait about 15 minutes and try again.',
  },
  'auth.login.expired': { ja: 'もう一度サインインしてください。', en: 'Please sign in again.' },
  'auth.reauth.title': { ja: 'パスワードの確認', en: 'Confirm your password' },
  'auth.reauth.intro': {
    ja: 'ユーザー管理とプラットフォームの認証情報は、直近 15 分以内にパスワードを入力したときだけ操作できます。',
    en: 'User administration and platform credentials need your password from the last 15 minutes.',
  },
  'auth.reauth.submit': { ja: '確認して続ける', en: 'Confirm and continue' },
  'auth.reauth.failed': { ja: 'パスワードが違います。', en: 'The password is wrong.' },

  'auth.account.title': { ja: 'アカウント', en: 'Account' },
  'auth.account.signedInAs': { ja: '{name}（{role}）としてサインイン中', en: 'Signed in as {name} ({role})' },
  'auth.account.password': { ja: 'パスワードの変更', en: 'Change password' },
  'auth.account.passwordSubmit': { ja: 'パスワードを変更', en: 'Change password' },
  'auth.account.passwordChanged': {
    ja: 'パスワードを変更しました。ほかの端末のセッションは終了しました。',
    en: 'Password changed. Sessions on other devices were signed out.',
  },
  'auth.tokens.title': { ja: 'API トークン', en: 'API tokens' },
  'auth.tokens.intro': {
    ja: '/api/* をヘッダー「Authorization: Bearer kk_…」で呼び出すためのトークンです。あなたと同じ権限で動作します。',
    en: 'Tokens to call /api/* with the header “Authorization: Bearer kk_…”. They act with your role.',
  },
  'auth.tokens.name': { ja: '名前（用途）', en: 'Name (what it is for)' },
  'auth.tokens.prefix': { ja: '先頭', en: 'Starts with' },
  'auth.tokens.created': { ja: '作成', en: 'Created' },
  'auth.tokens.lastUsed': { ja: '最終使用', en: 'Last used' },
  'auth.tokens.never': { ja: '未使用', en: 'Never' },
  'auth.tokens.revoked': { ja: '失効済み', en: 'Revoked' },
  'auth.tokens.revoke': { ja: '失効させる', en: 'Revoke' },
  'auth.tokens.none': { ja: 'トークンはまだありません。', en: 'No tokens yet.' },
  'auth.tokens.create': { ja: 'トークンを作成', en: 'Create a token' },
  'auth.tokens.createdTitle': { ja: 'API トークンを作成しました', en: 'API token created' },
  'auth.tokens.showOnce': {
    ja: 'このトークンは今だけ表示されます。いますぐ安全な場所に保存してください。再表示はできません。',
    en: 'This token is shown only now. Store it somewhere safe right away; it cannot be shown again.',
  },
  'auth.tokens.back': { ja: 'アカウントへ戻る', en: 'Back to the account' },
  'auth.tokens.confirmRevoke': {
    ja: 'このトークンを失効させますか？ 使っているスクリプトは動かなくなります。',
    en: 'Revoke this token? Scripts using it will stop working.',
  },
  'auth.tokens.revokedFlash': { ja: 'トークンを失効させました。', en: 'The token was revoked.' },
  'auth.tokens.notFound': { ja: 'そのトークンはありません。', en: 'No such token.' },
  'auth.error.tokenName': {
    ja: '1〜100 文字の名前を入力してください',
    en: 'Enter a name of 1–100 characters',
  },

  'auth.users.title': { ja: 'ユーザー', en: 'Users' },
  'auth.users.lastLogin': { ja: '最終サインイン', en: 'Last sign-in' },
  'auth.users.never': { ja: 'なし', en: 'Never' },
  'auth.users.you': { ja: '（あなた）', en: '(you)' },
  'auth.users.changeRole': { ja: '変更', en: 'Change' },
  'auth.users.remove': { ja: '削除', en: 'Remove' },
  'auth.users.confirmRemove': {
    ja: '{name} を削除しますか？ この操作は取り消せません。',
    en: 'Remove {name}? This cannot be undone.',
  },
  'auth.users.setPassword': { ja: 'パスワードを再設定', en: 'Reset password' },
  'auth.users.create': { ja: 'ユーザーを追加', en: 'Add a user' },
  'auth.users.created': { ja: 'ユーザーを追加しました。', en: 'The user was added.' },
  'auth.users.roleChanged': { ja: '権限を変更しました。', en: 'The role was changed.' },
  'auth.users.removed': { ja: 'ユーザーを削除しました。', en: 'The user was removed.' },
  'auth.users.passwordSet': {
    ja: 'パスワードを再設定しました（そのユーザーのセッションは終了しました）。',
    en: 'The password was reset (that user’s sessions were signed out).',
  },
  'auth.users.lastAdmin': {
    ja: '最後の管理者は削除も降格もできません。先に別の管理者を追加してください。',
    en: 'The last admin can be neither removed nor demoted. Add another admin first.',
  },
  'auth.users.notFound': { ja: 'そのユーザーはいません。', en: 'No such user.' },
  'auth.users.roles': {
    ja: '閲覧者: 閲覧のみ。編集者: ルール・テンプレート・エスカレーション・抑制の変更と受信箱での対応。管理者: すべて（アカウント、Discord、ユーザー、インポート、キュー）。',
    en: 'Viewer: reads. Editor: changes rules, templates, escalation and suppression, and acts in the inbox. Admin: everything (accounts, Discord, users, import, queues).',
  },
});

const ROLES: readonly Role[] = ['admin', 'editor', 'viewer'];

/**
 * Asks before a destructive form is sent (forms with `data-confirm`); without JavaScript they simply
 * submit. Inline, so it runs under the page's CSP nonce.
 */
const CONFIRM_SCRIPT =
  "for(const f of document.querySelectorAll('form[data-confirm]'))f.addEventListener('submit',e=>{if(!confirm(f.dataset.confirm))e.preventDefault()});";
/**
 * 5 failed sign-ins per client address and username in 15 minutes; a client failing for many
 * usernames is held back at 100. Successful sign-ins do not count. The address is the client's
 * (see clientIp: behind a trusted proxy, from X-Forwarded-For), so nobody locks out everyone.
 */
export const LOGIN_LIMIT = { perUser: 5, perIp: 100, windowSeconds: 15 * 60 } as const;

type Form = Record<string, string>;

/** The form's text fields (files and repeated fields ignored). */
async function readForm(c: Context<AppEnv>): Promise<Form> {
  const body = await c.req.parseBody();
  const form: Form = {};
  for (const [key, value] of Object.entries(body)) if (typeof value === 'string') form[key] = value;
  return form;
}

const USERNAME_CHARS = /^[\p{L}\p{N}._@-]+$/u;

function usernameError(lang: Lang, raw: string | undefined): string | undefined {
  const username = (raw ?? '').trim();
  if (username === '') return t(lang, 'auth.error.usernameRequired');
  if (username.length > 64) return t(lang, 'auth.error.usernameLong');
  if (!USERNAME_CHARS.test(username)) return t(lang, 'auth.error.usernameChars');
  return undefined;
}

function passwordError(lang: Lang, password: string | undefined, username: string): string | undefined {
  if ((password ?? '').length < MIN_PASSWORD_LENGTH)
    return t(lang, 'auth.error.passwordShort', { min: MIN_PASSWORD_LENGTH });
  if ((password ?? '').length > 1024) return t(lang, 'auth.error.passwordLong');
  if (isWeakPassword(password ?? '', [username])) return t(lang, 'auth.error.passwordWeak');
  return undefined;
}

/** Problems of a new password (for the user `username`) and its confirmation, keyed by field. */
function newPasswordErrors(
  lang: Lang,
  form: Form,
  username: string,
  field = 'password',
): Record<string, string> {
  const errors: Record<string, string> = {};
  const problem = passwordError(lang, form[field], username);
  if (problem) errors[field] = problem;
  else if (form.confirm !== form[field]) errors.confirm = t(lang, 'auth.error.confirm');
  return errors;
}

const only = (errors: Record<string, string | undefined>): FieldErrors =>
  Object.fromEntries(
    Object.entries(errors).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );

/** A labelled input with its error. Password inputs never get their value back. */
function input(options: {
  name: string;
  label: string;
  type?: 'text' | 'password';
  value?: string;
  errors?: FieldErrors;
  autocomplete?: string;
  hint?: string;
  required?: boolean;
}): Html {
  const type = options.type ?? 'text';
  const id = `f-${options.name}`;
  return html`<label for="${id}">${options.label}</label>
<input id="${id}" name="${options.name}" type="${type}" ${type === 'text' ? html`value="${options.value ?? ''}"` : ''} autocomplete="${options.autocomplete ?? 'off'}" ${options.required === false ? '' : 'required'} aria-invalid="${options.errors?.[options.name] ? 'true' : 'false'}">
${options.hint ? html`<div class="muted">${options.hint}</div>` : ''}${fieldError(options.errors, options.name)}`;
}

function roleSelect(c: Context<AppEnv>, name: string, selected: Role, id?: string, of?: string): Html {
  return html`<select name="${name}" ${id ? html`id="${id}"` : ''} ${of ? html`aria-label="${t(c, 'auth.role')}: ${of}"` : ''}>${ROLES.map(
    (role) =>
      html`<option value="${role}" ${role === selected ? 'selected' : ''}>${t(c, `auth.role.${role}`)}</option>`,
  )}</select>`;
}

/** Where to go after signing in: a path on this site only. */
export function safeNext(next: string | undefined): string {
  if (typeof next !== 'string' || !/^\/(?![/\\])[^\s\\\p{Cc}]*$/u.test(next) || next.length > 2000)
    return '/';
  return next;
}

function formatTime(c: Context<AppEnv>, at: Date | null, never: string): string {
  if (at === null) return never;
  const timeZone = c.get('timeZone');
  const text = new Intl.DateTimeFormat(c.get('lang') === 'ja' ? 'ja-JP' : 'en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone,
  }).format(at);
  return `${text} (${timeZone})`;
}

// ---------------------------------------------------------------------------------------------------------
// Pages

function setupPage(c: Context<AppEnv>, values: Form = {}, errors: FieldErrors = {}, status: 200 | 422 = 200) {
  return page(c, {
    title: t(c, 'auth.setup.title'),
    status,
    body: html`<p>${t(c, 'auth.setup.intro')}</p>
<form method="post" action="/setup" class="card">${csrfField(c)}
${input({ name: 'username', label: t(c, 'auth.username'), value: values.username ?? '', errors, autocomplete: 'username' })}
${input({ name: 'password', label: t(c, 'auth.password'), type: 'password', errors, autocomplete: 'new-password', hint: t(c, 'auth.passwordHint', { min: MIN_PASSWORD_LENGTH }) })}
${input({ name: 'confirm', label: t(c, 'auth.confirm'), type: 'password', errors, autocomplete: 'new-password' })}
<input type="hidden" name="timeZone" id="f-timeZone" value="${values.timeZone ?? ''}">
<p><button type="submit">${t(c, 'auth.setup.submit')}</button></p>
</form>`,
    // The organisation's time zone starts as this browser's (changed later under the dashboard).
    script: BROWSER_TIME_ZONE_SCRIPT,
  });
}

const BROWSER_TIME_ZONE_SCRIPT = `(function(){var f=document.getElementById('f-timeZone');if(f&&!f.value){try{f.value=Intl.DateTimeFormat().resolvedOptions().timeZone||''}catch(e){}}})();`;

function loginPage(
  c: Context<AppEnv>,
  options: { username?: string; next?: string; error?: string; status?: 200 | 401 | 429; info?: string } = {},
) {
  return page(c, {
    title: t(c, 'auth.login.title'),
    status: options.status ?? 200,
    ...(options.error ? { flash: { kind: 'error' as const, text: options.error } } : {}),
    ...(options.info && !options.error ? { flash: { kind: 'ok' as const, text: options.info } } : {}),
    body: html`<form method="post" action="/login" class="card">${csrfField(c)}
<input type="hidden" name="next" value="${safeNext(options.next)}">
${input({ name: 'username', label: t(c, 'auth.username'), value: options.username ?? '', autocomplete: 'username' })}
${input({ name: 'password', label: t(c, 'auth.password'), type: 'password', autocomplete: 'current-password' })}
<p><button type="submit">${t(c, 'auth.login.submit')}</button></p>
</form>`,
  });
}

const ACCOUNT_FLASH: Record<string, string> = {
  password: 'auth.account.passwordChanged',
  revoked: 'auth.tokens.revokedFlash',
};

async function accountPage(
  c: Context<AppEnv>,
  options: {
    passwordErrors?: FieldErrors;
    tokenErrors?: FieldErrors;
    tokenName?: string;
    flash?: { kind: 'ok' | 'error'; text: string };
    status?: 200 | 404 | 422;
  } = {},
) {
  const user = c.get('user') as NonNullable<AppEnv['Variables']['user']>;
  const tokens = await c.get('deps').repos.apiTokens.list(user.id);
  const done = ACCOUNT_FLASH[c.req.query('done') ?? ''];
  const flash = options.flash ?? (done ? { kind: 'ok' as const, text: t(c, done) } : undefined);
  return page(c, {
    title: t(c, 'auth.account.title'),
    active: 'account',
    status: options.status ?? 200,
    script: CONFIRM_SCRIPT,
    ...(flash ? { flash } : {}),
    body: html`<p>${t(c, 'auth.account.signedInAs', { name: user.username, role: t(c, `auth.role.${user.role}`) })}</p>
<section class="card"><h2>${t(c, 'auth.account.password')}</h2>
<form method="post" action="/account/password">${csrfField(c)}
${input({ name: 'current', label: t(c, 'auth.currentPassword'), type: 'password', errors: options.passwordErrors ?? {}, autocomplete: 'current-password' })}
${input({ name: 'password', label: t(c, 'auth.newPassword'), type: 'password', errors: options.passwordErrors ?? {}, autocomplete: 'new-password', hint: t(c, 'auth.passwordHint', { min: MIN_PASSWORD_LENGTH }) })}
${input({ name: 'confirm', label: t(c, 'auth.confirm'), type: 'password', errors: options.passwordErrors ?? {}, autocomplete: 'new-password' })}
<p><button type="submit">${t(c, 'auth.account.passwordSubmit')}</button></p>
</form></section>
<section class="card"><h2>${t(c, 'auth.tokens.title')}</h2>
<p class="muted">${t(c, 'auth.tokens.intro')}</p>
${tokens.length === 0 ? html`<p>${t(c, 'auth.tokens.none')}</p>` : tokenTable(c, tokens)}
<form method="post" action="/account/tokens">${csrfField(c)}
${input({ name: 'name', label: t(c, 'auth.tokens.name'), value: options.tokenName ?? '', errors: options.tokenErrors ?? {} })}
<p><button type="submit">${t(c, 'auth.tokens.create')}</button></p>
</form></section>`,
  });
}

function tokenTable(c: Context<AppEnv>, tokens: readonly ApiToken[]): Html {
  return html`<table><thead><tr><th>${t(c, 'auth.tokens.name')}</th><th>${t(c, 'auth.tokens.prefix')}</th><th>${t(c, 'auth.tokens.created')}</th><th>${t(c, 'auth.tokens.lastUsed')}</th><th></th></tr></thead><tbody>
${tokens.map(
  (
    token,
  ) => html`<tr><td>${token.name}</td><td><code>${token.prefix}…</code></td><td>${formatTime(c, token.createdAt, '')}</td><td>${formatTime(c, token.lastUsedAt, t(c, 'auth.tokens.never'))}</td>
<td>${
    token.revokedAt
      ? html`<span class="badge">${t(c, 'auth.tokens.revoked')}</span>`
      : html`<form class="inline" method="post" action="/account/tokens/${token.id}/revoke" data-confirm="${t(c, 'auth.tokens.confirmRevoke')}">${csrfField(c)}<button class="danger" type="submit">${t(c, 'auth.tokens.revoke')}</button></form>`
  }</td></tr>`,
)}</tbody></table>`;
}

const USERS_FLASH: Record<string, string> = {
  created: 'auth.users.created',
  role: 'auth.users.roleChanged',
  removed: 'auth.users.removed',
  password: 'auth.users.passwordSet',
  revoked: 'auth.tokens.revokedFlash',
};

async function usersPage(
  c: Context<AppEnv>,
  options: {
    values?: Form;
    errors?: FieldErrors;
    flash?: { kind: 'ok' | 'error'; text: string };
    status?: 200 | 404 | 409 | 422;
  } = {},
) {
  const me = c.get('user') as NonNullable<AppEnv['Variables']['user']>;
  const { repos } = c.get('deps');
  const users = await repos.users.list();
  const tokens = new Map(
    await Promise.all(
      users.map(
        async (u) => [u.id, (await repos.apiTokens.list(u.id)).filter((k) => k.revokedAt === null)] as const,
      ),
    ),
  );
  const values = options.values ?? {};
  const errors = options.errors ?? {};
  const done = USERS_FLASH[c.req.query('done') ?? ''];
  const flash = options.flash ?? (done ? { kind: 'ok' as const, text: t(c, done) } : undefined);
  return page(c, {
    title: t(c, 'auth.users.title'),
    active: 'users',
    status: options.status ?? 200,
    script: CONFIRM_SCRIPT,
    ...(flash ? { flash } : {}),
    body: html`<p class="muted">${t(c, 'auth.users.roles')}</p>
<table><thead><tr><th>${t(c, 'auth.username')}</th><th>${t(c, 'auth.role')}</th><th>${t(c, 'auth.users.lastLogin')}</th><th></th></tr></thead><tbody>
${users.map((user) => userRow(c, user, me.id, tokens.get(user.id) ?? []))}
</tbody></table>
<section class="card"><h2>${t(c, 'auth.users.create')}</h2>
<form method="post" action="/users">${csrfField(c)}
${input({ name: 'username', label: t(c, 'auth.username'), value: values.username ?? '', errors, autocomplete: 'off' })}
${input({ name: 'password', label: t(c, 'auth.password'), type: 'password', errors, autocomplete: 'new-password', hint: t(c, 'auth.passwordHint', { min: MIN_PASSWORD_LENGTH }) })}
${input({ name: 'confirm', label: t(c, 'auth.confirm'), type: 'password', errors, autocomplete: 'new-password' })}
<label for="f-role">${t(c, 'auth.role')}</label>${roleSelect(c, 'role', (ROLES as readonly string[]).includes(values.role ?? '') ? (values.role as Role) : 'viewer', 'f-role')}${fieldError(errors, 'role')}
<p><button type="submit">${t(c, 'auth.users.create')}</button></p>
</form></section>`,
  });
}

function userRow(c: Context<AppEnv>, user: User, myId: string, tokens: readonly ApiToken[]): Html {
  return html`<tr id="user-${user.id}"><td>${user.username} ${user.id === myId ? html`<span class="muted">${t(c, 'auth.users.you')}</span>` : ''}</td>
<td><form class="inline" method="post" action="/users/${user.id}/role">${csrfField(c)}${roleSelect(c, 'role', user.role, undefined, user.username)} <button class="secondary" type="submit">${t(c, 'auth.users.changeRole')}</button></form></td>
<td>${formatTime(c, user.lastLoginAt, t(c, 'auth.users.never'))}</td>
<td><details><summary>${t(c, 'auth.users.setPassword')}</summary><form method="post" action="/users/${user.id}/password">${csrfField(c)}
<input name="password" type="password" autocomplete="new-password" aria-label="${t(c, 'auth.newPassword')}" required minlength="${MIN_PASSWORD_LENGTH}">
<input name="confirm" type="password" autocomplete="new-password" aria-label="${t(c, 'auth.confirm')}" required>
<button class="secondary" type="submit">${t(c, 'auth.users.setPassword')}</button></form></details>
<form class="inline" method="post" action="/users/${user.id}/remove" data-confirm="${t(c, 'auth.users.confirmRemove', { name: user.username })}">${csrfField(c)}<button class="danger" type="submit">${t(c, 'auth.users.remove')}</button></form>
${tokens.map(
  (token) =>
    html`<div class="muted">${t(c, 'auth.tokens.title')}: ${token.name} <code>${token.prefix}…</code> <form class="inline" method="post" action="/account/tokens/${token.id}/revoke?back=users" data-confirm="${t(c, 'auth.tokens.confirmRevoke')}">${csrfField(c)}<button class="danger" type="submit">${t(c, 'auth.tokens.revoke')}</button></form></div>`,
)}</td></tr>`;
}

// ---------------------------------------------------------------------------------------------------------
// Routes

/** Setup, sign-in/out, the own account with API tokens, user management and `/api/me`. */
export function authRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // The first admin, only while nobody exists; afterwards the page is gone.
  app.get('/setup', async (c) => {
    if ((await c.get('deps').repos.users.count()) > 0) return c.redirect(c.get('user') ? '/' : '/login', 302);
    return setupPage(c);
  });

  app.post('/setup', async (c) => {
    const { repos } = c.get('deps');
    if ((await repos.users.count()) > 0) return c.redirect('/login', 303);
    const form = await readForm(c);
    const lang = c.get('lang');
    const errors = only({
      username: usernameError(lang, form.username),
      ...newPasswordErrors(lang, form, form.username ?? ''),
    });
    if (Object.keys(errors).length > 0)
      return setupPage(c, { username: form.username ?? '', timeZone: form.timeZone ?? '' }, errors, 422);
    const username = (form.username ?? '').trim();
    const user = await repos.users.createFirst(
      { username, password: form.password ?? '' },
      { kind: 'web', id: 'setup', name: username },
    );
    // Someone else finished the setup a moment earlier.
    if (user === null) return c.redirect('/login', 303);
    await startSession(c, user);
    // The organisation's clock: the first admin's browser's zone, unless one is configured already
    // (an unknown zone is left out: UTC until an admin sets one).
    const timeZone = form.timeZone ?? '';
    if (timeZoneSchema.safeParse(timeZone).success) {
      const { config } = await repos.config.current();
      if (config.organization.timeZone === undefined)
        await repos.config.setOrganization(
          { ...config.organization, timeZone },
          {
            kind: 'web',
            id: user.id,
            name: user.username,
          },
        );
    }
    return c.redirect('/', 303);
  });

  app.get('/login', async (c) => {
    if (c.get('user')) return c.redirect(safeNext(c.req.query('next')), 302);
    if ((await c.get('deps').repos.users.count()) === 0) return c.redirect('/setup', 302);
    return loginPage(c, { next: c.req.query('next') ?? '/' });
  });

  app.post('/login', async (c) => {
    const { repos, limiter } = c.get('deps');
    const form = await readForm(c);
    const username = (form.username ?? '').trim().slice(0, 200);
    const next = safeNext(form.next);
    const ip = clientIp(c);
    const userKey = `login:${ip}:${username.toLowerCase()}`;
    const ipKey = `login-ip:${ip}`;
    // Counted before the password is checked (so parallel guesses cannot slip through), and taken
    // back when the attempt turns out not to be a failure.
    const [perUser, perIp] = await Promise.all([
      limiter.hit(userKey, LOGIN_LIMIT.windowSeconds),
      limiter.hit(ipKey, LOGIN_LIMIT.windowSeconds),
    ]);
    if (perUser > LOGIN_LIMIT.perUser || perIp > LOGIN_LIMIT.perIp) {
      await Promise.all([limiter.release(userKey), limiter.release(ipKey)]);
      c.get('deps').log.warn({ ip, perUser, perIp }, 'sign-in rate limited');
      c.header('Retry-After', String(LOGIN_LIMIT.windowSeconds));
      return loginPage(c, { username, next, error: t(c, 'auth.login.tooMany'), status: 429 });
    }
    const user = await repos.users.verify(username, form.password ?? '', { ip });
    if (user === null) return loginPage(c, { username, next, error: t(c, 'auth.login.failed'), status: 401 });
    await Promise.all([limiter.reset(userKey), limiter.release(ipKey)]);
    await startSession(c, user);
    return c.redirect(next, 303);
  });

  const reauthPage = (c: Context<AppEnv>, next: string, error?: string, status: 200 | 401 | 429 = 200) =>
    page(c, {
      title: t(c, 'auth.reauth.title'),
      status,
      ...(error ? { flash: { kind: 'error' as const, text: error } } : {}),
      body: html`<p>${t(c, 'auth.reauth.intro')}</p><form method="post" action="/reauth" class="card">${csrfField(c)}
<input type="hidden" name="next" value="${safeNext(next)}">
${input({ name: 'password', label: t(c, 'auth.password'), type: 'password', autocomplete: 'current-password' })}
<p><button type="submit">${t(c, 'auth.reauth.submit')}</button></p></form>`,
    });

  // Sensitive pages ask for the password again (requireRecentSignIn): a new session, then back.
  app.get('/reauth', requireUser, (c) => reauthPage(c, c.req.query('next') ?? '/'));

  app.post('/reauth', requireUser, async (c) => {
    const { repos, limiter } = c.get('deps');
    const user = c.get('user') as NonNullable<AppEnv['Variables']['user']>;
    const form = await readForm(c);
    const next = safeNext(form.next);
    const key = `reauth:${user.id}`;
    if ((await limiter.hit(key, LOGIN_LIMIT.windowSeconds)) > LOGIN_LIMIT.perUser) {
      await limiter.release(key);
      c.header('Retry-After', String(LOGIN_LIMIT.windowSeconds));
      return reauthPage(c, next, t(c, 'auth.login.tooMany'), 429);
    }
    if (!(await repos.users.checkPassword(user.id, form.password ?? ''))) {
      return reauthPage(c, next, t(c, 'auth.reauth.failed'), 401);
    }
    await limiter.reset(key);
    await startSession(c, user);
    return c.redirect(next, 303);
  });

  app.post('/logout', async (c) => {
    const user = c.get('user');
    await endSession(c);
    if (user) await c.get('deps').repos.audit.record(actorOf(user), 'user.logout', user.id);
    return c.redirect('/login', 303);
  });

  app.get('/account', requireUser, (c) => accountPage(c));

  app.post('/account/password', requireUser, async (c) => {
    const { repos } = c.get('deps');
    const user = c.get('user') as NonNullable<AppEnv['Variables']['user']>;
    const form = await readForm(c);
    const lang = c.get('lang');
    let errors: FieldErrors = newPasswordErrors(lang, form, user.username);
    if (!(await repos.users.checkPassword(user.id, form.current ?? ''))) {
      errors = { ...errors, current: t(lang, 'auth.error.currentPassword') };
    }
    if (Object.keys(errors).length > 0) return accountPage(c, { passwordErrors: errors, status: 422 });
    await repos.users.setPassword(user.id, form.password ?? '', actorOf(user));
    // Every session and API token of the user ends, this session included; the browser gets a fresh one.
    await repos.sessions.destroyAll(user.id);
    await repos.apiTokens.revokeAll(user.id, actorOf(user));
    await startSession(c, user);
    return c.redirect('/account?done=password', 303);
  });

  app.post('/account/tokens', requireUser, async (c) => {
    const { repos } = c.get('deps');
    const user = c.get('user') as NonNullable<AppEnv['Variables']['user']>;
    const form = await readForm(c);
    const name = (form.name ?? '').trim();
    if (name === '' || name.length > 100) {
      return accountPage(c, {
        tokenErrors: { name: t(c, 'auth.error.tokenName') },
        tokenName: form.name ?? '',
        status: 422,
      });
    }
    const { token, record } = await repos.apiTokens.create(user.id, name, actorOf(user));
    // The only time the token is ever shown.
    return page(c, {
      title: t(c, 'auth.tokens.createdTitle'),
      active: 'account',
      body: html`<div class="card"><p><strong>${record.name}</strong></p>
<p class="error">${t(c, 'auth.tokens.showOnce')}</p>
<input type="text" readonly value="${token}" aria-label="${t(c, 'auth.tokens.title')}" data-token>
<p><a href="/account">${t(c, 'auth.tokens.back')}</a></p></div>`,
    });
  });

  app.post('/account/tokens/:id/revoke', requireUser, async (c) => {
    const user = c.get('user') as NonNullable<AppEnv['Variables']['user']>;
    // Admins revoke anyone's token (from /users); everyone else only their own.
    const owner = user.role === 'admin' ? null : user.id;
    const revoked = await c.get('deps').repos.apiTokens.revoke(c.req.param('id'), owner, actorOf(user));
    if (!revoked)
      return accountPage(c, { flash: { kind: 'error', text: t(c, 'auth.tokens.notFound') }, status: 404 });
    const back = c.req.query('back') === 'users' && user.role === 'admin' ? '/users' : '/account';
    return c.redirect(`${back}?done=revoked`, 303);
  });

  app.use('/users', requireRole('admin'), requireRecentSignIn('/users'));
  app.use('/users/*', requireRole('admin'), requireRecentSignIn('/users'));

  app.get('/users', requireRole('admin'), (c) => usersPage(c));

  app.post('/users', requireRole('admin'), async (c) => {
    const { repos } = c.get('deps');
    const me = c.get('user') as NonNullable<AppEnv['Variables']['user']>;
    const form = await readForm(c);
    const lang = c.get('lang');
    const errors: Record<string, string | undefined> = {
      username: usernameError(lang, form.username),
      ...newPasswordErrors(lang, form, form.username ?? ''),
      role: (ROLES as readonly string[]).includes(form.role ?? '') ? undefined : t(lang, 'auth.error.role'),
    };
    const values = { username: form.username ?? '', role: form.role ?? '' };
    if (Object.values(errors).some((e) => e !== undefined)) {
      return usersPage(c, { values, errors: only(errors), status: 422 });
    }
    const username = (form.username ?? '').trim();
    try {
      await repos.users.create(
        { username, password: form.password ?? '', role: form.role as Role },
        actorOf(me),
      );
    } catch (error) {
      if (error instanceof Error && error.name === 'ConflictError') {
        return usersPage(c, {
          values,
          errors: { username: t(lang, 'auth.error.usernameTaken') },
          status: 409,
        });
      }
      throw error;
    }
    return c.redirect('/users?done=created', 303);
  });

  app.post('/users/:id/role', requireRole('admin'), async (c) => {
    const { repos } = c.get('deps');
    const me = c.get('user') as NonNullable<AppEnv['Variables']['user']>;
    const form = await readForm(c);
    if (!(ROLES as readonly string[]).includes(form.role ?? '')) {
      return usersPage(c, { flash: { kind: 'error', text: t(c, 'auth.error.role') }, status: 422 });
    }
    const id = c.req.param('id');
    if ((await repos.users.get(id)) === null) {
      return usersPage(c, { flash: { kind: 'error', text: t(c, 'auth.users.notFound') }, status: 404 });
    }
    try {
      const user = await repos.users.setRole(id, form.role as Role, actorOf(me));
      // Demoted oneself: this page is no longer for us.
      if (user.id === me.id && user.role !== 'admin') return c.redirect('/', 303);
      return c.redirect('/users?done=role', 303);
    } catch (error) {
      if (error instanceof LastAdminError) {
        return usersPage(c, { flash: { kind: 'error', text: t(c, 'auth.users.lastAdmin') }, status: 409 });
      }
      throw error;
    }
  });

  app.post('/users/:id/password', requireRole('admin'), async (c) => {
    const { repos } = c.get('deps');
    const me = c.get('user') as NonNullable<AppEnv['Variables']['user']>;
    const form = await readForm(c);
    const id = c.req.param('id');
    const user = await repos.users.get(id);
    if (user === null)
      return usersPage(c, { flash: { kind: 'error', text: t(c, 'auth.users.notFound') }, status: 404 });
    const errors = newPasswordErrors(c.get('lang'), form, user.username);
    const problem = errors.password ?? errors.confirm;
    if (problem)
      return usersPage(c, { flash: { kind: 'error', text: `${user.username}: ${problem}` }, status: 422 });
    await repos.users.setPassword(id, form.password ?? '', actorOf(me));
    // A reset means the old password may be known: its sessions and API tokens end with it.
    await repos.sessions.destroyAll(id);
    await repos.apiTokens.revokeAll(id, actorOf(me));
    if (id === me.id) await startSession(c, me);
    return c.redirect('/users?done=password', 303);
  });

  app.post('/users/:id/remove', requireRole('admin'), async (c) => {
    const { repos } = c.get('deps');
    const me = c.get('user') as NonNullable<AppEnv['Variables']['user']>;
    const id = c.req.param('id');
    try {
      const removed = await repos.users.remove(id, actorOf(me));
      if (!removed)
        return usersPage(c, { flash: { kind: 'error', text: t(c, 'auth.users.notFound') }, status: 404 });
    } catch (error) {
      if (error instanceof LastAdminError) {
        return usersPage(c, { flash: { kind: 'error', text: t(c, 'auth.users.lastAdmin') }, status: 409 });
      }
      throw error;
    }
    if (id === me.id) {
      await endSession(c);
      return c.redirect('/login', 303);
    }
    return c.redirect('/users?done=removed', 303);
  });

  app.get('/api/me', requireUser, (c) => {
    const user = c.get('user') as NonNullable<AppEnv['Variables']['user']>;
    return c.json({ id: user.id, username: user.username, role: user.role, auth: c.get('auth') });
  });

  return app;
}
