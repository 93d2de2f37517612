import { PLATFORMS, type Suppression, suppressionSchema } from '@kikimimi/rules';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { requireRole, requireUser } from '../../auth/middleware.ts';
import type { AppEnv } from '../../context.ts';
import { t } from '../../i18n.ts';
import { atLeast, csrfField, type FieldErrors, page } from '../../layout.ts';
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
  text,
  toFieldErrors,
  userOf,
  validate,
} from './shared.ts';
import { checkbox, field, textArea, textInput } from './ui.ts';

/** The suppression form as typed: account lists one a line. */
export interface SuppressionForm {
  readonly ownAccounts: string;
  readonly doNotContact: string;
  readonly ignoreReposts: boolean;
  readonly maxAgeHours: string;
  readonly authorCooldownHours: string;
  readonly linkHandlesAcrossPlatforms: boolean;
  readonly linkedAuthors: string;
  readonly dailyReplyCap: Readonly<Record<string, string>>;
}

const ref = (a: { platform: string; handle: string }) => `${a.platform}:${a.handle}`;

export function formOf(s: Suppression): SuppressionForm {
  return {
    ownAccounts: s.ownAccounts.map(ref).join('\n'),
    doNotContact: s.doNotContact.map((a) => (a.note ? `${ref(a)} ${a.note}` : ref(a))).join('\n'),
    ignoreReposts: s.ignoreReposts,
    maxAgeHours: String(s.maxAgeHours),
    authorCooldownHours: String(s.authorCooldownHours),
    linkHandlesAcrossPlatforms: s.linkHandlesAcrossPlatforms,
    linkedAuthors: s.linkedAuthors.map((group) => group.join(' ')).join('\n'),
    dailyReplyCap: Object.fromEntries(
      PLATFORMS.map((p) => [p, s.dailyReplyCap[p] === undefined ? '' : String(s.dailyReplyCap[p])]),
    ),
  };
}

function readSuppressionForm(body: FormBody): SuppressionForm {
  return {
    ownAccounts: text(body, 'ownAccounts'),
    doNotContact: text(body, 'doNotContact'),
    ignoreReposts: checked(body, 'ignoreReposts'),
    maxAgeHours: text(body, 'maxAgeHours').trim(),
    authorCooldownHours: text(body, 'authorCooldownHours').trim(),
    linkHandlesAcrossPlatforms: checked(body, 'linkHandlesAcrossPlatforms'),
    linkedAuthors: text(body, 'linkedAuthors'),
    dailyReplyCap: Object.fromEntries(PLATFORMS.map((p) => [p, text(body, `dailyReplyCap.${p}`).trim()])),
  };
}

/** Non-blank lines with their 1-based line numbers. */
function lines(raw: string): Array<{ line: number; text: string }> {
  return raw
    .split('\n')
    .map((value, i) => ({ line: i + 1, text: value.trim() }))
    .filter((l) => l.text !== '');
}

/** `platform:handle rest…` → parts; the platform is checked by the schema. */
function splitRef(line: string): { platform: string; handle: string; rest: string } | null {
  const colon = line.indexOf(':');
  if (colon <= 0) return null;
  const afterColon = line.slice(colon + 1);
  const space = afterColon.search(/\s/u);
  const handle = (space < 0 ? afterColon : afterColon.slice(0, space)).replace(/^[@＠]/u, '');
  if (handle === '') return null;
  return {
    platform: line.slice(0, colon).trim().toLowerCase(),
    handle,
    rest: space < 0 ? '' : afterColon.slice(space).trim(),
  };
}

interface Parsed {
  readonly input: Record<string, unknown>;
  readonly problems: Problem[];
  /** Line number of each parsed list entry: `ownAccounts[2]` → 5. */
  readonly lineOf: Map<string, number>;
}

