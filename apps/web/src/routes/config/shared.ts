import type { Actor, ConfigProblemList } from '@kikimimi/db';
import {
  type ConfigProblem,
  formatPath,
  type QueryErrorCode,
  type QueryNode,
  type TemplateProblem,
  tryParseQuery,
} from '@kikimimi/rules';
import type { Context } from 'hono';
import { html } from 'hono/html';
import { z } from 'zod';
import type { AppEnv, Lang, SessionUser, WebDeps } from '../../context.ts';
import { clockText } from '../../format.ts';
import { t } from '../../i18n.ts';
import type { FieldErrors } from '../../layout.ts';
import './messages.ts';

export type C = Context<AppEnv>;

/** One thing wrong with an input: where (a configuration path or a form field), what, and for text where inside it. */
export interface Problem {
  readonly path: string;
  readonly message: string;
  /** UTF-16 offset inside the text at `path`. */
  readonly offset?: number;
  /** UTF-16 length of the offending text (0: something is missing at `offset`). */
  readonly length?: number;
}

export const depsOf = (c: C): WebDeps => c.get('deps');

/** The signed-in user; the role middleware has already refused anonymous requests. */
export function userOf(c: C): SessionUser {
  const user = c.get('user');
  if (user === null) throw new Error('a route of the configuration pages ran without a user');
  return user;
}

/** Who is changing something, as the repositories audit it. */
export function actorOf(c: C): Actor {
  const user = userOf(c);
  return { kind: 'web', id: user.id, name: user.username };
}

/**
 * Tells running workers to reload. The change is already saved and audited; if Redis is down the
 * workers still pick it up when their cached configuration expires, so a failure is only logged.
 */
export async function publishChange(c: C, what: string): Promise<void> {
  const deps = depsOf(c);
  try {
    await deps.publishConfigChanged();
  } catch (error) {
    deps.log.warn({ err: error, what }, 'config change saved but not published; workers reload it later');
  }
}

// ---------------------------------------------------------------------------------------------
// Forms

export type FormBody = Record<string, string | File | (string | File)[]>;

export async function readForm(c: C): Promise<FormBody> {
  return (await c.req.parseBody({ all: true })) as FormBody;
}

/** Every string value of a field (repeated fields, checkboxes). */
export function strings(form: FormBody, name: string): string[] {
  const value = form[name];
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.filter((v): v is string => typeof v === 'string');
}

/** The first string value of a field, trimmed; '' when absent. */
export function str(form: FormBody, name: string): string {
  return (strings(form, name)[0] ?? '').trim();
}

/** A textarea's value as written (only line endings normalised). */
export function text(form: FormBody, name: string): string {
  return (strings(form, name)[0] ?? '').replace(/\r\n?/gu, '\n');
}

/** A checkbox: present (and not "false"/"0"/"off") means checked. */
export function checked(form: FormBody, name: string): boolean {
  const value = strings(form, name).at(-1);
  return value !== undefined && !['false', '0', 'off', ''].includes(value);
}

/** A number field: blank → undefined; anything that is not a number is passed on for the schema to refuse. */
export function num(form: FormBody, name: string): number | string | undefined {
  const raw = str(form, name);
  if (raw === '') return undefined;
  const value = Number(raw.normalize('NFKC'));
  return Number.isFinite(value) ? value : raw;
}

/** A list typed as "a, b c" (commas, spaces or lines). */
export function list(raw: string): string[] {
  return raw
    .normalize('NFKC')
    .split(/[\s,、]+/u)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Drops undefined properties (exactOptionalPropertyTypes, and schemas that refuse explicit undefined). */
export function defined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// ---------------------------------------------------------------------------------------------
// Problems in the user's language

const zodLocales: Record<Lang, () => { localeError: z.core.$ZodErrorMap }> = {
  ja: () => z.locales.ja(),
  en: () => z.locales.en(),
};
const errorMaps = new Map<Lang, z.core.$ZodErrorMap>();

/** Parse options that phrase zod's own messages in the user's language. */
export function zodLang(lang: Lang): { error: z.core.$ZodErrorMap } {
  let map = errorMaps.get(lang);
  if (map === undefined) {
    map = zodLocales[lang]().localeError;
    errorMaps.set(lang, map);
  }
  return { error: map };
}

/** Validates with the shared schema, messages in the user's language; paths as the configuration writes them. */
export function validate<S extends z.ZodType>(
  schema: S,
  input: unknown,
  lang: Lang,
): { ok: true; data: z.output<S> } | { ok: false; problems: Problem[] } {
  const parsed = schema.safeParse(input, zodLang(lang));
  if (parsed.success) return { ok: true, data: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => ({
      path: formatPath(issue.path),
      message: localizeMessage(lang, issue.message),
    })),
  };
}

