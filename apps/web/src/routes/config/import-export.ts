import { type Config, loadConfig } from '@kikimimi/rules';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { requireRole, requireUser } from '../../auth/middleware.ts';
import type { AppEnv } from '../../context.ts';
import { t } from '../../i18n.ts';
import { atLeast, csrfField, page } from '../../layout.ts';
import { unboundRolesInDocument } from './mention-roles.ts';
import {
  actorOf,
  type C,
  configStyle,
  depsOf,
  doneFlash,
  doneUrl,
  localizeConfigProblems,
  localizeProblems,
  type Problem,
  position,
  problemSummary,
  publishChange,
  readForm,
  userOf,
  when,
  zodLang,
} from './shared.ts';

/** Largest configuration accepted by an import (a generous bound: 1,000 watches take about 200 KB). */
export const MAX_IMPORT_BYTES = 2 * 1024 * 1024;
/** Versions listed in the history. */
const HISTORY = 50;

/** The configuration as `kikimimi dry-run --config` reads it (and as an import takes it back). */
export function exportDocument(config: Config): string {
  return `${JSON.stringify(config, null, 2)}\n`;
}

export function download(c: C, config: Config, version: number): Response {
  c.header('Content-Type', 'application/json; charset=utf-8');
  c.header('Content-Disposition', `attachment; filename="kikimimi-config-v${version}.json"`);
  c.header('Cache-Control', 'no-store');
  return c.body(exportDocument(config));
}

/** What JSON.parse says (V8's English), in Japanese; undefined for a message not known here. */
const JA_JSON_ERRORS: readonly (readonly [RegExp, (m: RegExpExecArray) => string])[] = [
  [/^Unexpected end of JSON input/u, () => '途中で終わっています（括弧や引用符が閉じていません）'],
  [/^Unexpected token '(.+?)'/u, (m) => `「${m[1]}」はここには書けません`],
  [/^Unexpected non-whitespace character after JSON/u, () => 'JSON の終わりの後に余分な文字があります'],
  [/^Expected property name or '\}'/u, () => 'プロパティ名（"…" で囲んだ名前）か「}」が必要です'],
  [/^Expected ',' or '\}' after property value/u, () => '値の後には「,」か「}」が必要です'],
  [/^Expected ',' or '\]' after array element/u, () => '配列の要素の後には「,」か「]」が必要です'],
  [/^Expected ':' after property name/u, () => 'プロパティ名の後には「:」が必要です'],
  [/^Expected double-quoted property name/u, () => 'プロパティ名は "…" で囲んでください'],
  [/^Unterminated string/u, () => '文字列の引用符が閉じていません'],
  [/^Bad control character in string literal/u, () => '文字列に制御文字（改行など）がそのまま入っています'],
  [/^Bad escaped character/u, () => '文字列のエスケープ（\\ の後）が正しくありません'],
  [
    /^Exponent part is missing a number|^No number after minus sign|^Unterminated fractional number/u,
    () => '数値が正しくありません',
  ],
];