/** The form as the suppression schema takes it; lines that are not `platform:handle` are problems of their own. */
export function parseSuppressionForm(c: C, form: SuppressionForm): Parsed {
  const problems: Problem[] = [];
  const lineOf = new Map<string, number>();
  const accounts = (name: 'ownAccounts' | 'doNotContact') => {
    const out: Array<Record<string, string>> = [];
    for (const { line, text: value } of lines(form[name])) {
      const parts = splitRef(value);
      if (parts === null) {
        problems.push({ path: name, message: t(c, 'config.suppression.badLine', { line, text: value }) });
        continue;
      }
      lineOf.set(`${name}[${out.length}]`, line);
      const { platform, handle, rest } = parts;
      out.push(
        name === 'doNotContact' && rest !== '' ? { platform, handle, note: rest } : { platform, handle },
      );
    }
    return out;
  };
  const ownAccounts = accounts('ownAccounts');
  const doNotContact = accounts('doNotContact');
  const linkedAuthors = lines(form.linkedAuthors).map(({ line, text: value }, i) => {
    lineOf.set(`linkedAuthors[${i}]`, line);
    return value
      .split(/[\s,、]+/u)
      .filter((s) => s !== '')
      .map((s) => s.replace(/^([a-z]+):[@＠]/iu, '$1:'));
  });
  const dailyReplyCap: Record<string, unknown> = {};
  for (const p of PLATFORMS) {
    const value = num(form.dailyReplyCap, p);
    if (value !== undefined) dailyReplyCap[p] = value;
  }
  const input = defined({
    ownAccounts,
    doNotContact,
    ignoreReposts: form.ignoreReposts,
    maxAgeHours: num({ v: form.maxAgeHours }, 'v'),
    authorCooldownHours: num({ v: form.authorCooldownHours }, 'v'),
    linkHandlesAcrossPlatforms: form.linkHandlesAcrossPlatforms,
    linkedAuthors,
    dailyReplyCap,
  });
  return { input, problems, lineOf };
}

/** `ownAccounts[2].platform` → field `ownAccounts`, message prefixed with its line. */
function locate(c: C, parsed: Parsed, problem: Problem): Problem {
  const path = problem.path.replace(/^suppression\./u, '');
  const match = /^(ownAccounts|doNotContact|linkedAuthors)\[(\d+)\]/u.exec(path);
  if (match) {
    const line = parsed.lineOf.get(`${match[1]}[${match[2]}]`);
    return {
      path: match[1] as string,
      message:
        line === undefined
          ? problem.message
          : t(c, 'config.suppression.onLine', { line, message: problem.message }),
    };
  }
  const cap = /^dailyReplyCap\.(\w+)/u.exec(path);
  if (cap) return { path: `dailyReplyCap.${cap[1]}`, message: problem.message };
  return { path, message: problem.message };
}

const FIELDS = new Set([
  'ownAccounts',
  'doNotContact',
  'ignoreReposts',
  'maxAgeHours',
  'authorCooldownHours',
  'linkHandlesAcrossPlatforms',
  'linkedAuthors',
  ...PLATFORMS.map((p) => `dailyReplyCap.${p}`),
]);

interface PageState {
  readonly form: SuppressionForm;
  readonly errors?: FieldErrors;
  readonly general?: readonly Problem[];
  readonly problemCount?: number;
  readonly status?: 200 | 422;
}