type Rewrite = readonly [RegExp, string];

/** Japanese for the messages the rules and the repositories write in English (they are stable texts). */
const JA_MESSAGES: readonly Rewrite[] = [
  [
    /^use 1–64 lower-case letters, digits, "-" or "_", starting with a letter or digit$/u,
    'ID は英小文字・数字・「-」「_」の 1〜64 文字で、英小文字か数字で始めてください',
  ],
  [/^no watch has the id "(.+)"$/u, 'ID「$1」のウォッチはありません'],
  [/^use a language code such as "ja" or "en"$/u, '「ja」「en」のような言語コードを入力してください'],
  [
    /^an IANA time zone such as "Asia\/Tokyo" or "UTC"$/u,
    '「Asia/Tokyo」や「UTC」のような IANA のタイムゾーン名を入力してください',
  ],
  [/^duplicate id "(.+)" \(also (.+)\)$/u, 'ID「$1」が重複しています（$2 と同じ）'],
  [
    /^this watch needs (\d+) characters as an X query; X allows (\d+)\..*$/u,
    'このウォッチは X の検索クエリにすると $1 文字になります（X の上限は $2 文字）。いくつかのウォッチに分けるか、短くしてください',
  ],
  [
    /^minFollowers \((\d+)\) is larger than maxFollowers \((\d+)\)$/u,
    'フォロワー数の下限（$1）が上限（$2）より大きくなっています',
  ],
  [
    /^unknown platform "(.*)" \(use .*\)$/u,
    '不明なプラットフォーム「$1」です（x・mastodon・bluesky のどれかを「x:handle」のように書いてください）',
  ],
  [
    /^the configuration changed meanwhile: expected version (\d+), the current one is (\d+)$/u,
    'その間に設定が変更されました（想定したバージョン $1、現在のバージョン $2）。読み込み直してからもう一度保存してください',
  ],
  [/^no (?:watch|template|escalation rule) has the id "(.+)"$/u, 'ID「$1」の項目はありません'],
  [/^a Discord id \(digits only\)$/u, 'Discord の ID（数字のみ）を入力してください'],
  [/^a domain such as "mstdn\.jp"$/u, '「mstdn.jp」のようなドメインを入力してください'],
  [/^an http\(s\) URL$/u, 'http(s) の URL を入力してください'],
  [
    /^at most (\d+) (.+) in a configuration \(kikimimi's limit\)$/u,
    '設定に入れられる数の上限（$1）を超えています: $2（kikimimi の上限）',
  ],
  [
    /^these watches need (\d+) X search queries; an account polls at most (\d+).*$/u,
    'これらのウォッチは X の検索クエリが $1 個必要です（1 アカウントの上限は $2 個）。ウォッチをまとめるか無効にするか、クエリを短くしてください',
  ],
  [
    /^these watches need (\d+) Mastodon hashtag timelines; an account follows at most (\d+).*$/u,
    'これらのウォッチは Mastodon のハッシュタグを $1 個たどる必要があります（1 アカウントの上限は $2 個）。単語ひとつの条件はハッシュタグになるため、フレーズ（"…"）にするか、ウォッチを X のみに限定してください',
  ],
  [
    /^these watches need (\d+) Bluesky searches; an account polls at most (\d+).*$/u,
    'これらのウォッチは Bluesky の検索が $1 個必要です（1 アカウントの上限は $2 個）。Bluesky の検索には OR がないため、ウォッチの「OR」の選択肢ごとに検索がひとつ増えます。選択肢を減らすか、ウォッチを X と Mastodon のみに限定してください',
  ],
];

/** Rows per page of a configuration list (watches, templates, escalation rules). */
export const LIST_PAGE_SIZE = 100;

/**
 * The `?page=` (1-based) slice of a list and the links to the pages before and after it, keeping the
 * request's other query parameters (filters): a page never renders thousands of rows.
 */
export function listPageOf<T>(c: C, items: readonly T[]) {
  const pages = Math.max(1, Math.ceil(items.length / LIST_PAGE_SIZE));
  const asked = Number(c.req.query('page') ?? '1');
  const page = Number.isInteger(asked) ? Math.min(Math.max(asked, 1), pages) : 1;
  const shown = items.slice((page - 1) * LIST_PAGE_SIZE, page * LIST_PAGE_SIZE);
  const url = new URL(c.req.url);
  const to = (n: number) => {
    const params = new URLSearchParams(url.search);
    params.set('page', String(n));
    return `${url.pathname}?${params}`;
  };
  const nav =
    pages === 1
      ? ''
      : html`<p class="pager">${page > 1 ? html`<a href="${to(page - 1)}" rel="prev">${t(c, 'config.page.prev')}</a> ` : ''}${t(c, 'config.page.of', { page, pages, count: items.length })}${page < pages ? html` <a href="${to(page + 1)}" rel="next">${t(c, 'config.page.next')}</a>` : ''}</p>`;
  return { items: shown, nav };
}

/** A message from the rules or the repositories, in Japanese when we know its Japanese; as is otherwise. */
export function localizeMessage(lang: Lang, message: string): string {
  if (lang === 'en') return message;
  for (const [pattern, replacement] of JA_MESSAGES) {
    if (pattern.test(message)) return message.replace(pattern, replacement);
  }
  return message;
}

export function localizeProblems(lang: Lang, problems: ConfigProblemList | readonly Problem[]): Problem[] {
  return problems.map((p) => ({ ...p, message: localizeMessage(lang, p.message) }));
}

/** The value at a problem path (`templates[0].text`) of a document, if it is a string. */
function textAt(document: unknown, path: string): string | undefined {
  let value = document;
  for (const [, key, index] of path.matchAll(/([^.[\]]+)|\[(\d+)\]/gu)) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[index ?? key ?? ''];
  }
  return typeof value === 'string' ? value : undefined;
}