/** Parses an uploaded or pasted document: the value, or the JSON syntax problem (with its position when known). */
export function parseDocument(
  c: C,
  textValue: string,
): { ok: true; value: unknown } | { ok: false; problem: Problem } {
  try {
    return { ok: true, value: JSON.parse(textValue) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const at = /position (\d+)/u.exec(message);
    const offset = at ? Number(at[1]) : undefined;
    let detail = message;
    if (c.get('lang') === 'ja') {
      const known = JA_JSON_ERRORS.map(([pattern, say]) => {
        const m = pattern.exec(message);
        return m ? say(m) : undefined;
      }).find((said) => said !== undefined);
      const where = offset === undefined ? '' : `（${position('ja', textValue, offset)}）`;
      detail = `${known ?? '構文が正しくありません'}${where}`;
    }
    return {
      ok: false,
      problem: {
        path: '(root)',
        message: t(c, 'config.import.notJson', { detail }),
        ...(offset === undefined ? {} : { offset }),
      },
    };
  }
}

async function renderPage(c: C, state: { problems?: readonly Problem[]; pasted?: string } = {}) {
  const deps = depsOf(c);
  const isAdmin = atLeast(userOf(c).role, 'admin');
  const [current, history] = await Promise.all([
    deps.repos.config.current(),
    deps.repos.config.history(HISTORY),
  ]);
  const flash = doneFlash(c);
  const failed = state.problems !== undefined;
  const body = html`${configStyle(c)}
    <section class="card" id="export">
      <h2>${t(c, 'config.export.title')}</h2>
      <p>${t(c, 'config.export.intro', { version: current.version })}</p>
      <p><a class="button" href="/import-export/export" download>${t(c, 'config.export.download')}</a></p>
      <p class="hint">${t(c, 'config.export.dryRun')}</p>
      <pre class="preview">npx kikimimi dry-run --config kikimimi-config-v${current.version}.json posts.jsonl</pre>
    </section>
    <section class="card" id="import">
      <h2>${t(c, 'config.import.title')}</h2>
      ${failed ? problemSummary(c, state.problems ?? []) : ''}
      ${
        isAdmin
          ? html`<p class="hint">${t(c, 'config.import.intro')}</p>
            <form method="post" action="/import-export/import" enctype="multipart/form-data" novalidate>
              ${csrfField(c)}
              <label for="f-file">${t(c, 'config.import.file')}</label>
              <input type="file" id="f-file" name="file" accept="application/json,.json">
              <label for="f-json">${t(c, 'config.import.paste')}</label>
              <textarea id="f-json" name="json" rows="10" spellcheck="false">${state.pasted ?? ''}</textarea>
              <p><button type="submit">${t(c, 'config.import.button')}</button></p>
            </form>`
          : html`<p class="muted">${t(c, 'config.adminOnly')}</p>`
      }
    </section>
    <section class="card" id="history">
      <h2>${t(c, 'config.history.title')}</h2>
      ${
        history.length === 0
          ? html`<p class="muted">${t(c, 'config.history.none')}</p>`
          : html`<table><thead><tr><th>${t(c, 'config.history.version')}</th><th>${t(c, 'config.history.when')}</th><th>${t(c, 'config.history.who')}</th><th>${t(c, 'config.history.contents')}</th><th></th></tr></thead>
            <tbody>${history.map(
              (v) => html`<tr>
                <td>${v.version}${v.version === current.version ? html` <span class="badge on">${t(c, 'config.history.current')}</span>` : ''}</td>
                <td>${when(c, v.createdAt)}</td>
                <td>${v.actor.name} <span class="muted">(${v.actor.kind})</span></td>
                <td>${t(c, 'config.history.counts', { watches: v.config.watches.length, templates: v.config.templates.length, escalation: v.config.escalation.length })}</td>
                <td><a href="/import-export/versions/${v.version}">${t(c, 'config.history.download')}</a></td>
              </tr>`,
            )}</tbody></table>`
      }
    </section>`;
  return page(c, {
    title: t(c, 'nav.importExport'),
    body,
    active: 'importExport',
    status: failed ? 422 : 200,
    ...(flash && !failed ? { flash } : {}),
  });
}

export function registerImportExportRoutes(app: Hono<AppEnv>): void {
  app.get('/import-export', requireUser, (c) => renderPage(c));

  app.get('/import-export/export', requireUser, async (c) => {
    const { version, config } = await depsOf(c).repos.config.current();
    return download(c, config, version);
  });

  app.get('/import-export/versions/:version', requireUser, async (c) => {
    const saved = await depsOf(c).repos.config.version(Number(c.req.param('version')));
    if (saved === null)
      return page(c, {
        title: t(c, 'config.notFound'),
        body: html`<p>${t(c, 'config.history.notFound')}</p>`,
        active: 'importExport',
        status: 404,
      });
    return download(c, saved.config, saved.version);
  });

  // The app's body limit (MAX_BODY_BYTES) bounds the upload before it is read; the document is checked below.
  app.post('/import-export/import', requireRole('admin'), async (c) => {
    const lang = c.get('lang');
    const body = await readForm(c);
    const file = body.file;
    const upload = file instanceof File && file.size > 0 ? file : undefined;
    const pasted = typeof body.json === 'string' ? body.json : '';
    if (upload !== undefined && upload.size > MAX_IMPORT_BYTES) {
      return renderPage(c, {
        problems: [
          {
            path: '(root)',
            message: t(c, 'config.import.tooLarge', { mb: MAX_IMPORT_BYTES / 1024 / 1024 }),
          },
        ],
      });
    }
    const source = upload !== undefined ? await upload.text() : pasted;
    const keep = upload === undefined && pasted.length <= MAX_IMPORT_BYTES ? pasted : '';
    if (source.trim() === '')
      return renderPage(c, {
        problems: [{ path: '(root)', message: t(c, 'config.import.empty') }],
        pasted: keep,
      });
    if (source.length > MAX_IMPORT_BYTES) {
      return renderPage(c, {
        problems: [
          {
            path: '(root)',
            message: t(c, 'config.import.tooLarge', { mb: MAX_IMPORT_BYTES / 1024 / 1024 }),
          },
        ],
      });
    }
    const parsed = parseDocument(c, source);
    if (!parsed.ok) return renderPage(c, { problems: [parsed.problem], pasted: keep });
    // Checked here first to say every problem at once in the user's language (the schema, queries,
    // placeholders, references and unbound Discord roles together); the repository checks again.
    const loaded = loadConfig(parsed.value, zodLang(lang));
    const unbound = await unboundRolesInDocument(c, parsed.value);
    const problems = [
      ...(loaded.ok ? [] : localizeConfigProblems(lang, loaded.problems, parsed.value)),
      ...unbound,
    ];
    if (problems.length > 0) return renderPage(c, { problems, pasted: keep });
    const result = await depsOf(c).repos.config.replace(parsed.value, actorOf(c));
    if (!result.ok) return renderPage(c, { problems: localizeProblems(lang, result.problems), pasted: keep });
    await publishChange(c, 'import');
    return c.redirect(doneUrl('/import-export', 'imported', result.version), 303);
  });
}
