import type { Context } from 'hono';
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { AppEnv, Role } from './context.ts';
import { addMessages, t } from './i18n.ts';

addMessages({
  'nav.inbox': { ja: '受信箱', en: 'Inbox' },
  'nav.dashboard': { ja: 'ダッシュボード', en: 'Dashboard' },
  'nav.effect': { ja: '返信の効果', en: 'Effect' },
  'nav.digest': { ja: 'ダイジェスト', en: 'Digest' },
  'nav.surges': { ja: '急増', en: 'Surges' },
  'nav.platforms': { ja: 'プラットフォーム', en: 'Platforms' },
  'nav.discord': { ja: 'Discord', en: 'Discord' },
  'nav.watches': { ja: 'ウォッチ', en: 'Watches' },
  'nav.templates': { ja: 'テンプレート', en: 'Templates' },
  'nav.escalation': { ja: 'エスカレーション', en: 'Escalation' },
  'nav.suppression': { ja: '抑制', en: 'Suppression' },
  'nav.audit': { ja: '監査ログ', en: 'Audit log' },
  'nav.importExport': { ja: 'インポート/エクスポート', en: 'Import / export' },
  'nav.queues': { ja: 'キュー', en: 'Queues' },
  'nav.account': { ja: 'アカウント', en: 'Account' },
  'nav.users': { ja: 'ユーザー', en: 'Users' },
  'nav.logout': { ja: 'ログアウト', en: 'Log out' },
  'nav.language': { ja: 'English', en: '日本語' },
});

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const NAV: ReadonlyArray<{ key: string; href: string; role: Role }> = [
  { key: 'inbox', href: '/inbox', role: 'viewer' },
  { key: 'dashboard', href: '/dashboard', role: 'viewer' },
  { key: 'effect', href: '/effect', role: 'viewer' },
  { key: 'digest', href: '/digest', role: 'viewer' },
  { key: 'surges', href: '/surges', role: 'viewer' },
  { key: 'platforms', href: '/platforms', role: 'viewer' },
  { key: 'discord', href: '/discord', role: 'viewer' },
  { key: 'watches', href: '/watches', role: 'viewer' },
  { key: 'templates', href: '/templates', role: 'viewer' },
  { key: 'escalation', href: '/escalation', role: 'viewer' },
  { key: 'suppression', href: '/suppression', role: 'viewer' },
  { key: 'audit', href: '/audit', role: 'viewer' },
  { key: 'importExport', href: '/import-export', role: 'viewer' },
  { key: 'users', href: '/users', role: 'admin' },
  { key: 'queues', href: '/admin/queues', role: 'admin' },
];

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };
/** True when `role` is at least `needed`. */
export const atLeast = (role: Role, needed: Role) => RANK[role] >= RANK[needed];

const STYLE = `
:root{--fg:#1d232a;--muted:#5b6770;--line:#d9dee3;--accent:#2563eb;--bad:#b42318;--ok:#067647;--bg:#f7f8fa}
*{box-sizing:border-box}body{margin:0;font:15px/1.55 system-ui,-apple-system,"Hiragino Sans","Noto Sans JP",sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;gap:1rem;align-items:center;padding:.6rem 1rem;background:#fff;border-bottom:1px solid var(--line);flex-wrap:wrap}
header .brand{font-weight:700;text-decoration:none;color:var(--fg)}nav{display:flex;flex-wrap:wrap;gap:.1rem .8rem;flex:1 1 24rem;min-width:0}nav a{color:var(--muted);text-decoration:none;white-space:nowrap}nav a.active{color:var(--accent);font-weight:600}
header .user{display:flex;gap:1rem;align-items:center;margin-left:auto;white-space:nowrap}
main{max-width:1100px;margin:1rem auto;padding:0 1rem}h1{font-size:1.4rem}table{border-collapse:collapse;width:100%;background:#fff}th,td{border-bottom:1px solid var(--line);padding:.4rem .5rem;text-align:left;vertical-align:top}
form.inline{display:inline}label{display:block;margin:.6rem 0 .2rem;font-weight:600}input[type=text],input[type=password],input[type=url],input[type=number],select,textarea{width:100%;padding:.4rem;border:1px solid var(--line);border-radius:4px;font:inherit}
textarea{min-height:6rem}button,.button{background:var(--accent);color:#fff;border:0;border-radius:4px;padding:.45rem .9rem;font:inherit;cursor:pointer;text-decoration:none;display:inline-block}button.secondary{background:#eef1f4;color:var(--fg)}button.danger{background:var(--bad)}
.error{color:var(--bad);font-size:.9rem}.ok{color:var(--ok)}.muted{color:var(--muted)}.flash{padding:.6rem .8rem;background:#fff;border-left:4px solid var(--accent);margin:.8rem 0}.flash.error{border-color:var(--bad)}
.card{background:#fff;border:1px solid var(--line);border-radius:6px;padding:1rem;margin:1rem 0}.badge{display:inline-block;padding:0 .4rem;border-radius:3px;background:#eef1f4;font-size:.85rem}
`;