/**
 * The problems of a whole configuration document (`loadConfig`), in the user's language: query and
 * template problems from their code, with the text they point at; the rest as {@link localizeMessage}.
 */
export function localizeConfigProblems(
  lang: Lang,
  problems: readonly ConfigProblem[],
  document: unknown,
): Problem[] {
  return problems.map((p): Problem => {
    const base = { path: p.path, ...(p.offset === undefined ? {} : { offset: p.offset }) };
    if (lang === 'en' || p.code === undefined || p.offset === undefined)
      return { ...base, message: localizeMessage(lang, p.message) };
    const source = textAt(document, p.path) ?? '';
    if (p.code.kind === 'query') {
      const error = {
        code: p.code.code as QueryErrorCode,
        message: p.message,
        offset: p.offset,
        length: p.code.length,
      };
      return { ...base, message: `${jaQueryMessage(error, source)}` };
    }
    const problem = { code: p.code.code, message: p.message, offset: p.offset, length: p.code.length };
    const [localized] = templateProblems(lang, p.path, source, [problem as TemplateProblem]);
    return { ...base, message: localized?.message ?? p.message };
  });
}

/** What the parser said, said in Japanese: the message for its code, the text it points at, its hint. */
function jaQueryMessage(
  error: { code: QueryErrorCode; message: string; offset: number; length: number },
  query: string,
): string {
  const span = query.slice(error.offset, error.offset + error.length).trim();
  const hint = jaQueryHint(error.message);
  return `${t('ja', `config.query.${error.code}`)}${span === '' ? '' : `「${span}」`}${hint === '' ? '' : `。${hint}`}`;
}

/** The parser's hints (English) in Japanese; what is not known here is left out, never shown in English. */
const JA_QUERY_HINTS: readonly Rewrite[] = [
  [
    /(\w+): needs a value right after the colon, without a space, e\.g\. ([^\s.]+)/u,
    '$1: の直後に空白を入れずに値を書いてください（例: $2）。',
  ],
  [
    /(\w+): needs a value(?: right after the colon)?, e\.g\. ([^\s.]+)/u,
    '$1: の後に値を書いてください（例: $2）。',
  ],
  [/Did you mean (\w+):\?/u, '$1: のことですか？'],
  [/Use (is:\w+) instead/u, '代わりに $1 を使ってください。'],
  [
    /to find posts mentioning an account, use @name/u,
    'アカウントへの言及を探すには @名前 と書いてください。',
  ],
  [/(\w+): is an X operator kikimimi does not support/u, '$1: は X の演算子で、kikimimi では使えません。'],
  [/put it in quotes: (".*")/u, '文字そのものを探すには引用符で囲んでください: $1。'],
];