function renderPage(c: C, state: PageState) {
  const canEdit = atLeast(userOf(c).role, 'editor');
  const { form, errors } = state;
  const flash = doneFlash(c);
  const body = html`${configStyle(c)}
    <p class="hint">${t(c, 'config.suppression.intro')}</p>
    ${problemSummary(c, state.general ?? [], state.problemCount ?? 0)}
    <form method="post" action="/suppression" class="card" novalidate>
      ${csrfField(c)}
      <fieldset${canEdit ? '' : html` disabled`}>
        ${field({ path: 'ownAccounts', label: t(c, 'config.suppression.ownAccounts'), errors, hint: t(c, 'config.suppression.ownAccountsHint'), control: textArea({ path: 'ownAccounts', value: form.ownAccounts, errors, rows: 4 }) })}
        ${field({ path: 'doNotContact', label: t(c, 'config.suppression.doNotContact'), errors, hint: t(c, 'config.suppression.doNotContactHint'), control: textArea({ path: 'doNotContact', value: form.doNotContact, errors, rows: 5 }) })}
        ${checkbox({ path: 'ignoreReposts', label: t(c, 'config.suppression.ignoreReposts'), checked: form.ignoreReposts })}
        <div class="row">
          <div>${field({ path: 'maxAgeHours', label: t(c, 'config.suppression.maxAgeHours'), errors, hint: t(c, 'config.suppression.zeroDisables'), control: textInput({ path: 'maxAgeHours', type: 'number', min: 0, value: form.maxAgeHours, errors }) })}</div>
          <div>${field({ path: 'authorCooldownHours', label: t(c, 'config.suppression.authorCooldownHours'), errors, hint: t(c, 'config.suppression.zeroDisables'), control: textInput({ path: 'authorCooldownHours', type: 'number', min: 0, value: form.authorCooldownHours, errors }) })}</div>
        </div>
        ${checkbox({ path: 'linkHandlesAcrossPlatforms', label: t(c, 'config.suppression.linkHandles'), checked: form.linkHandlesAcrossPlatforms })}
        ${field({ path: 'linkedAuthors', label: t(c, 'config.suppression.linkedAuthors'), errors, hint: t(c, 'config.suppression.linkedAuthorsHint'), control: textArea({ path: 'linkedAuthors', value: form.linkedAuthors, errors, rows: 3 }) })}
        <h2>${t(c, 'config.suppression.dailyReplyCap')}</h2>
        <p class="hint">${t(c, 'config.suppression.dailyReplyCapHint')}</p>
        <div class="row">${PLATFORMS.map(
          (p) =>
            html`<div>${field({ path: `dailyReplyCap.${p}`, label: t(c, `config.platform.${p}`), errors, control: textInput({ path: `dailyReplyCap.${p}`, type: 'number', min: 0, value: form.dailyReplyCap[p] ?? '', errors }) })}</div>`,
        )}</div>
        ${canEdit ? html`<p><button type="submit">${t(c, 'config.save')}</button></p>` : ''}
      </fieldset>
    </form>`;
  return page(c, {
    title: t(c, 'nav.suppression'),
    body,
    active: 'suppression',
    status: state.status ?? 200,
    ...(flash && (state.status ?? 200) === 200 ? { flash } : {}),
  });
}

export function registerSuppressionRoutes(app: Hono<AppEnv>): void {
  app.get('/suppression', requireUser, async (c) => {
    const { config } = await depsOf(c).repos.config.current();
    return renderPage(c, { form: formOf(config.suppression) });
  });

  app.post('/suppression', requireRole('editor'), async (c) => {
    const lang = c.get('lang');
    const form = readSuppressionForm(await readForm(c));
    const parsed = parseSuppressionForm(c, form);
    const problems = [...parsed.problems];
    const validated = validate(suppressionSchema, parsed.input, lang);
    if (!validated.ok) problems.push(...validated.problems.map((p) => locate(c, parsed, p)));
    if (problems.length === 0) {
      const result = await depsOf(c).repos.config.setSuppression(parsed.input, actorOf(c));
      if (result.ok) {
        await publishChange(c, 'suppression');
        return c.redirect(doneUrl('/suppression', 'saved', result.version), 303);
      }
      problems.push(...localizeProblems(lang, result.problems).map((p) => locate(c, parsed, p)));
    }
    const { errors, general } = toFieldErrors(problems, (path) => (FIELDS.has(path) ? path : undefined));
    return renderPage(c, { form, errors, general, problemCount: problems.length, status: 422 });
  });
}