export interface PageOptions {
  readonly title: string;
  readonly body: Html;
  /** Key of the active navigation entry (e.g. 'watches'). */
  readonly active?: string;
  /** A message shown above the page (after a save). */
  readonly flash?: { readonly kind: 'ok' | 'error'; readonly text: string };
  readonly status?: 200 | 400 | 401 | 403 | 404 | 409 | 413 | 422 | 429 | 500;
  /** Extra script (inline; carries this response's CSP nonce, so it runs — nothing else inline does). */
  readonly script?: string;
}

/** A whole console page in the request's language, with navigation for the signed-in user. */
export function page(c: Context<AppEnv>, options: PageOptions): Response | Promise<Response> {
  const user = c.get('user');
  const lang = c.get('lang');
  const other = lang === 'ja' ? 'en' : 'ja';
  // Query-only (`?…&lang=en`): the same page whatever its path (`//evil.example/x` is not a host here).
  const switchTo = new URLSearchParams(new URL(c.req.url).search);
  switchTo.set('lang', other);
  const nav = user
    ? NAV.filter((entry) => atLeast(user.role, entry.role)).map(
        (entry) =>
          html`<a href="${entry.href}" class="${options.active === entry.key ? 'active' : ''}">${t(c, `nav.${entry.key}`)}</a>`,
      )
    : [];
  const body = html`<!doctype html>
<html lang="${lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${options.title} · kikimimi</title><style nonce="${c.get('nonce')}">${raw(STYLE)}</style></head>
<body>
<header><a class="brand" href="/inbox">kikimimi 聞き耳</a><nav>${nav}</nav>
<div class="user"><a href="?${switchTo.toString()}">${t(c, 'nav.language')}</a>
${user ? html`<a href="/account">${user.username}</a><form class="inline" method="post" action="/logout">${csrfField(c)}<button class="secondary" type="submit">${t(c, 'nav.logout')}</button></form>` : ''}</div>
</header>
<main>
${options.flash ? html`<div class="flash ${options.flash.kind}" role="status">${options.flash.text}</div>` : ''}
<h1>${options.title}</h1>
${options.body}
</main>
${options.script ? html`<script nonce="${c.get('nonce')}">${raw(options.script)}</script>` : ''}
</body></html>`;
  return c.html(body, options.status ?? 200);
}

/** The hidden CSRF field every form must carry. */
export const csrfField = (c: Context<AppEnv>) =>
  html`<input type="hidden" name="_csrf" value="${c.get('csrfToken')}">`;

/** Field problems keyed by path (`query`, `templates[0].text`), in the user's language. */
export type FieldErrors = Readonly<Record<string, string>>;

/** The error next to a field, if any. */
export const fieldError = (errors: FieldErrors | undefined, path: string) =>
  errors?.[path] ? html`<div class="error" role="alert" data-field="${path}">${errors[path]}</div>` : '';