function jaQueryHint(message: string): string {
  const hints: string[] = [];
  for (const [pattern, replacement] of JA_QUERY_HINTS) {
    const match = pattern.exec(message);
    if (match) hints.push(match[0].replace(pattern, replacement));
  }
  return hints.join('');
}

/** "line 2, column 5" of a UTF-16 offset, 1-based. */
export function position(lang: Lang, source: string, offset: number): string {
  const before = source.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return t(lang, 'config.position', { line, column, offset });
}

// ---------------------------------------------------------------------------------------------
// Query syntax

export interface QueryCheckError {
  readonly code: QueryErrorCode;
  /** In the user's language. */
  readonly message: string;
  /** The parser's own explanation (English) when `message` is a translation of it. */
  readonly detail?: string;
  readonly offset: number;
  readonly length: number;
}

export type QueryCheck = { ok: true; ast: QueryNode } | { ok: false; error: QueryCheckError };

/** Parses a query; a syntax error comes with its code, position and a message in the user's language. */
export function checkQuery(lang: Lang, query: string): QueryCheck {
  const parsed = tryParseQuery(query);
  if (parsed.ok) return { ok: true, ast: parsed.ast };
  const { code, offset, length, message } = parsed.error;
  if (lang === 'en') return { ok: false, error: { code, message, offset, length } };
  const hint = jaQueryHint(message);
  return {
    ok: false,
    error: {
      code,
      message: t(lang, `config.query.${code}`),
      ...(hint === '' ? {} : { detail: hint }),
      offset,
      length,
    },
  };
}

/** A query problem as a form shows it: the message, then where. */
export function queryProblem(lang: Lang, path: string, query: string, error: QueryCheckError): Problem {
  const where = position(lang, query, error.offset);
  const message = `${error.message} (${where})${error.detail ? ` — ${error.detail}` : ''}`;
  return { path, message, offset: error.offset, length: error.length };
}

/** The text with the problem span marked, for showing under a field. */
export function markedExcerpt(source: string, offset: number, length: number) {
  const start = Math.max(0, Math.min(offset, source.length));
  const end = Math.min(source.length, start + Math.max(length, 0));
  const lineStart = source.lastIndexOf('\n', start - 1) + 1;
  const lineEnd = source.indexOf('\n', end) === -1 ? source.length : source.indexOf('\n', end);
  const marked = source.slice(start, end);
  return html`<pre class="excerpt">${source.slice(lineStart, start)}<mark>${marked === '' ? '\u2038' : marked}</mark>${source.slice(end, lineEnd)}</pre>`;
}

/** Template problems in the user's language, with where they are. */
export function templateProblems(
  lang: Lang,
  path: string,
  source: string,
  problems: readonly TemplateProblem[],
) {
  return problems.map((p): Problem => {
    const where = position(lang, source, p.offset);
    const message = lang === 'en' ? p.message : jaTemplateMessage(p, source);
    return { path, message: `${message} (${where})`, offset: p.offset, length: p.length };
  });
}

/** A template problem in Japanese: the message for its code, the text it points at, the suggestion. */
function jaTemplateMessage(
  p: Pick<TemplateProblem, 'code' | 'message' | 'offset' | 'length'>,
  source: string,
) {
  const span = source.slice(p.offset, p.offset + p.length);
  const suggestion = /did you mean (\{[^}]+\})\?/u.exec(p.message)?.[1];
  const variable = /no variable "([^"]+)" is defined/u.exec(p.message)?.[1];
  return `${t('ja', `config.template.${p.code}`)}${span === '' ? '' : `「${span}」`}${
    suggestion === undefined ? '' : `。${suggestion} のことですか？`
  }${variable === undefined ? '' : `。変数「${variable}」は定義されていません`}`;
}

// ---------------------------------------------------------------------------------------------
// Showing problems

/**
 * Problems by form field. `fields` maps a problem path (after `prefix` is removed) to the field it belongs
 * to; a path not belonging to any field stays in `general`, shown above the form with its full path.
 */
export function toFieldErrors(
  problems: readonly Problem[],
  fieldOf: (path: string) => string | undefined,
): { errors: FieldErrors; general: Problem[] } {
  const errors: Record<string, string> = {};
  const general: Problem[] = [];
  for (const problem of problems) {
    const field = fieldOf(problem.path);
    if (field === undefined) {
      general.push(problem);
      continue;
    }
    errors[field] = errors[field] === undefined ? problem.message : `${errors[field]} / ${problem.message}`;
  }
  return { errors, general };
}

/** Path relative to an item of a list (`watches[3].query` → `query` when the item is at 3). */
export function relativeTo(prefix: string): (path: string) => string | undefined {
  return (path) =>
    path === prefix ? '(root)' : path.startsWith(`${prefix}.`) ? path.slice(prefix.length + 1) : undefined;
}

/** The summary above a form: every problem, with its path. */
export function problemSummary(c: C, problems: readonly Problem[], total = problems.length) {
  if (total === 0) return '';
  return html`<div class="flash error" role="alert" id="problems">
    <strong>${t(c, 'config.problems', { count: total })}</strong>
    ${
      problems.length > 0
        ? html`<ul class="problems">
            ${problems.map(
              (p) =>
                html`<li><code>${p.path}</code>: ${p.message}${p.offset === undefined ? '' : html` <span class="muted">(${t(c, 'config.offset', { offset: p.offset })})</span>`}</li>`,
            )}
          </ul>`
        : ''
    }
  </div>`;
}

// ---------------------------------------------------------------------------------------------
// Small things every page uses

/** A date in the organisation's time zone, named ("2026-11-24 17:30:05 Asia/Tokyo"); UTC without a request. */
export function when(c: C | Lang, date: Date | null | undefined): string {
  if (date === null || date === undefined) return '—';
  const timeZone = typeof c === 'string' ? 'UTC' : c.get('timeZone');
  return `${clockText(date, timeZone, true)} ${timeZone}`;
}

const DONE = new Set([
  'saved',
  'created',
  'deleted',
  'imported',
  'connected',
  'disconnected',
  'enabled',
  'disabled',
]);

/** The confirmation after a redirect (`?done=saved&v=12`): only known keys, so a link cannot write text. */
export function doneFlash(c: C): { kind: 'ok'; text: string } | undefined {
  const done = c.req.query('done');
  if (done === undefined || !DONE.has(done)) return undefined;
  const version = Number(c.req.query('v'));
  const base = t(c, `config.done.${done}`);
  return {
    kind: 'ok',
    text:
      Number.isInteger(version) && version > 0 ? `${base} ${t(c, 'config.done.version', { version })}` : base,
  };
}

/** Where to go after a change: the page, with the confirmation key and the new configuration version. */
export function doneUrl(path: string, done: string, version?: number): string {
  const url = new URL(path, 'http://x');
  url.searchParams.set('done', done);
  if (version !== undefined) url.searchParams.set('v', String(version));
  return `${url.pathname}${url.search}${url.hash}`;
}

/** Extra styles of the configuration pages (the layout's are the base), with this response's CSP nonce. */
export const configStyle = (c: C) => html`<style nonce="${c.get('nonce')}">
.problems{margin:.3rem 0 0 1.2rem;padding:0}.excerpt{background:#fff7f7;border:1px solid #f3c7c2;padding:.3rem .5rem;white-space:pre-wrap;margin:.2rem 0}
.excerpt mark{background:#fda29b;color:inherit}fieldset{border:0;padding:0;margin:0}.row{display:flex;gap:.6rem;flex-wrap:wrap;align-items:flex-start}
.row>div{flex:1 1 12rem}.checks label{display:inline-block;font-weight:400;margin-right:1rem}.hint{color:var(--muted);font-size:.88rem;margin:.15rem 0}
.counter{font-variant-numeric:tabular-nums}.counter.over{color:var(--bad);font-weight:600}pre.preview{white-space:pre-wrap;background:#f7f8fa;padding:.5rem;border:1px solid var(--line)}
td code,li code{word-break:break-all}.actions form{display:inline}.actions{white-space:nowrap}.badge.on{background:#dcfae6}.badge.off{background:#fee4e2}
details>summary{cursor:pointer;margin:.5rem 0}.filters a{margin-right:.6rem}.filters a.active{font-weight:700}
</style>`;
